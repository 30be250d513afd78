namespace FinCore.LoadGen.Live;

/// <summary>One agent in the live view: its state, what it sent and its CPU in the last second it delivered.</summary>
internal sealed record AgentProgress(string Name, string State, long Sent, double CpuPct, string? Lost);
