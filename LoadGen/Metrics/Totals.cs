using System.Collections.Concurrent;

namespace FinCore.LoadGen.Metrics;

/// <summary>Figures of a span of the run: the whole measured run, one phase, or one second (then reset and reused).</summary>
internal sealed class Totals
{
    /// <summary>Empty histograms a decoded <see cref="Totals"/> shares (never recorded into).</summary>
    private static readonly Totals Empty = new();

    /// <summary>Empty figures; <paramref name="concurrent"/> false for figures only one thread adds to (merging).</summary>
    public Totals(bool concurrent = true)
        : this(new Latencies(concurrent), new Latencies(concurrent), new Latencies(concurrent))
    {
    }

    private Totals(Latencies latency, Latencies service, Latencies completion)
    {
        Latency = latency;
        Service = service;
        Completion = completion;
    }

    public Latencies Latency { get; }

    public Latencies Service { get; }

    public Latencies Completion { get; }

    public StatusCounter Statuses { get; } = new();

    public ConcurrentDictionary<string, long> FinalStatuses { get; } = new();

    public long Scheduled;
    public long Sent;
    public long Completed;
    public long Errors;
    public long Dropped;
    public long Late;
    public long Accepted;
    public long Incomplete;

    /// <summary>Requests completion tracking made: list pages, and charges read by id.</summary>
    public long TrackingLists;
    public long TrackingReads;

    public void Reset()
    {
        Latency.Reset();
        Service.Reset();
        Completion.Reset();
        Statuses.Clear();
        FinalStatuses.Clear();
        Scheduled = Sent = Completed = Errors = Dropped = Late = Accepted = Incomplete = TrackingLists = TrackingReads = 0;
    }

    public EncodedTotals Encode() => new(
        Volatile.Read(ref Scheduled),
        Volatile.Read(ref Sent),
        Volatile.Read(ref Completed),
        Volatile.Read(ref Errors),
        Volatile.Read(ref Dropped),
        Volatile.Read(ref Late),
        Volatile.Read(ref Accepted),
        Volatile.Read(ref Incomplete),
        Volatile.Read(ref TrackingLists),
        Volatile.Read(ref TrackingReads),
        Latency.Encode(),
        Service.Encode(),
        Completion.Encode(),
        Statuses.Snapshot(),
        new SortedDictionary<string, long>(FinalStatuses, StringComparer.Ordinal));

    /// <summary>Another process's figures, decoded once to add to several totals; read-only.</summary>
    public static Totals Decode(EncodedTotals e)
    {
        var t = new Totals(Latencies.Decode(e.Latency) ?? Empty.Latency, Latencies.Decode(e.Service) ?? Empty.Service, Latencies.Decode(e.Completion) ?? Empty.Completion)
        {
            Scheduled = e.Scheduled,
            Sent = e.Sent,
            Completed = e.Completed,
            Errors = e.Errors,
            Dropped = e.Dropped,
            Late = e.Late,
            Accepted = e.Accepted,
            Incomplete = e.Incomplete,
            TrackingLists = e.TrackingLists,
            TrackingReads = e.TrackingReads,
        };
        foreach (var (k, v) in e.Statuses)
        {
            t.Statuses.Add(k, v);
        }

        foreach (var (k, v) in e.FinalStatuses)
        {
            t.FinalStatuses[k] = v;
        }

        return t;
    }

    /// <summary>Adds <paramref name="other"/>'s figures: counts add, histograms merge.</summary>
    public void Add(Totals other)
    {
        Interlocked.Add(ref Scheduled, Volatile.Read(ref other.Scheduled));
        Interlocked.Add(ref Sent, Volatile.Read(ref other.Sent));
        Interlocked.Add(ref Completed, Volatile.Read(ref other.Completed));
        Interlocked.Add(ref Errors, Volatile.Read(ref other.Errors));
        Interlocked.Add(ref Dropped, Volatile.Read(ref other.Dropped));
        Interlocked.Add(ref Late, Volatile.Read(ref other.Late));
        Interlocked.Add(ref Accepted, Volatile.Read(ref other.Accepted));
        Interlocked.Add(ref Incomplete, Volatile.Read(ref other.Incomplete));
        Interlocked.Add(ref TrackingLists, Volatile.Read(ref other.TrackingLists));
        Interlocked.Add(ref TrackingReads, Volatile.Read(ref other.TrackingReads));
        if (other.Latency.TotalCount > 0)
        {
            Latency.Add(other.Latency);
        }

        if (other.Service.TotalCount > 0)
        {
            Service.Add(other.Service);
        }

        if (other.Completion.TotalCount > 0)
        {
            Completion.Add(other.Completion);
        }

        foreach (var (k, v) in other.Statuses.Snapshot())
        {
            Statuses.Add(k, v);
        }

        foreach (var (k, v) in other.FinalStatuses)
        {
            FinalStatuses.AddOrUpdate(k, v, (_, c) => c + v);
        }
    }

    /// <summary>Adds another process's figures (merging agents' results: counts add, histograms merge).</summary>
    public void Add(EncodedTotals other) => Add(Decode(other));

    public double ErrorRate => Volatile.Read(ref Completed) + Volatile.Read(ref Dropped) == 0 ? 0 : (double)Volatile.Read(ref Errors) / (Volatile.Read(ref Completed) + Volatile.Read(ref Dropped));

    public double DroppedRate => Volatile.Read(ref Scheduled) == 0 ? 0 : (double)Volatile.Read(ref Dropped) / Volatile.Read(ref Scheduled);

    public double LateRate => Volatile.Read(ref Sent) == 0 ? 0 : (double)Volatile.Read(ref Late) / Volatile.Read(ref Sent);

    public double IncompleteRate => Volatile.Read(ref Accepted) == 0 ? 0 : (double)Volatile.Read(ref Incomplete) / Volatile.Read(ref Accepted);

    /// <summary>The value of a threshold metric (times in microseconds, rates as fractions) over <paramref name="seconds"/> of run.</summary>
    public double Metric(string name, double seconds)
    {
        static double P(Latencies h, string p) => p switch
        {
            "max" => h.Max,
            "mean" => h.Mean,
            "p999" => h.ValueAtPercentile(99.9),
            _ => h.ValueAtPercentile(double.Parse(p.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)),
        };

        return name switch
        {
            "errors" => ErrorRate,
            "dropped" => DroppedRate,
            "late" => LateRate,
            "incomplete" => IncompleteRate,
            "rps" => seconds <= 0 ? 0 : Volatile.Read(ref Completed) / seconds,
            _ when name.StartsWith("service_", StringComparison.Ordinal) => P(Service, name[8..]),
            _ when name.StartsWith("completion_", StringComparison.Ordinal) => P(Completion, name[11..]),
            _ => P(Latency, name),
        };
    }
}
