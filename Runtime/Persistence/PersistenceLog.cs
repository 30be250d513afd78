using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Persistence;

internal static partial class PersistenceLog
{
    [LoggerMessage(EventId = (int)RuntimeEventId.MigrationApplied, Level = LogLevel.Information, Message = "Applied migration {Id}")]
    public static partial void MigrationApplied(ILogger logger, string id);

    [LoggerMessage(EventId = (int)RuntimeEventId.StorageBatchFailed, Level = LogLevel.Warning,
        Message = "A group commit of {Count} writes failed; retrying them one by one")]
    public static partial void BatchFailed(ILogger logger, Exception e, int count);
}
