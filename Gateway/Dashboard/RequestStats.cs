namespace FinCore.Gateway.Dashboard;

/// <summary>This gateway's API requests since it started, for the dashboard: how many, how many answered 5xx, and a
/// latency histogram (<see cref="Bounds"/>, ms). Fed by the HTTP telemetry middleware with every request except the
/// operators' own (health, metrics, dashboard); lock-free. Rates and percentiles come from differences between two
/// readings (<see cref="DashboardSampler"/>).</summary>
internal sealed class RequestStats
{
    /// <summary>Upper bounds of the latency buckets in ms; the last is +Inf.</summary>
    public static readonly double[] Bounds = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, double.PositiveInfinity];

    private static readonly string[] Ignored = ["/metrics", "/admin/v1/dashboard", "/dashboard", "/health/live", "/health/ready"];

    private readonly long[] _buckets = new long[Bounds.Length];
    private long _count;
    private long _errors;

    public void Record(string route, int status, double ms)
    {
        if (Array.IndexOf(Ignored, route) >= 0)
        {
            return;
        }

        var i = 0;
        while (ms > Bounds[i])
        {
            i++;
        }

        Interlocked.Increment(ref _buckets[i]);
        Interlocked.Increment(ref _count);
        if (status >= 500)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    /// <summary>The totals so far (read bucket by bucket: a request recorded meanwhile may show in some and not others).</summary>
    public (long Count, long Errors, long[] Buckets) Read()
    {
        var buckets = new long[_buckets.Length];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = Interlocked.Read(ref _buckets[i]);
        }

        return (Interlocked.Read(ref _count), Interlocked.Read(ref _errors), buckets);
    }
}
