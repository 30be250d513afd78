using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace FinCore.Telemetry;

/// <summary>Collects FinCore's <see cref="Meter"/> instruments and the runtime's own (<c>System.Runtime</c>: GC
/// collections, pause time and heap, allocation, thread-pool queue and threads, CPU time, working set) with a
/// <see cref="MeterListener"/> and writes them in the Prometheus text format (counters as <c>_total</c>, histograms as
/// count and sum, gauges as read at scrape). The Prometheus exporter packages are not obtainable here; this is the
/// whole of what <c>/metrics</c> needs.</summary>
public sealed class PrometheusMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    // One cell per series, named by its formatted tags. Measurements find their cell by the tag values themselves
    // (no string built per measurement: grain calls record on every turn); the text is made once per series.
    private readonly ConcurrentDictionary<(Instrument Instrument, string Tags), Cell> _cells = new();
    private readonly ConcurrentDictionary<SeriesKey, Cell> _series = new();
    private readonly Func<Meter, bool> _include;

    /// <summary>The meter the .NET runtime publishes its own metrics on.</summary>
    public const string RuntimeMeter = "System.Runtime";

    /// <summary>Levels the runtime publishes as observable counters (checked on .NET 10): written as gauges, since a
    /// counter's <c>rate()</c> of a queue's length means nothing.</summary>
    private static readonly HashSet<string> LevelsPublishedAsCounters = ["dotnet.thread_pool.queue.length", "dotnet.thread_pool.thread.count"];

    public PrometheusMetrics(Func<Meter, bool>? include = null)
    {
        _include = include ?? (m => m.Name.StartsWith("FinCore", StringComparison.Ordinal) || m.Name == RuntimeMeter);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_include(instrument.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = new SeriesKey(instrument, tags);
        if (!_series.TryGetValue(series, out var cell))
        {
            cell = _cells.GetOrAdd((instrument, FormatTags(tags)), static (k) => new Cell(k.Instrument));
            _series.TryAdd(series, cell);
        }

        // Lock-free: measurements arrive from every thread on every grain call.
        if (cell.IsObserved)
        {
            Volatile.Write(ref cell.Last, value);
            return;
        }

        double seen, sum = Volatile.Read(ref cell.Sum);
        while ((seen = Interlocked.CompareExchange(ref cell.Sum, sum + value, sum)) != sum)
        {
            sum = seen;
        }

        Interlocked.Increment(ref cell.Count);
        if (cell.Buckets is { } buckets)
        {
            var i = Array.BinarySearch(Bounds, value);
            Interlocked.Increment(ref buckets[i >= 0 ? i : Math.Min(~i, Bounds.Length - 1)]);
        }
    }

    /// <summary>The current values in the Prometheus text exposition format.</summary>
    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        var sb = new StringBuilder();
        foreach (var group in _cells.GroupBy(c => c.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var name = Sanitize(instrument.Name);
            var unit = UnitSuffix(instrument.Unit);
            var help = instrument.Description ?? instrument.Name;
            switch (instrument)
            {
                case Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>
                    when !LevelsPublishedAsCounters.Contains(instrument.Name):
                    sb.Append(CultureInfo.InvariantCulture, $"# HELP {name}{unit}_total {help}\n# TYPE {name}{unit}_total counter\n");
                    foreach (var (k, cell) in group)
                    {
                        // An observable counter reports its running total each time it is observed.
                        sb.Append(CultureInfo.InvariantCulture, $"{name}{unit}_total{k.Tags} {Value(cell, c => c.IsObserved ? c.Last : c.Sum)}\n");
                    }

                    break;
                case Histogram<double> or Histogram<long> or Histogram<int>:
                    sb.Append(CultureInfo.InvariantCulture, $"# HELP {name}{unit} {help}\n# TYPE {name}{unit} histogram\n");
                    foreach (var (k, cell) in group)
                    {
                        AppendBuckets(sb, name + unit, k.Tags, cell);
                        sb.Append(CultureInfo.InvariantCulture, $"{name}{unit}_count{k.Tags} {Value(cell, c => c.Count)}\n");
                        sb.Append(CultureInfo.InvariantCulture, $"{name}{unit}_sum{k.Tags} {Value(cell, c => c.Sum)}\n");
                    }

                    break;
                default:
                    sb.Append(CultureInfo.InvariantCulture, $"# HELP {name}{unit} {help}\n# TYPE {name}{unit} gauge\n");
                    foreach (var (k, cell) in group)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"{name}{unit}{k.Tags} {Value(cell, c => c.Last)}\n");
                    }

                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Cumulative bucket counts (Prometheus <c>le</c> semantics); the last bound is +Inf.</summary>
    private static void AppendBuckets(StringBuilder sb, string name, string tags, Cell cell)
    {
        var counts = (long[]?)cell.Buckets?.Clone() ?? new long[Bounds.Length];

        var inner = tags.Length == 0 ? "" : tags[1..^1] + ",";
        long cumulative = 0;
        for (var i = 0; i < Bounds.Length; i++)
        {
            cumulative += counts[i];
            var le = i == Bounds.Length - 1 ? "+Inf" : Bounds[i].ToString("R", CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{inner}le=\"{le}\"}} {cumulative}\n");
        }
    }

    /// <summary>
    /// Histogram values by instrument name and tags: (tags, count, sum, per-bucket counts). For in-process
    /// readers such as the dashboard, which turn two snapshots into a rate and percentiles.
    /// </summary>
    public IReadOnlyList<HistogramSnapshot> Histograms(string instrumentName)
    {
        var result = new List<HistogramSnapshot>();
        foreach (var ((instrument, tags), cell) in _cells)
        {
            if (instrument.Name == instrumentName)
            {
                result.Add(new HistogramSnapshot(tags, Volatile.Read(ref cell.Count), Volatile.Read(ref cell.Sum), (long[]?)cell.Buckets?.Clone() ?? new long[Bounds.Length]));
            }
        }

        return result;
    }

    /// <summary>Upper bounds of histogram buckets, in the instrument's unit (ms for latencies); the last is +Inf.</summary>
    public static readonly double[] Bounds = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, double.PositiveInfinity];

    private static string Value(Cell cell, Func<Cell, double> read) => read(cell).ToString("R", CultureInfo.InvariantCulture);

    private static string FormatTags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }

        var parts = new List<string>(tags.Length);
        foreach (var t in tags)
        {
            var v = Convert.ToString(t.Value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) ?? "";
            parts.Add($"{Sanitize(t.Key)}=\"{v}\"");
        }

        parts.Sort(StringComparer.Ordinal);
        return "{" + string.Join(',', parts) + "}";
    }

    /// <summary>The unit as a name suffix, the way Prometheus spells it: bytes and seconds in full, a count's
    /// annotation (<c>{thread}</c>) left out; FinCore's histograms keep their <c>_ms</c>.</summary>
    private static string UnitSuffix(string? unit) => unit switch
    {
        null or "" => "",
        "By" => "_bytes",
        "s" => "_seconds",
        _ when unit.StartsWith('{') => "",
        _ => "_" + Sanitize(unit),
    };

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return sb.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Cell(Instrument instrument)
    {
        /// <summary>Observable instruments report current values (a gauge's level, a counter's running total): keep the
        /// last one, never add them up.</summary>
        public readonly bool IsObserved = instrument.IsObservable;
        public readonly long[]? Buckets = instrument is Histogram<double> or Histogram<long> or Histogram<int> ? new long[Bounds.Length] : null;
        public double Sum;
        public long Count;
        public double Last;
    }
}

