using FinCore.LoadGen.Reports;

namespace FinCore.LoadGen.Live;

/// <summary>What the run looks like now: the cumulative counts, the last finished second, and each agent (if any).</summary>
internal sealed record ProgressSnapshot(
    int Second,
    string Phase,
    string PhasePosition,
    double TargetRate,
    long Sent,
    long Completed,
    long Errors,
    double ErrorRate,
    long Dropped,
    long Backlog,
    TimelineRow? Last,
    IReadOnlyList<AgentProgress>? Agents);
