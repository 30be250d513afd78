using FinCore.LoadGen.Metrics;

namespace FinCore.LoadGen.Agents;

/// <summary><c>GET /v1/agent/result</c> once the run is done: the agent's whole-run and per-phase figures and its own load.</summary>
public sealed record AgentResult(
    EncodedTotals Measured,
    IReadOnlyList<AgentSegment> Segments,
    double MeasuredSeconds,
    long SentAll,
    double CpuSeconds,
    double CpuAvgPct,
    double PeakWorkingSetMb,
    long PeakBacklog,
    string? Aborted);
