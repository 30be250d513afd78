using FinCore.Persistence;

namespace FinCore.Grains.Charges;

/// <summary>What a charge grain persists: the charge, the fingerprint of the request that created it, and the
/// first response (replayed to retries of the same request). Kept in the charge's row (<see cref="ChargeRowMapping"/>);
/// each write carries the charge's events (the outbox).</summary>
[GenerateSerializer, Alias("fincore.charge-state")]
public sealed class ChargeState : OutboxState
{
    [Id(0)]
    public string? TenantId { get; set; }

    [Id(1)]
    public Charge? Charge { get; set; }

    [Id(2)]
    public ChargeStatus Status { get; set; }

    [Id(3)]
    public string? Fingerprint { get; set; }

    [Id(4)]
    public Charge? FirstResponse { get; set; }

    /// <summary>The charge was handed to the PSP path when it was created (false for a charge a blocked risk decision
    /// failed).</summary>
    [Id(5)]
    public bool AttemptScheduled { get; set; }

    /// <summary>The W3C trace context of the request that created the charge: the PSP attempts join its trace.</summary>
    [Id(6)]
    public string? TraceParent { get; set; }
}
