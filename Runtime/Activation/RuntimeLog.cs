using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Activation;

/// <summary>Log messages of activations and the catalog.</summary>
internal sealed partial class RuntimeLog(ILogger logger)
{
    public void ActivationFailed(Exception e, GrainId grain) => ActivationFailedMessage(logger, e, grain.ToString());

    public void DeactivationFailed(Exception e, GrainId grain) => DeactivationFailedMessage(logger, e, grain.ToString());

    public void InconsistentState(GrainId grain) => InconsistentStateMessage(logger, grain.ToString());

    public void IdleCollected(int count) => IdleCollectedMessage(logger, count);

    public void HandoverTimedOut(GrainId grain, long version, string waitingFor) => HandoverTimedOutMessage(logger, grain.ToString(), version, waitingFor);

    [LoggerMessage(EventId = (int)RuntimeEventId.ActivationFailed, Level = LogLevel.Warning, Message = "Activation of {Grain} failed")]
    private static partial void ActivationFailedMessage(ILogger logger, Exception e, string grain);

    [LoggerMessage(EventId = (int)RuntimeEventId.DeactivationFailed, Level = LogLevel.Warning, Message = "OnDeactivateAsync of {Grain} failed")]
    private static partial void DeactivationFailedMessage(ILogger logger, Exception e, string grain);

    [LoggerMessage(EventId = (int)RuntimeEventId.InconsistentState, Level = LogLevel.Warning,
        Message = "{Grain}: state write conflicted with a newer version; deactivating this stale activation")]
    private static partial void InconsistentStateMessage(ILogger logger, string grain);

    [LoggerMessage(EventId = (int)RuntimeEventId.HandoverTimedOut, Level = LogLevel.Warning,
        Message = "{Grain} came here with membership version {Version}, and {Silos} had not handed it over in time; activating it anyway")]
    private static partial void HandoverTimedOutMessage(ILogger logger, string grain, long version, string silos);

    [LoggerMessage(EventId = (int)RuntimeEventId.IdleCollected, Level = LogLevel.Debug, Message = "Collecting {Count} idle activations")]
    private static partial void IdleCollectedMessage(ILogger logger, int count);
}
