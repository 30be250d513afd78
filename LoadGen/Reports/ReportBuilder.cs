using FinCore.LoadGen.Engine;
using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Thresholds;

namespace FinCore.LoadGen.Reports;

/// <summary>Builds the report of a finished run from the engine's figures and judges the thresholds.</summary>
internal static class ReportBuilder
{
    public static RunReport Build(RunSettings settings, RunFigures f, DateTimeOffset startedAt, Breaking? breaking)
    {
        var seconds = f.MeasuredSeconds;
        var m = f.Measured;
        var thresholds = settings.Thresholds.Select(t =>
        {
            var actual = m.Metric(t.Metric, seconds);
            var judged = !(t.Metric.StartsWith("completion_", StringComparison.Ordinal) || t.Metric == "incomplete") || settings.TrackCompletion;
            return new ThresholdResult(t.Expression, judged ? t.Format(actual) : "not measured (needs --track-completion)", judged && t.Holds(actual));
        }).ToList();

        var rows = f.Rows;
        var cpuRows = rows.Where(r => r.CpuPct > 0).ToList();
        return new RunReport
        {
            Command = settings.Command,
            Target = settings.Target.ToString(),
            StartedAt = startedAt,
            DurationS = Math.Round(seconds, 3),
            Mix = settings.Mix.ToString(),
            PlanSource = settings.PlanSource,
            Connections = settings.Connections,
            Concurrency = settings.Concurrency,
            HttpVersion = settings.Http2 ? "2" : "1.1",
            WarmupS = settings.Warmup.TotalSeconds,
            Totals = CountsOf(m, seconds),
            Latency = PercentilesOf(m.Latency),
            ServiceTime = PercentilesOf(m.Service),
            Completion = settings.TrackCompletion
                ? new Completion(m.Accepted, m.Completion.TotalCount, m.Incomplete, new SortedDictionary<string, long>(m.FinalStatuses, StringComparer.Ordinal), PercentilesOf(m.Completion), new TrackingRequests(m.TrackingLists, m.TrackingReads))
                : null,
            StatusCodes = m.Statuses.Snapshot(),
            Generator = new Generator(
                Environment.ProcessorCount,
                cpuRows.Count == 0 ? 0 : Math.Round(cpuRows.Average(r => r.CpuPct), 1),
                cpuRows.Count == 0 ? 0 : cpuRows.Max(r => r.CpuPct),
                f.SentAll == 0 ? 0 : Math.Round(f.CpuUsed.TotalMicroseconds / f.SentAll, 1),
                Math.Round(f.PeakWorkingSetMb, 1),
                f.PeakBacklog),
            Phases = f.Segments.Select(s =>
            {
                var span = Math.Max(0.001, s.EndS - s.StartS);
                return new PhaseResult(
                    s.Phase.Name,
                    s.Phase.Describe(),
                    s.Measured,
                    Math.Round(s.StartS, 3),
                    Math.Round(s.EndS, 3),
                    Math.Round(s.Phase.ArrivalsBy(TimeSpan.FromSeconds(span)) / span, 1),
                    Math.Round(s.Totals.Completed / span, 1),
                    CountsOf(s.Totals, span),
                    PercentilesOf(s.Totals.Latency),
                    s.EndedBy);
            }).ToList(),
            Thresholds = thresholds,
            Passed = thresholds.All(t => t.Passed) && f.Aborted is null,
            Aborted = f.Aborted,
            BreakingPoint = breaking ?? UntilBreaking(f.Segments, rows),
            Timeline = rows,
            LatencyDistribution = m.Latency.Buckets().Select(b => new HistogramBucket(b.Value / 1000.0, b.Count)).ToList(),
        };
    }

    public static Counts CountsOf(Totals t, double seconds) => new(
        t.Scheduled,
        t.Sent,
        t.Completed,
        t.Completed - t.Errors,
        t.Errors,
        t.Dropped,
        t.Late,
        Math.Round(t.Completed / seconds, 1),
        Math.Round(t.ErrorRate, 6),
        Math.Round(t.DroppedRate, 6));

    public static Percentiles PercentilesOf(Latencies h)
    {
        static double Ms(double micros) => Math.Round(micros / 1000.0, 3);
        return new Percentiles(
            h.TotalCount,
            Ms(h.Min),
            Ms(h.Mean),
            Ms(h.ValueAtPercentile(50)),
            Ms(h.ValueAtPercentile(75)),
            Ms(h.ValueAtPercentile(90)),
            Ms(h.ValueAtPercentile(95)),
            Ms(h.ValueAtPercentile(99)),
            Ms(h.ValueAtPercentile(99.9)),
            Ms(h.Max));
    }

    /// <summary>A ramp ended by its "until" condition: it broke at the rate it had reached, and held five seconds before.</summary>
    private static Breaking? UntilBreaking(IReadOnlyList<SegmentFigures> segments, IReadOnlyList<TimelineRow> rows)
    {
        var broken = segments.FirstOrDefault(s => s.EndedBy is not null);
        if (broken is null)
        {
            return null;
        }

        var phaseRows = rows.Where(r => r.Phase == broken.Phase.Name).ToList();
        var brokeAt = phaseRows.Count > 0 ? phaseRows[^1].TargetRate : broken.Phase.Rate;
        var held = phaseRows.Count > 6 ? phaseRows[^6].TargetRate : broken.Phase.Rate;
        return new Breaking(held, brokeAt, broken.EndedBy!);
    }

    /// <summary>Threshold checks for one stress step: null when every SLO held.</summary>
    public static string? Judge(IReadOnlyList<Threshold> slos, Totals totals, double seconds)
    {
        foreach (var t in slos)
        {
            if (t.Metric is "incomplete" || t.Metric.StartsWith("completion_", StringComparison.Ordinal))
            {
                continue;
            }

            var actual = totals.Metric(t.Metric, seconds);
            if (!t.Holds(actual))
            {
                return $"{t.Expression} failed ({t.Format(actual)})";
            }
        }

        return null;
    }
}
