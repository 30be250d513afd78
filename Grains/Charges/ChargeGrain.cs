using System.Diagnostics;
using System.Text.Json;
using FinCore.Grains.Psp;
using FinCore.Grains.Risk;
using FinCore.Grains.Storage;
using FinCore.Runtime;
using FinCore.Runtime.Persistence;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Charges;

/// <summary>One charge's status machine. Every change is written with its event and its read-model row (which holds
/// the state) in one transaction (the outbox), so the audit trail, webhooks and listings never disagree with the charge. The creating
/// transaction also schedules the first PSP attempt (the retry grain's reminder): an acknowledged charge is always
/// on its way to the PSP, and the retry grain costs nothing until the attempt is due. Without a cancel window (no
/// start delay) the charge is created processing: both events, one commit.</summary>
[CollectionAgeLimit(60)] // settled within seconds, then read now and then: a later read reactivates it from its row
public sealed class ChargeGrain(IOptions<PspOptions> psp, [PersistentState("charge", ChargeRowStorage.Name)] ITransactionalState<ChargeState> state) : Grain, IChargeGrain
{
    /// <summary>This activation created the charge processing, and its first attempt has not been handed out yet: the
    /// retry grain that asks for it is the first to, so nothing can be in doubt. Any other activation that finds the
    /// charge processing cannot know whether an earlier one handed an attempt out.</summary>
    private bool _attemptOwed;

    public async Task<CreateChargeResult> Create(CreateChargeCommand command)
    {
        if (state.State.Charge is not null)
        {
            if (state.State.Fingerprint != command.Fingerprint)
            {
                throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request body.");
            }

            // A charge created by an earlier version scheduled processing in a second step, and may have died
            // before it; a charge created since has its first attempt scheduled with it and never calls out here
            // (its retry grain may be calling back right now, and waiting on it would deadlock).
            if (state.State.Status == ChargeStatus.Created && !state.State.AttemptScheduled)
            {
                await ScheduleLegacyAttemptAsync();
            }

            return new CreateChargeResult(state.State.FirstResponse!, Replayed: true);
        }

        var velocity = await GrainFactory.GetGrain<IVelocityGrain>(command.TenantId).Record(command.ChargeId, command.Customer, command.PaymentMethod);
        var risk = RiskEngine.Evaluate(command.Amount, command.Limits, velocity);
        var now = DateTime.UtcNow;
        var charge = new Charge
        {
            Id = command.ChargeId,
            Amount = command.Amount,
            Currency = command.Currency,
            Status = ChargeStatus.Created.ToApi(),
            PaymentMethod = command.PaymentMethod,
            Description = command.Description,
            Customer = command.Customer,
            Metadata = command.Metadata,
            Risk = risk,
            CreatedAt = now,
            UpdatedAt = now,
        };
        state.State.TenantId = command.TenantId;
        state.State.Fingerprint = command.Fingerprint;
        state.State.FirstResponse = charge;
        state.State.TraceParent = Activity.Current?.Id;
        if (risk.Decision == RiskEngine.Block)
        {
            await SaveAsync(charge, ChargeStatus.Created, [("charge.created", charge)]);
            await MoveAsync(ChargeStatus.Failed, c => c with { FailureCode = "risk_blocked", FailureMessage = "The charge was blocked by the tenant's risk rules." });
            return new CreateChargeResult(charge, Replayed: false);
        }

        state.State.AttemptScheduled = true;
        // A new charge's retry grain has never stored anything: when the reminder fires, it need not read its state.
        var firstAttempt = ReminderWithState<IPspRetryGrain>(GetPrimaryKeyString(), PspRetryGrain.AttemptReminder, psp.Value.StartDelay, Timeout.InfiniteTimeSpan, grainIsNew: true);
        if (psp.Value.StartDelay > TimeSpan.Zero)
        {
            // A window in which the charge can still be canceled: it stays created until the attempt is due.
            await SaveAsync(charge, ChargeStatus.Created, [("charge.created", charge)], [firstAttempt]);
        }
        else
        {
            // No such window: the charge is processing from the start, and both events are written with it (one
            // commit instead of a second one moments later, when the attempt takes it).
            var processing = charge with { Status = ChargeStatus.Processing.ToApi() };
            await SaveAsync(processing, ChargeStatus.Processing, [("charge.created", charge), ("charge.processing", processing)], [firstAttempt]);
            _attemptOwed = true;
        }

        return new CreateChargeResult(charge, Replayed: false);
    }

