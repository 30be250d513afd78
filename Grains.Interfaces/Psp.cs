using FinCore.Runtime;

namespace FinCore.Grains;

/// <summary>What FinCore asks the PSP to capture. The charge id is the PSP idempotency key.</summary>
public sealed record PspPayment(string TenantId, string ChargeId, long Amount, string Currency, string PaymentMethod);

/// <summary>What a retry grain learns from its charge when processing starts: the payment; whether an attempt may
/// have been handed out before (by an activation that died since: it may have reached the PSP, so ask before
/// sending); and the W3C trace context of the request that created the charge (attempts join its trace).</summary>
public sealed record PspWork(PspPayment Payment, bool Resumed, string? TraceParent);

/// <summary>A PSP's final answer for a payment: <c>captured</c> or <c>declined</c>.</summary>
public sealed record PspOutcome(string Status, string? Reference, string? DeclineCode);

/// <summary>Drives one charge through the PSP: one attempt per turn, the next one scheduled by a durable reminder
/// (exponential backoff, full jitter), bounded by attempts and elapsed time; then the dead-letter path.</summary>
[GrainType("psp-retry", PlaceWith = "charge")] // on the charge's silo: the two call each other on every attempt
public interface IPspRetryGrain : IGrainWithStringKey
{
    /// <summary>Makes sure an attempt is scheduled (idempotent). A charge schedules its first attempt in the
    /// transaction that creates it; this is for a replayed create of a charge whose processing was never scheduled
    /// (one created by a version that scheduled it in a second step, and died between the two).</summary>
    [Idempotent]
    Task Begin(PspPayment payment);

    /// <summary>Starts again after a dead letter (operator retry).</summary>
    [Idempotent]
    Task Restart();

    /// <summary>Makes the next attempt now, if one is scheduled (a charge waiting out a PSP outage, released when the
    /// PSP answers again). Nothing otherwise.</summary>
    [Idempotent]
    Task Wake();
}

/// <summary>One dead-lettered charge as operators see it.</summary>
public sealed record DeadLetter(string TenantId, string ChargeId, int Attempts, string LastError, DateTime At);

/// <summary>Receives charges whose retries are exhausted: raises the alert (metric, warning log) and lets operators
/// retry or discard them.</summary>
[GrainType("dead-letters")]
public interface IDeadLetterGrain : IGrainWithStringKey
{
    [Idempotent]
    Task Add(DeadLetter entry);

    [Idempotent]
    Task Remove(string tenantId, string chargeId);

    [Idempotent]
    Task<int> Count();
}
