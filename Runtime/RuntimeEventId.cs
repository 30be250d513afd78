namespace FinCore.Runtime;

/// <summary>Event ids of the runtime's log messages, one range per subsystem.</summary>
public enum RuntimeEventId
{
    MigrationApplied = 1000,

    HandshakeRefused = 2000,
    ConnectionAccepted = 2001,
    ConnectionClosed = 2002,
    DispatchFailed = 2003,

    SiloJoining = 3000,
    SiloActive = 3001,
    SiloDeclaredDead = 3002,
    SelfDeclaredDead = 3003,
    MembershipChanged = 3004,
    MembershipUpdateFailed = 3006,
    ShuttingDown = 3007,
    ShutdownComplete = 3008,
    ClusterLevelRaised = 3009,

    ActivationFailed = 4000,
    DeactivationFailed = 4001,
    InconsistentState = 4002,
    IdleCollected = 4003,
    HandoverTimedOut = 4004,

    ReminderFailed = 5000,
    ReminderPollFailed = 5001,

    StorageBatchFailed = 6000,
}
