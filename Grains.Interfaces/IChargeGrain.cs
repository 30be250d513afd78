namespace FinCore.Grains;

/// <summary>One charge, keyed <c>{tenant}/{charge}</c>: the tenant is part of the identity, so one tenant can
/// never address another's charge. Every method is idempotent: a caller may repeat any call whose answer it lost
/// (the grain keeps the first response of a create, and a repeated change finds it made).</summary>
[Alias("fincore.charge-grain")]
public interface IChargeGrain : IGrainWithStringKey
{
    /// <summary>Creates the charge durably, or replays the first result for the same request.</summary>
    [Alias("create")]
    Task<CreateChargeResult> Create(CreateChargeCommand command);

    /// <summary>The charge; <see cref="ChargeNotFoundException"/> when it does not exist.</summary>
    [Alias("get")]
    Task<Charge> Get();

    /// <summary>Cancels a charge still in <c>created</c>; <see cref="InvalidChargeStateException"/> otherwise.</summary>
    [Alias("cancel")]
    Task<Charge> Cancel();

    /// <summary>The first PSP attempt is due (the cancel window is over): <c>created → processing</c> (a no-op when
    /// already there), answering with what the PSP needs; <see cref="InvalidChargeStateException"/> when the charge can
    /// no longer be processed (canceled, failed, succeeded).</summary>
    [Alias("mark-processing")]
    Task<PspWork> MarkProcessing();

    /// <summary>Applies the PSP's final answer. Duplicate and late answers are absorbed: a final state never changes.</summary>
    [Alias("apply-psp-result")]
    Task<Charge> ApplyPspResult(PspOutcome outcome, int attempts);

    /// <summary>Retries are exhausted: <c>processing → dead_lettered</c>.</summary>
    [Alias("mark-dead-lettered")]
    Task<Charge> MarkDeadLettered(int attempts, string lastError);

    /// <summary>Operator retry: <c>dead_lettered → processing</c>, and the PSP attempts start again.</summary>
    [Alias("retry-dead-letter")]
    Task<Charge> RetryDeadLetter();

    /// <summary>Operator discard: <c>dead_lettered → failed</c> with <c>discarded</c>.</summary>
    [Alias("discard-dead-letter")]
    Task<Charge> DiscardDeadLetter();

    /// <summary>The sweeper found this charge <c>created</c> or <c>processing</c> with no PSP attempt pending (its silo
    /// died between the commit and the attempt): hand it to its retry grain again. Nothing for a settled charge.</summary>
    [Alias("resume")]
    Task Resume();

    /// <summary>Refunds part or all of a succeeded charge: reserves the amount on the charge (and, for a charge that funded
    /// an account, debits the account) in one transaction with the refund's row, then hands the refund to its
    /// <see cref="IRefundGrain"/>. A repeated command replays the refund as it stands. <see cref="AmountTooLargeException"/>
    /// above what is left, <see cref="InsufficientFundsException"/> when the funded account cannot cover it,
    /// <see cref="InvalidChargeStateException"/> for a charge that did not succeed.</summary>
    [Alias("refund")]
    Task<RefundResult> Refund(RefundCommand command);

    /// <summary>The PSP's final answer for one of this charge's refunds: the refund settles (a failed one gives its
    /// amount back to the charge and to the account it debited). A repeated or late answer changes nothing.</summary>
    [Alias("apply-refund-result")]
    Task<Refund> ApplyRefundResult(string refundId, PspRefundOutcome outcome);
}
