namespace FinCore.Runtime.Membership;

/// <summary>Failure detection and membership refresh. The defaults move ownership within about 3.5 s of a
/// silo's death: stale after 2 s, one failed probe (≤ 0.5 s), and every node re-reads within 0.5 s.</summary>
public sealed class MembershipOptions
{
    /// <summary>How often a silo writes its heartbeat and re-reads the table. Default 500 ms.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a gateway re-reads the table. Default 500 ms.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A silo whose heartbeat is older than this is probed, and declared Dead if the probe fails. Default 2 s.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a direct probe may take. Default 500 ms.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A grain that comes to a silo with a ring change is activated there once every other live silo has
    /// handed the change over (seen it, and deactivated what it no longer owns); after this long it is activated
    /// anyway, and a warning names the silos that had not. Default 5 s.</summary>
    public TimeSpan HandoverTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>On graceful shutdown, how long a silo keeps forwarding calls after leaving the ring, so every node
    /// sees it leave before it closes. Default 1.5 s (three refresh intervals).</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromMilliseconds(1500);
}
