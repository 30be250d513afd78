namespace FinCore.LoadGen.Plans;

/// <summary>The shape of one phase of a load plan.</summary>
public enum PhaseKind
{
    /// <summary>A constant arrival rate.</summary>
    Constant,

    /// <summary>A rate changing linearly from <see cref="Phase.Rate"/> to <see cref="Phase.EndRate"/>.</summary>
    Ramp,

    /// <summary>No arrivals.</summary>
    Pause,
}

/// <summary>
/// One phase of an open-model plan: arrivals are scheduled at fixed times whatever the server does.
/// <see cref="Until"/> optionally ends the phase early, e.g. "errors&gt;1%" to ramp up to a breaking point.
/// </summary>
public sealed record Phase(string Name, PhaseKind Kind, double Rate, double EndRate, TimeSpan Duration, string? Until = null)
{
    public static Phase Constant(string name, double rate, TimeSpan duration) => new(name, PhaseKind.Constant, rate, rate, duration);

    public static Phase Ramp(string name, double from, double to, TimeSpan duration, string? until = null) =>
        new(name, PhaseKind.Ramp, from, to, duration, until);

    public static Phase Pause(string name, TimeSpan duration) => new(name, PhaseKind.Pause, 0, 0, duration);

    /// <summary>The arrival rate (per second) at <paramref name="offset"/> into the phase.</summary>
    public double RateAt(TimeSpan offset) => Kind switch
    {
        PhaseKind.Pause => 0,
        PhaseKind.Constant => Rate,
        _ => Rate + ((EndRate - Rate) * Math.Clamp(offset / Duration, 0, 1)),
    };

    /// <summary>Arrivals expected in the first <paramref name="offset"/> of the phase (the integral of the rate).</summary>
    public double ArrivalsBy(TimeSpan offset)
    {
        var t = Math.Clamp(offset.TotalSeconds, 0, Duration.TotalSeconds);
        return Kind switch
        {
            PhaseKind.Pause => 0,
            PhaseKind.Constant => Rate * t,
            _ => (Rate * t) + ((EndRate - Rate) * t * t / (2 * Duration.TotalSeconds)),
        };
    }

    /// <summary>
    /// When the <paramref name="n"/>-th arrival (0-based) of this phase is due, or null past its end.
    /// Arrival n is due when the integral of the rate reaches n, so a ramp is exact, not stepped.
    /// </summary>
    public TimeSpan? ArrivalTime(long n)
    {
        var d = Duration.TotalSeconds;
        double t;
        switch (Kind)
        {
            case PhaseKind.Pause:
                return null;
            case PhaseKind.Constant:
                if (Rate <= 0)
                {
                    return null;
                }

                t = n / Rate;
                break;
            default:
                // Solve r0·t + (r1−r0)·t²/(2d) = n for t ≥ 0.
                var a = (EndRate - Rate) / (2 * d);
                if (Math.Abs(a) < 1e-12)
                {
                    if (Rate <= 0)
                    {
                        return null;
                    }

                    t = n / Rate;
                }
                else
                {
                    var disc = (Rate * Rate) + (4 * a * n);
                    if (disc < 0)
                    {
                        return null;
                    }

                    t = (-Rate + Math.Sqrt(disc)) / (2 * a);
                }

                break;
        }

        return t < d ? TimeSpan.FromSeconds(t) : null;
    }

    public string Describe() => Kind switch
    {
        PhaseKind.Pause => $"{Name}: pause {Durations.Format(Duration)}",
        PhaseKind.Constant => $"{Name}: {Rate:0.#}/s for {Durations.Format(Duration)}",
        _ => $"{Name}: ramp {Rate:0.#}→{EndRate:0.#}/s over {Durations.Format(Duration)}" + (Until is null ? "" : $" until {Until}"),
    };
}
