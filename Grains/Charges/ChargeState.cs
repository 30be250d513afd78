namespace FinCore.Grains.Charges;

/// <summary>What a charge grain persists: the charge, the fingerprint of the request that created it, and the
/// first response (replayed to retries of the same request).</summary>
public sealed class ChargeState
{
    public string? TenantId { get; set; }
    public Charge? Charge { get; set; }
    public ChargeStatus Status { get; set; }
    public string? Fingerprint { get; set; }
    public Charge? FirstResponse { get; set; }

    /// <summary>The first PSP attempt was scheduled in the transaction that created the charge (false for a charge a
    /// blocked risk decision failed, and for charges created before versions did this).</summary>
    public bool AttemptScheduled { get; set; }

    /// <summary>The W3C trace context of the request that created the charge: the PSP attempts join its trace.</summary>
    public string? TraceParent { get; set; }
}