/// <summary>One histogram series at one moment: its tags as written in /metrics, count, sum and bucket counts.</summary>
public sealed record HistogramSnapshot(string Tags, long Count, double Sum, long[] Buckets);

/// <summary>A series' identity by value: the instrument and up to four tags (more are rare: then their text).</summary>
internal readonly struct SeriesKey : IEquatable<SeriesKey>
{
    private readonly Instrument _instrument;
    private readonly int _count;
    private readonly KeyValuePair<string, object?> _t0, _t1, _t2, _t3;
    private readonly string? _more;

    public SeriesKey(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        _instrument = instrument;
        _count = tags.Length;
        if (tags.Length > 4)
        {
            _more = string.Join(',', tags.ToArray().Select(t => t.Key + "=" + t.Value));
            return;
        }

        _t0 = tags.Length > 0 ? tags[0] : default;
        _t1 = tags.Length > 1 ? tags[1] : default;
        _t2 = tags.Length > 2 ? tags[2] : default;
        _t3 = tags.Length > 3 ? tags[3] : default;
    }

    public bool Equals(SeriesKey other) =>
        ReferenceEquals(_instrument, other._instrument) && _count == other._count && _more == other._more
        && Same(_t0, other._t0) && Same(_t1, other._t1) && Same(_t2, other._t2) && Same(_t3, other._t3);

    public override bool Equals(object? obj) => obj is SeriesKey k && Equals(k);

    public override int GetHashCode() => HashCode.Combine(_instrument, _count, _more, Hash(_t0), Hash(_t1), Hash(_t2), Hash(_t3));

    private static bool Same(KeyValuePair<string, object?> a, KeyValuePair<string, object?> b) => a.Key == b.Key && Equals(a.Value, b.Value);

    private static int Hash(KeyValuePair<string, object?> t) => HashCode.Combine(t.Key, t.Value);
}
