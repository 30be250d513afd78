namespace FinCore.PspSandbox;

/// <summary>How the simulated PSP misbehaves (API.md, <c>PUT /admin/faults</c>).</summary>
internal sealed record Faults
{
    public Latency LatencyMs { get; init; } = new(5, 20);
    public double ErrorRate { get; init; }
    public double TimeoutRate { get; init; }
    public double DeclineRate { get; init; }
    public double AsyncRate { get; init; }
    public bool Outage { get; init; }

    public sealed record Latency(double P50, double P99);

    public string? Validate()
    {
        foreach (var (name, rate) in new[] { ("error_rate", ErrorRate), ("timeout_rate", TimeoutRate), ("decline_rate", DeclineRate), ("async_rate", AsyncRate) })
        {
            if (rate is < 0 or > 1 || double.IsNaN(rate))
            {
                return $"{name} must be between 0 and 1";
            }
        }

        return LatencyMs.P50 < 0 || LatencyMs.P99 < LatencyMs.P50 || LatencyMs.P99 > 60_000 ? "latency_ms needs 0 <= p50 <= p99 <= 60000" : null;
    }

    /// <summary>A latency drawn from a log-normal distribution with the configured median and 99th percentile.</summary>
    public TimeSpan DrawLatency(Random random)
    {
        if (LatencyMs.P50 <= 0)
        {
            return TimeSpan.Zero;
        }

        var mu = Math.Log(LatencyMs.P50);
        var sigma = LatencyMs.P99 <= LatencyMs.P50 ? 0 : (Math.Log(LatencyMs.P99) - mu) / 2.3263478740408408;
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        var normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        return TimeSpan.FromMilliseconds(Math.Min(60_000, Math.Exp(mu + sigma * normal)));
    }
}
