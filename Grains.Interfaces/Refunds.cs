using Orleans.Concurrency;

namespace FinCore.Grains;

/// <summary>A refund as API.md shows it: part or all of a succeeded charge given back through the PSP.</summary>
[GenerateSerializer, Immutable, Alias("fincore.refund")]
public sealed record Refund
{
    [Id(0)]
    public required string Id { get; init; }
    public string Object => "refund";
    [Id(1)]
    public required string Charge { get; init; }
    [Id(2)]
    public required long Amount { get; init; }
    [Id(3)]
    public required string Currency { get; init; }
    /// <summary><c>pending</c>, then <c>succeeded</c> or <c>failed</c>.</summary>
    [Id(4)]
    public required string Status { get; init; }
    [Id(5)]
    public string? FailureCode { get; init; }
    [Id(6)]
    public string? PspReference { get; init; }
    /// <summary>The account the refunded charge funded, debited by the refund (null for a charge that funded none).</summary>
    [Id(7)]
    public string? Account { get; init; }
    [Id(8)]
    public required DateTime CreatedAt { get; init; }
    [Id(9)]
    public required DateTime UpdatedAt { get; init; }
}

/// <summary>A refund request: <paramref name="Amount"/> null refunds what is left of the charge. The refund id is
/// derived from the Idempotency-Key (or drawn by the gateway), so every retry names the same refund.</summary>
[GenerateSerializer, Immutable, Alias("fincore.refund-command")]
public sealed record RefundCommand(string TenantId, string RefundId, long? Amount, string Fingerprint);

[GenerateSerializer, Immutable, Alias("fincore.refund-result")]
public sealed record RefundResult(Refund Refund, bool Replayed);

/// <summary>What the PSP is asked to give back: the refund id is its idempotency key, the charge id names the payment.</summary>
[GenerateSerializer, Immutable, Alias("fincore.psp-refund")]
public sealed record PspRefund(string TenantId, string RefundId, string ChargeId, long Amount, string Currency);

/// <summary>The PSP's final answer for a refund: <c>refunded</c> or <c>failed</c> (with why).</summary>
[GenerateSerializer, Immutable, Alias("fincore.psp-refund-outcome")]
public sealed record PspRefundOutcome(bool Refunded, string? Reference, string? FailureCode);

/// <summary>Takes one refund through the PSP (<c>{tenant}/{re_…}</c>): attempts until the PSP gives a final answer,
/// which goes to the charge. In memory only: the refund is committed pending before this grain hears of it, and one
/// whose grain died with its silo is handed over again by the charge sweeper. The PSP's idempotency key is the refund
/// id, so a repeated request never refunds twice.</summary>
[Alias("fincore.refund-grain")]
public interface IRefundGrain : IGrainWithStringKey
{
    /// <summary>Starts the attempts; nothing when they are under way already.</summary>
    [Alias("send"), OneWay]
    Task Send(PspRefund refund);
}
