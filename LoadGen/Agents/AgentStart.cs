namespace FinCore.LoadGen.Agents;

/// <summary><c>POST /v1/agent/start</c>: begin the prepared run at <see cref="At"/>, by the agent's own clock.</summary>
public sealed record AgentStart(DateTimeOffset At);
