namespace FinCore.LoadGen.Plans;

/// <summary>
/// Named plans. Each has a full version and shorter scaled ones (<c>--scale 0.1</c> shortens every phase
/// tenfold, rates unchanged). "Ramp until errors &gt; 1%" phases end the run at the breaking point.
/// </summary>
public static class Profiles
{
    public static readonly IReadOnlyList<string> Names = ["baseline", "soak", "peak", "stress", "seed"];

    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    public static LoadPlan Get(string name) => name.ToLowerInvariant() switch
    {
        // What a quiet day looks like: a steady low rate to compare builds against.
        "baseline" => new([Phase.Constant("baseline", 100, M(5))]),

        // A long steady run to find leaks and slow drift.
        "soak" => new([Phase.Ramp("ramp-up", 50, 500, M(2)), Phase.Constant("soak", 500, M(60))]),

        // A traffic spike and its fall.
        "peak" => new(
        [
            Phase.Constant("normal", 300, M(2)),
            Phase.Ramp("rise", 300, 3000, M(1)),
            Phase.Constant("peak", 3000, M(5)),
            Phase.Ramp("fall", 3000, 300, M(1)),
            Phase.Constant("recovery", 300, M(2)),
        ]),

        // Up until it breaks.
        "stress" => new([Phase.Ramp("to-break", 100, 20_000, M(20), "errors>1%")]),

        // The seed requirement: 100 RPS 10 min → 1,000 RPS 30 min → 3,000 RPS 15 min → ramp until errors > 1%.
        "seed" => new(
        [
            Phase.Constant("seed-100", 100, M(10)),
            Phase.Constant("seed-1000", 1000, M(30)),
            Phase.Constant("seed-3000", 3000, M(15)),
            Phase.Ramp("to-break", 3000, 30_000, M(30), "errors>1%"),
        ]),

        _ => throw new FormatException($"unknown profile '{name}' (one of: {string.Join(", ", Names)})"),
    };
}
