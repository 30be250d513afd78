using FinCore.Runtime;

namespace FinCore.Grains;

/// <summary>One charge, keyed <c>{tenant}/{charge}</c>: the tenant is part of the identity, so one tenant can
/// never address another's charge.</summary>
[GrainType("charge")]
public interface IChargeGrain : IGrainWithStringKey
{
    /// <summary>Creates the charge durably, or replays the first result for the same request.</summary>
    [Idempotent]
    Task<CreateChargeResult> Create(CreateChargeCommand command);

    /// <summary>The charge; <see cref="ChargeNotFoundException"/> when it does not exist.</summary>
    [Idempotent]
    Task<Charge> Get();

    /// <summary>Cancels a charge still in <c>created</c>; <see cref="InvalidChargeStateException"/> otherwise.</summary>
    [Idempotent]
    Task<Charge> Cancel();

    /// <summary>The first PSP attempt is about to go out: <c>created → processing</c> (a no-op when already there, as
    /// a charge is from its creation when there is no cancel window), answering with what the PSP needs;
    /// <see cref="InvalidChargeStateException"/> when the charge can no longer be processed (canceled, failed,
    /// succeeded).</summary>
    [Idempotent]
    Task<PspWork> MarkProcessing();

    /// <summary>Applies the PSP's final answer. Duplicate and late answers are absorbed: a final state never changes.
    /// <paramref name="endsAttempts"/>: the caller is the charge's retry grain, in the turn of its attempt reminder,
    /// with nothing stored; the reminder is removed with the charge's change (one commit fewer).</summary>
    [Idempotent]
    Task<Charge> ApplyPspResult(PspOutcome outcome, int attempts, bool endsAttempts);

    /// <summary>Retries are exhausted: <c>processing → dead_lettered</c>.</summary>
    [Idempotent]
    Task<Charge> MarkDeadLettered(int attempts, string lastError);

    /// <summary>Operator retry: <c>dead_lettered → processing</c>, and the PSP attempts start again.</summary>
    [Idempotent]
    Task<Charge> RetryDeadLetter();

    /// <summary>Operator discard: <c>dead_lettered → failed</c> with <c>discarded</c>.</summary>
    [Idempotent]
    Task<Charge> DiscardDeadLetter();
}
