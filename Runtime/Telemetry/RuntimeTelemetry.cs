using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FinCore.Runtime.Activation;

namespace FinCore.Runtime.Telemetry;

/// <summary>
/// The runtime's spans (<see cref="ActivitySource"/> "FinCore.Runtime") and instruments (<see cref="Meter"/>
/// "FinCore.Runtime"): grain calls and their duration, activations per grain type, mailbox depth, reminder lag.
/// Spans cost nothing unless a listener (the OpenTelemetry SDK) is attached.
/// </summary>
public static class RuntimeTelemetry
{
    public static readonly ActivitySource Source = new("FinCore.Runtime");
    public static readonly Meter Meter = new("FinCore.Runtime");

    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("fincore.grain.calls", description: "Grain calls (turns) executed by this silo, by grain type and outcome");
    private static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>("fincore.grain.call.duration", "ms", "Time a grain call's turn took, by grain type");
    private static readonly Counter<long> RemoteCalls = Meter.CreateCounter<long>("fincore.grain.remote_calls", description: "Grain calls sent to another silo, by grain type");
    private static readonly Histogram<double> ReminderLag = Meter.CreateHistogram<double>("fincore.reminder.lag", "ms", "How late reminders fired after their due time");
    private static readonly ConcurrentDictionary<Catalog, byte> Catalogs = new();

    static RuntimeTelemetry()
    {
        Meter.CreateObservableGauge("fincore.activations", ObserveActivations, description: "Grain activations on this silo, by grain type");
        Meter.CreateObservableGauge("fincore.mailbox.depth", ObserveMailboxes, description: "Requests queued in activations' mailboxes (sum and largest)");
        Meter.CreateObservableGauge("fincore.membership.version", ObserveMembershipVersion,
            description: "The membership version this silo's view of the cluster is at: silos that differ have not all seen the last join or departure yet");
    }

    internal static void Register(Catalog catalog) => Catalogs.TryAdd(catalog, 0);

    internal static void Unregister(Catalog catalog) => Catalogs.TryRemove(catalog, out _);

    internal static void CallCompleted(string grainType, bool ok, long startTimestamp)
    {
        if (!Calls.Enabled && !CallDuration.Enabled)
        {
            return;
        }

        var type = new KeyValuePair<string, object?>("grain_type", grainType);
        Calls.Add(1, type, new KeyValuePair<string, object?>("outcome", ok ? "ok" : "error"));
        CallDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, type);
    }

    internal static void RemoteCall(string grainType) => RemoteCalls.Add(1, new KeyValuePair<string, object?>("grain_type", grainType));

    internal static void ReminderFired(double lagMs) => ReminderLag.Record(Math.Max(0, lagMs));

    /// <summary>A client span for a call leaving this process; null (and free) when nobody listens.</summary>
    internal static Activity? StartOutgoingCall(string grainType, string method) =>
        Source.HasListeners() ? Source.StartActivity($"call {grainType}.{method}", ActivityKind.Client)?.SetTag("fincore.grain_type", grainType) : null;

    /// <summary>A server span for a call that arrived with the caller's W3C trace context.</summary>
    internal static Activity? StartIncomingCall(string grainType, string method, string? traceParent) =>
        Source.HasListeners() ? Source.StartActivity($"grain {grainType}.{method}", ActivityKind.Server, traceParent)?.SetTag("fincore.grain_type", grainType) : null;

    private static IEnumerable<Measurement<long>> ObserveActivations()
    {
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var catalog in Catalogs.Keys)
        {
            foreach (var a in catalog.All)
            {
                byType[a.GrainId.Type] = byType.GetValueOrDefault(a.GrainId.Type) + 1;
            }
        }

        foreach (var (type, count) in byType)
        {
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("grain_type", type));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveMembershipVersion()
    {
        foreach (var catalog in Catalogs.Keys)
        {
            yield return new Measurement<long>(catalog.MembershipVersion);
        }
    }

    private static IEnumerable<Measurement<long>> ObserveMailboxes()
    {
        long sum = 0, max = 0;
        foreach (var catalog in Catalogs.Keys)
        {
            foreach (var a in catalog.All)
            {
                var depth = a.QueueLength;
                sum += depth;
                max = Math.Max(max, depth);
            }
        }

        yield return new Measurement<long>(sum, new KeyValuePair<string, object?>("stat", "sum"));
        yield return new Measurement<long>(max, new KeyValuePair<string, object?>("stat", "max"));
    }
}
