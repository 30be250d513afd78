using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Membership;

internal static partial class MembershipLog
{
    [LoggerMessage(EventId = (int)RuntimeEventId.MembershipChanged, Level = LogLevel.Information, Message = "Membership version {Version}: {Silos}")]
    public static partial void ViewChanged(ILogger logger, long version, string silos);

    [LoggerMessage(EventId = (int)RuntimeEventId.MembershipUpdateFailed, Level = LogLevel.Warning, Message = "Membership refresh failed: {Reason}")]
    public static partial void UpdateFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = (int)RuntimeEventId.SiloJoining, Level = LogLevel.Information, Message = "Silo {SiloId} joining cluster {ClusterId}")]
    public static partial void Joining(ILogger logger, string siloId, string clusterId);

    [LoggerMessage(EventId = (int)RuntimeEventId.SiloActive, Level = LogLevel.Information, Message = "Silo {SiloId} is now {Status}")]
    public static partial void StatusChanged(ILogger logger, string siloId, SiloStatus status);

    [LoggerMessage(EventId = (int)RuntimeEventId.SiloDeclaredDead, Level = LogLevel.Warning,
        Message = "Declared silo {SiloId} Dead: heartbeat {AgeMs} ms old and it failed a direct probe")]
    public static partial void DeclaredDead(ILogger logger, string siloId, long ageMs);

    [LoggerMessage(EventId = (int)RuntimeEventId.ClusterLevelRaised, Level = LogLevel.Information,
        Message = "Every live silo of cluster {ClusterId} reads runtime level {Level}: the cluster is at that level now, and silos of lower levels may not join")]
    public static partial void LevelRaised(ILogger logger, string clusterId, int level);

    [LoggerMessage(EventId = (int)RuntimeEventId.SelfDeclaredDead, Level = LogLevel.Critical,
        Message = "This silo ({SiloId}) is marked Dead in the membership table; stopping")]
    public static partial void SelfDead(ILogger logger, string siloId);
}
