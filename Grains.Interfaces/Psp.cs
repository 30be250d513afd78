using Orleans.Concurrency;

namespace FinCore.Grains;

/// <summary>What FinCore asks the PSP to capture. The charge id is the PSP idempotency key.</summary>
[GenerateSerializer, Immutable, Alias("fincore.psp-payment")]
public sealed record PspPayment(string TenantId, string ChargeId, long Amount, string Currency, string PaymentMethod);

/// <summary>What a retry grain is given to work on: the payment; whether an attempt may have been handed out before
/// (by an activation that died since: it may have reached the PSP, so ask before sending); and the W3C trace context
/// of the request that created the charge (attempts join its trace).</summary>
[GenerateSerializer, Immutable, Alias("fincore.psp-work")]
public sealed record PspWork(PspPayment Payment, bool Resumed, string? TraceParent);

/// <summary>How a charge's first attempt, made by its silo's <see cref="IPspSenderGrain"/>, ended without settling it:
/// when it was sent; whether the PSP may have received it (no answer: ask before sending again); whether the PSP
/// answered "pending"; what went wrong; whether the silo's open circuit refused it (nothing was sent).</summary>
[GenerateSerializer, Immutable, Alias("fincore.psp-first-attempt")]
public sealed record PspFirstAttempt(DateTime At, bool InDoubt, bool Pending, string? Error, bool CircuitOpen);

/// <summary>A PSP's final answer for a payment: <c>captured</c> or <c>declined</c>.</summary>
[GenerateSerializer, Immutable, Alias("fincore.psp-outcome")]
public sealed record PspOutcome(string Status, string? Reference, string? DeclineCode);

/// <summary>Drives one charge through the PSP: one attempt per turn; after a retryable failure the next one is
/// scheduled by an Orleans reminder (exponential backoff, full jitter), bounded by attempts and elapsed time; then the
/// dead-letter path. Placed on its caller's silo (the charge's): the two call each other on every attempt. Every
/// method is idempotent.</summary>
[Alias("fincore.psp-retry-grain")]
public interface IPspRetryGrain : IGrainWithStringKey
{
    /// <summary>Takes the charge's work: the first attempt goes out at once (in memory: if this silo dies first, the
    /// charge sweeper hands the charge over again), or after <paramref name="delay"/> by a reminder (a cancel window).
    /// Nothing when work is already under way. After a dead letter, starts again (an operator's retry).</summary>
    /// <remarks>Interleaves with the grain's other turns: the charge calls it while the grain's attempt may be waiting
    /// on the charge.</remarks>
    [Alias("begin"), AlwaysInterleave]
    Task Begin(PspWork work, TimeSpan delay);

    /// <summary>Takes over a charge whose first attempt (by its silo's <see cref="IPspSenderGrain"/>) did not settle it:
    /// schedules the next attempt as after a failed attempt of its own (durably: reminder, then state). Nothing when work
    /// is already under way (the sweeper handed the charge over meanwhile).</summary>
    [Alias("continue"), AlwaysInterleave]
    Task Continue(PspWork work, PspFirstAttempt first);

    /// <summary>Makes the next attempt now, if one is scheduled (a charge waiting out a PSP outage, released when the
    /// PSP answers again). Nothing otherwise.</summary>
    [Alias("wake")]
    Task Wake();
}

/// <summary>Sends a new charge's first attempt to the PSP, on the charge's silo (a stateless worker: no activation,
/// directory entry or state per charge), and gives the answer to the charge. A charge settled at its first attempt,
/// nearly every charge, never activates its <see cref="IPspRetryGrain"/>: the sender hands that grain only the charges
/// whose first attempt did not settle them. Nothing here is durable: a charge whose silo dies during its first attempt
/// is found by the charge sweeper, as one whose hand-over was lost.</summary>
[Alias("fincore.psp-sender-grain")]
public interface IPspSenderGrain : IGrainWithIntegerKey
{
    /// <summary>Makes the first attempt for <paramref name="work"/> (a charge just created processing). One-way: the
    /// charge's turn ends at once, and the answer comes back to it as <see cref="IChargeGrain.ApplyPspResult"/>.</summary>
    [Alias("send"), OneWay]
    Task Send(PspWork work);
}

/// <summary>One dead-lettered charge as operators see it.</summary>
[GenerateSerializer, Immutable, Alias("fincore.dead-letter")]
public sealed record DeadLetter(string TenantId, string ChargeId, int Attempts, string LastError, DateTime At);

/// <summary>Receives charges whose retries are exhausted: raises the alert (metric, warning log) and lets operators
/// retry or discard them. Every method is idempotent.</summary>
[Alias("fincore.dead-letters-grain")]
public interface IDeadLetterGrain : IGrainWithStringKey
{
    [Alias("add")]
    Task Add(DeadLetter entry);

    [Alias("remove")]
    Task Remove(string tenantId, string chargeId);

    [Alias("count")]
    Task<int> Count();
}

/// <summary>The cluster's safety net for charges: every few seconds (an Orleans reminder), finds charges left
/// <c>created</c> or <c>processing</c> with no PSP attempt pending and hands them to their retry grains again. One
/// for the cluster, keyed <see cref="Key"/>.</summary>
[Alias("fincore.charge-sweeper-grain")]
public interface IChargeSweeperGrain : IGrainWithStringKey
{
    public const string Key = "all";

    /// <summary>Makes sure the sweep reminder is registered (every silo asks at start; idempotent).</summary>
    [Alias("ensure-started")]
    Task EnsureStarted();

    /// <summary>One sweep now; returns how many charges it handed over.</summary>
    [Alias("sweep")]
    Task<int> Sweep();
}
