using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Transport;

internal static partial class TransportLog
{
    [LoggerMessage(EventId = (int)RuntimeEventId.HandshakeRefused, Level = LogLevel.Warning,
        Message = "Refused connection from {Remote}: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = (int)RuntimeEventId.ConnectionAccepted, Level = LogLevel.Debug,
        Message = "Accepted cluster connection from {ClientId} at {Remote}")]
    public static partial void ConnectionAccepted(ILogger logger, string clientId, string remote);

    [LoggerMessage(EventId = (int)RuntimeEventId.ConnectionClosed, Level = LogLevel.Debug,
        Message = "Connection from {ClientId} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = (int)RuntimeEventId.DispatchFailed, Level = LogLevel.Error,
        Message = "Dispatch of a call to {Grain} failed")]
    public static partial void DispatchFailed(ILogger logger, Exception e, string grain);
}
