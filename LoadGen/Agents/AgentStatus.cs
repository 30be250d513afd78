namespace FinCore.LoadGen.Agents;

/// <summary>
/// <c>GET /v1/agent</c>: <see cref="State"/> is idle, preparing, ready, running, done or failed (then
/// <see cref="Error"/> says why); <see cref="Now"/> is the agent's clock, for the coordinator's offset estimate;
/// <see cref="Seconds"/> how many seconds of the run are finished.
/// </summary>
public sealed record AgentStatus(string State, DateTimeOffset Now, string? Error, long Sent, int Seconds);
