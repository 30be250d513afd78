using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Hosting;

internal static partial class HostingLog
{
    [LoggerMessage(EventId = (int)RuntimeEventId.ShuttingDown, Level = LogLevel.Information,
        Message = "Silo {SiloId} shutting down: leaving the ring, finishing turns, deactivating")]
    public static partial void ShuttingDown(ILogger logger, string siloId);

    [LoggerMessage(EventId = (int)RuntimeEventId.ShutdownComplete, Level = LogLevel.Information, Message = "Silo {SiloId} left the cluster")]
    public static partial void ShutdownComplete(ILogger logger, string siloId);

    [LoggerMessage(EventId = (int)RuntimeEventId.ShutdownComplete + 1, Level = LogLevel.Warning, Message = "Silo {SiloId} could not finish a graceful shutdown")]
    public static partial void ShutdownIncomplete(ILogger logger, Exception e, string siloId);
}
