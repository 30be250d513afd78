namespace FinCore.LoadGen.Agents;

/// <summary><c>GET /v1/agent/seconds?from=k</c>: the agent's state and every finished second from k on.</summary>
public sealed record AgentSeconds(string State, IReadOnlyList<AgentSecond> Seconds);