    public async Task<PspWork> MarkProcessing()
    {
        var c = await Get();
        bool resumed;
        switch (state.State.Status)
        {
            case ChargeStatus.Processing:
                // Processing already: either since its creation in this activation, with the first attempt not
                // handed out yet, or an attempt may have been handed out before (by an activation that died since).
                resumed = !_attemptOwed;
                break;
            case ChargeStatus.Created:
                c = await MoveAsync(ChargeStatus.Processing, c => c);
                resumed = false;
                break;
            default:
                throw new InvalidChargeStateException($"The charge is {c.Status}; it is not processed any further.");
        }

        _attemptOwed = false;
        return new PspWork(new PspPayment(state.State.TenantId!, c.Id, c.Amount, c.Currency, c.PaymentMethod), resumed, state.State.TraceParent);
    }

    public async Task<Charge> ApplyPspResult(PspOutcome outcome, int attempts, bool endsAttempts)
    {
        var current = await Get();
        var status = state.State.Status;
        if (ChargeStatusMachine.IsTerminal(status))
        {
            return current; // a duplicate or late answer: final states are final
        }

        if (status is ChargeStatus.Created or ChargeStatus.DeadLettered)
        {
            current = await MoveAsync(ChargeStatus.Processing, c => c); // a late answer still settles the charge
        }

        attempts = Math.Max(attempts, current.Attempts);
        StorageCommand[]? endAttempts = endsAttempts ? [ReminderRemovalWithState<IPspRetryGrain>(GetPrimaryKeyString(), PspRetryGrain.AttemptReminder)] : null;
        var result = outcome.Status == "captured"
            ? await MoveAsync(ChargeStatus.Succeeded, c => c with { Attempts = attempts, PspReference = outcome.Reference }, endAttempts)
            : await MoveAsync(ChargeStatus.Failed, c => c with
            {
                Attempts = attempts,
                PspReference = outcome.Reference,
                FailureCode = outcome.DeclineCode == "insufficient_funds" ? "insufficient_funds" : "card_declined",
                FailureMessage = "The PSP declined the payment.",
            }, endAttempts);
        if (status == ChargeStatus.DeadLettered)
        {
            await GrainFactory.GetGrain<IDeadLetterGrain>(DeadLetters.Key).Remove(state.State.TenantId!, result.Id);
        }

        return result;
    }

    public async Task<Charge> MarkDeadLettered(int attempts, string lastError)
    {
        var result = await Get();
        if (state.State.Status != ChargeStatus.DeadLettered)
        {
            result = await MoveAsync(ChargeStatus.DeadLettered, c => c with { Attempts = attempts, FailureCode = "psp_unavailable", FailureMessage = lastError });
        }

        // Also when it is dead-lettered already: this is then a repeated call, and the one before may have committed
        // the charge but never reached the dead-letter grain. An alert raised twice beats one never raised.
        await GrainFactory.GetGrain<IDeadLetterGrain>(DeadLetters.Key).Add(new DeadLetter(state.State.TenantId!, result.Id, result.Attempts, result.FailureMessage ?? lastError, result.UpdatedAt));
        return result;
    }

