namespace FinCore.LoadGen.Agents;

/// <summary>
/// <c>GET /v1/agent/seconds?from=k&amp;segments_from=j</c>: the agent's state, every finished second from k on, and
/// every measured phase from j on that has ended (its figures as they were when it ended, for a stress step's verdict).
/// </summary>
public sealed record AgentSeconds(string State, IReadOnlyList<AgentSecond> Seconds, IReadOnlyList<AgentSegment> Ended);
