using FinCore.LoadGen.Plans;

namespace FinCore.LoadGen.Agents;

/// <summary>
/// What a coordinator asks of an agent (<c>POST /v1/agent/prepare</c>): the run as the coordinator parsed it, and the
/// agent's share of it (arrivals <see cref="ShareIndex"/>, +<see cref="ShareCount"/>, …). The agent sends only to
/// <see cref="Target"/>.
/// </summary>
public sealed record AgentWork(
    string Target,
    string? ApiKey,
    string? AdminToken,
    int Tenants,
    string Mix,
    int Connections,
    int Concurrency,
    bool Http2,
    double WarmupS,
    IReadOnlyList<Phase> Phases,
    string PlanSource,
    double RequestTimeoutS,
    double DropAfterS,
    string PingPath,
    bool TrackCompletion,
    double PollIntervalS,
    double CompletionTimeoutS,
    int ShareIndex,
    int ShareCount,
    int Accounts = 100,
    double HotShare = 0.2);