    public async Task<Charge> RetryDeadLetter()
    {
        var current = await Get();
        if (state.State.Status == ChargeStatus.Processing)
        {
            return current;
        }

        var result = await MoveAsync(ChargeStatus.Processing, c => c with { FailureCode = null, FailureMessage = null });
        await GrainFactory.GetGrain<IDeadLetterGrain>(DeadLetters.Key).Remove(state.State.TenantId!, result.Id);
        await GrainFactory.GetGrain<IPspRetryGrain>(GetPrimaryKeyString()).Restart();
        return result;
    }

    public async Task<Charge> DiscardDeadLetter()
    {
        var current = await Get();
        if (state.State.Status == ChargeStatus.Failed && current.FailureCode == "discarded")
        {
            return current;
        }

        if (state.State.Status != ChargeStatus.DeadLettered)
        {
            throw new InvalidChargeStateException($"Only a dead-lettered charge can be discarded; this one is {current.Status}.");
        }

        var result = await MoveAsync(ChargeStatus.Failed, c => c with { FailureCode = "discarded", FailureMessage = "Discarded by an operator after retries were exhausted." });
        await GrainFactory.GetGrain<IDeadLetterGrain>(DeadLetters.Key).Remove(state.State.TenantId!, result.Id);
        return result;
    }

    private async Task ScheduleLegacyAttemptAsync()
    {
        var c = state.State.Charge!;
        await GrainFactory.GetGrain<IPspRetryGrain>(GetPrimaryKeyString())
            .Begin(new PspPayment(state.State.TenantId!, c.Id, c.Amount, c.Currency, c.PaymentMethod));
        state.State.AttemptScheduled = true; // stored with the next change; until then a new activation asks again (idempotent)
    }

    public Task<Charge> Get()
    {
        if (state.State.Charge is null)
        {
            DeactivateOnIdle(); // nothing to keep in memory for an id that does not exist
            throw new ChargeNotFoundException("No such charge.");
        }

        return Task.FromResult(state.State.Charge);
    }

    public async Task<Charge> Cancel()
    {
        var current = await Get();
        if (state.State.Status == ChargeStatus.Canceled)
        {
            return current; // a repeated cancel is a no-op
        }

        if (!ChargeStatusMachine.CanMove(state.State.Status, ChargeStatus.Canceled))
        {
            throw new InvalidChargeStateException($"A charge can be canceled only while it is created; this one is {current.Status}.");
        }

        return await MoveAsync(ChargeStatus.Canceled, c => c);
    }

    private async Task<Charge> MoveAsync(ChargeStatus to, Func<Charge, Charge> change, IReadOnlyList<StorageCommand>? alsoWrite = null)
    {
        var from = state.State.Status;
        if (!ChargeStatusMachine.CanMove(from, to))
        {
            throw new InvalidChargeStateException($"A charge cannot move from {from.ToApi()} to {to.ToApi()}.");
        }

        var next = change(state.State.Charge!) with { Status = to.ToApi(), UpdatedAt = DateTime.UtcNow };
        await SaveAsync(next, to, [("charge." + to.ToApi(), next)], alsoWrite);
        return next;
    }

    /// <summary>Writes the charge with its events (each with the charge as it stood); its read-model row is its state
    /// (<see cref="ChargeRowStorage"/>).</summary>
    private async Task SaveAsync(Charge charge, ChargeStatus status, (string Type, Charge Charge)[] events, IReadOnlyList<StorageCommand>? alsoWrite = null)
    {
        var previous = (state.State.Charge, state.State.Status);
        state.State.Charge = charge;
        state.State.Status = status;
        var tenant = state.State.TenantId!;
        try
        {
            await state.WriteStateAsync([
                PaymentsSql.InsertEvents(tenant, charge.Id, charge.UpdatedAt,
                    Array.ConvertAll(events, e => e.Type), Array.ConvertAll(events, e => JsonSerializer.Serialize(e.Charge, ApiJson.Options))),
                .. alsoWrite ?? [],
            ]);
        }
        catch
        {
            (state.State.Charge, state.State.Status) = previous;
            throw;
        }
    }
}
