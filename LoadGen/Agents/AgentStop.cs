namespace FinCore.LoadGen.Agents;

/// <summary><c>POST /v1/agent/stop</c>: stop scheduling (requests in flight finish); <see cref="Abort"/> marks the run failed.</summary>
public sealed record AgentStop(string Reason, bool Abort);
