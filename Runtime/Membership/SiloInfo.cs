namespace FinCore.Runtime.Membership;

/// <summary>One row of the membership table as a node saw it. <see cref="SiloId"/> is unique per silo process
/// incarnation (address, port and start generation); <see cref="HeartbeatAge"/> is the age of the last heartbeat
/// by the database clock when the row was read. <see cref="SeenVersion"/>: the latest membership version the silo has
/// handed over (seen, and deactivated what that version's ring places elsewhere). <see cref="Level"/>: the storage
/// formats the silo's runtime reads (<see cref="RuntimeLevel"/>; 0 for silos of versions before it was recorded).</summary>
public sealed record SiloInfo(
    string SiloId,
    string Address,
    int Port,
    string? HttpUrl,
    SiloStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    TimeSpan HeartbeatAge,
    long SeenVersion = 0,
    int Level = 0);
