using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FinCore.Silo;

/// <summary>Grain calls by grain type and outcome, and their latency (meter <c>FinCore.Silo</c>): Orleans' own meters
/// count requests and their latency for the whole silo only. Counted for every call this silo runs; no allocation per
/// call (the tag values are cached per grain type).</summary>
internal sealed class GrainCallMetrics : IIncomingGrainCallFilter
{
    private static readonly Meter Meter = new("FinCore.Silo");
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("fincore.grain.calls", description: "Grain calls by grain type and outcome");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("fincore.grain.call.duration", "ms", "Grain call latency by grain type");
    private static readonly ConcurrentDictionary<GrainType, string> TypeNames = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var type = TypeNames.GetOrAdd(context.TargetId.Type, static t => t.ToString()!);
        var outcome = "ok";
        try
        {
            await context.Invoke();
        }
        catch
        {
            outcome = "error";
            throw;
        }
        finally
        {
            Calls.Add(1, new KeyValuePair<string, object?>("grain_type", type), new KeyValuePair<string, object?>("outcome", outcome));
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("grain_type", type));
        }
    }
}
