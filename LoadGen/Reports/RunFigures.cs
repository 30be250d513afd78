using FinCore.LoadGen.Engine;
using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Plans;

namespace FinCore.LoadGen.Reports;

/// <summary>A phase's figures, times in seconds from the run's start.</summary>
internal sealed record SegmentFigures(Phase Phase, bool Measured, double StartS, double EndS, Totals Totals, string? EndedBy);

/// <summary>
/// What a report is built from, whoever measured it: one engine (<see cref="FromEngine"/>), or a coordinator's
/// merge of its agents' figures.
/// </summary>
internal sealed record RunFigures(
    Totals Measured,
    IReadOnlyList<SegmentFigures> Segments,
    double MeasuredSeconds,
    IReadOnlyList<TimelineRow> Rows,
    long SentAll,
    TimeSpan CpuUsed,
    double PeakWorkingSetMb,
    long PeakBacklog,
    string? Aborted)
{
    public static RunFigures FromEngine(LoadEngine engine, RunTimeline timeline, TimeSpan cpuUsed)
    {
        var measuredSegments = engine.Segments.Where(s => s.Measured && s.StartTimestamp >= 0).ToList();
        var measuredStart = measuredSegments.Count > 0 ? measuredSegments[0].StartTimestamp : engine.StartTimestamp;
        var planEnd = measuredSegments.Count > 0 ? measuredSegments.Max(s => s.EndTimestamp < 0 ? Clock.Now : s.EndTimestamp) : Clock.Now;
        var measuredEnd = Math.Max(planEnd, engine.LastCompletion);
        var segments = engine.Segments.Where(s => s.StartTimestamp >= 0).Select(s => new SegmentFigures(
            s.Phase,
            s.Measured,
            Clock.Seconds(s.StartTimestamp - engine.StartTimestamp),
            Clock.Seconds((s.EndTimestamp < 0 ? Clock.Now : s.EndTimestamp) - engine.StartTimestamp),
            s.Totals,
            s.EndedBy)).ToList();
        return new RunFigures(
            engine.Measured,
            segments,
            Math.Max(0.001, Clock.Seconds(measuredEnd - measuredStart)),
            timeline.Rows,
            engine.Segments.Sum(s => s.Totals.Sent),
            cpuUsed,
            timeline.PeakWorkingSetMb,
            timeline.PeakBacklog,
            engine.Aborted);
    }
}
