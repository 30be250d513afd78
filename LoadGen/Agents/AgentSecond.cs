using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Reports;

namespace FinCore.LoadGen.Agents;

/// <summary>One finished second of an agent's run: its timeline row and the slot behind it (histograms encoded).</summary>
public sealed record AgentSecond(int T, TimelineRow Row, EncodedTotals Slot);
