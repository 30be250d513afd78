namespace FinCore.Runtime.Membership;

/// <summary>One row of the membership table as a node saw it. <see cref="SiloId"/> is unique per silo process
/// incarnation (address, port and start generation); <see cref="HeartbeatAge"/> is the age of the last heartbeat
/// by the database clock when the row was read.</summary>
public sealed record SiloInfo(
    string SiloId,
    string Address,
    int Port,
    string? HttpUrl,
    SiloStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    TimeSpan HeartbeatAge);
