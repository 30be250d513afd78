namespace FinCore.Grains;

/// <summary>A validated create request. <see cref="Fingerprint"/> identifies the request body, so a reuse of an
/// Idempotency-Key with another body is told apart from a retry.</summary>
[GenerateSerializer, Alias("fincore.create-charge")]
public sealed record CreateChargeCommand(
    string TenantId,
    string ChargeId,
    long Amount,
    string Currency,
    string PaymentMethod,
    string? Description,
    string? Customer,
    Dictionary<string, string> Metadata,
    string Fingerprint,
    TenantLimits Limits,
    string? Account = null);

/// <summary>The outcome of a create: the charge as first acknowledged, and whether this was a replay.</summary>
[GenerateSerializer, Immutable, Alias("fincore.create-charge-result")]
public sealed record CreateChargeResult(Charge Charge, bool Replayed);
