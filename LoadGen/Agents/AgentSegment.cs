using FinCore.LoadGen.Metrics;

namespace FinCore.LoadGen.Agents;

/// <summary>One phase as an agent ran it (seconds from its start) with its own figures.</summary>
public sealed record AgentSegment(int Index, double StartS, double EndS, string? EndedBy, EncodedTotals Totals);
