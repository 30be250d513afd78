using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace FinCore.Runtime.Telemetry;

/// <summary>Collects FinCore's <see cref="Meter"/> instruments with a <see cref="MeterListener"/> and writes them in
/// the Prometheus text format (counters as <c>_total</c>, histograms as count and sum, gauges as read at scrape).
/// The Prometheus exporter packages are not obtainable here; this is the whole of what <c>/metrics</c> needs.</summary>
public sealed class PrometheusMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Tags), Cell> _cells = new();
    private readonly Func<Meter, bool> _include;

    public PrometheusMetrics(Func<Meter, bool>? include = null)
    {
        _include = include ?? (m => m.Name.StartsWith("FinCore", StringComparison.Ordinal));
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
        var key = (instrument, FormatTags(tags));
        var cell = _cells.GetOrAdd(key, static _ => new Cell());
        lock (cell)
        {
            if (instrument is ObservableGauge<long> or ObservableGauge<int> or ObservableGauge<double>)
            {
                cell.Last = value;
            }
            else
            {
                cell.Sum += value;
                cell.Count++;
                if (instrument is Histogram<double> or Histogram<long> or Histogram<int>)
                {
                    cell.Buckets ??= new long[Bounds.Length];
                    var i = Array.BinarySearch(Bounds, value);
                    cell.Buckets[i >= 0 ? i : Math.Min(~i, Bounds.Length - 1)]++;
                }
            }
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
            var unit = string.IsNullOrEmpty(instrument.Unit) ? "" : "_" + Sanitize(instrument.Unit);
            var help = instrument.Description ?? instrument.Name;
            switch (instrument)
            {
                case Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>:
                    sb.Append(CultureInfo.InvariantCulture, $"# HELP {name}_total {help}\n# TYPE {name}_total counter\n");
                    foreach (var (k, cell) in group)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"{name}_total{k.Tags} {Value(cell, c => c.Sum)}\n");
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
                    sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n");
                    foreach (var (k, cell) in group)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"{name}{k.Tags} {Value(cell, c => c.Last)}\n");
                    }

                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Cumulative bucket counts (Prometheus <c>le</c> semantics); the last bound is +Inf.</summary>
    private static void AppendBuckets(StringBuilder sb, string name, string tags, Cell cell)
    {
        long[] counts;
        lock (cell)
        {
            counts = (long[]?)cell.Buckets?.Clone() ?? new long[Bounds.Length];
        }

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
                lock (cell)
                {
                    result.Add(new HistogramSnapshot(tags, (long)cell.Count, cell.Sum, (long[]?)cell.Buckets?.Clone() ?? new long[Bounds.Length]));
                }
            }
        }

        return result;
    }

    /// <summary>Upper bounds of histogram buckets, in the instrument's unit (ms for latencies); the last is +Inf.</summary>
    public static readonly double[] Bounds = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, double.PositiveInfinity];

    private static string Value(Cell cell, Func<Cell, double> read)
    {
        lock (cell)
        {
            return read(cell).ToString("R", CultureInfo.InvariantCulture);
        }
    }

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

    private sealed class Cell
    {
        public double Sum;
        public double Count;
        public double Last;
        public long[]? Buckets;
    }
}

/// <summary>One histogram series at one moment: its tags as written in /metrics, count, sum and bucket counts.</summary>
public sealed record HistogramSnapshot(string Tags, long Count, double Sum, long[] Buckets);
