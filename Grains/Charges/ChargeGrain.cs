using System.Diagnostics;
using System.Text.Json;
using FinCore.Grains.Psp;
using FinCore.Grains.Risk;
using FinCore.Grains.Storage;
using FinCore.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Charges;

/// <summary>One charge's status machine. Every change is written with its events and its read-model row (which holds
/// the state) in one transaction (the outbox), so the audit trail, webhooks and listings never disagree with the
/// charge. Once the creating transaction has committed, the charge's first attempt goes out at once from its silo's
/// <see cref="PspSenderGrain"/>, which hands the charge to its retry grain only when that attempt does not settle it
/// (with a cancel window, the retry grain takes the charge at once and attempts when the window ends): an Orleans
/// reminder cannot be part of that transaction, and none is needed on the way most charges take. A charge whose
/// attempt or hand-over was lost with its silo is found by the <see cref="ChargeSweeperGrain"/> and handed over again. Without a cancel window (no start delay) the
/// charge is created processing: both events, one commit.</summary>
[GrainType("charge")]
// On the silo the gateway's create reaches (the client spreads its calls over the silos): the create is answered
// there, not forwarded to a silo chosen at random, and its retry grain (also local) is on the same silo.
[Orleans.Placement.PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 1)] // settled within seconds, then read now and then: a later read reactivates it from its row
public sealed partial class ChargeGrain(IOptions<PspOptions> psp, ILogger<ChargeGrain> logger,
    [PersistentState("charge", ChargeRowMapping.Name)] IPersistentState<ChargeState> state) : Grain, IChargeGrain
{
    public async Task<CreateChargeResult> Create(CreateChargeCommand command)
    {
        if (state.State.Charge is not null)
        {
            if (state.State.Fingerprint != command.Fingerprint)
            {
                throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request body.");
            }

            return new CreateChargeResult(state.State.FirstResponse!, Replayed: true);
        }

        var velocity = await GrainFactory.Grain<IVelocityGrain>(command.TenantId).Record(command.ChargeId, command.Customer, command.PaymentMethod);
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
        state.State.TraceParent = Activity.Current?.Id; // the caller's trace (Orleans carries it into grain calls)
        if (risk.Decision == RiskEngine.Block)
        {
            await SaveAsync(charge, ChargeStatus.Created, [("charge.created", charge)]);
            await MoveAsync(ChargeStatus.Failed, c => c with { FailureCode = "risk_blocked", FailureMessage = "The charge was blocked by the tenant's risk rules." });
            return new CreateChargeResult(charge, Replayed: false);
        }

        state.State.AttemptScheduled = true;
        if (psp.Value.StartDelay > TimeSpan.Zero)
        {
            // A window in which the charge can still be canceled: it stays created until the attempt is due.
            await SaveAsync(charge, ChargeStatus.Created, [("charge.created", charge)]);
        }
        else
        {
            // No such window: the charge is processing from the start, and both events are written with it (one
            // commit instead of a second one moments later, when the attempt takes it). The first attempt goes out at
            // once from this silo's sender; only a charge it does not settle reaches the retry grain.
            var processing = charge with { Status = ChargeStatus.Processing.ToApi() };
            await SaveAsync(processing, ChargeStatus.Processing, [("charge.created", charge), ("charge.processing", processing)]);
            SendFirstAttempt(processing);
            return new CreateChargeResult(charge, Replayed: false);
        }

        await HandOverAsync(resumed: false);
        return new CreateChargeResult(charge, Replayed: false);
    }

    public async Task Resume()
    {
        if (state.State.Charge is null)
        {
            DeactivateOnIdle();
            return;
        }

        if (state.State.Status is ChargeStatus.Created or ChargeStatus.Processing)
        {
            // Processing: an attempt may have gone out before (from an activation or a retry grain that died since).
            await HandOverAsync(resumed: state.State.Status == ChargeStatus.Processing);
        }
    }

    /// <summary>Gives the retry grain its work: at once, or when the cancel window of a created charge ends. The charge
    /// is committed already: a hand-over that fails is not the request's failure (the sweeper hands it over later).</summary>
    private async Task HandOverAsync(bool resumed)
    {
        var c = state.State.Charge!;
        var delay = state.State.Status == ChargeStatus.Created ? c.CreatedAt + psp.Value.StartDelay - DateTime.UtcNow : TimeSpan.Zero;
        try
        {
            await GrainFactory.Grain<IPspRetryGrain>(this.GetPrimaryKeyString())
                .Begin(new PspWork(Payment(c), resumed, state.State.TraceParent), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
        }
        catch (Exception e) when (e is not (InvalidChargeStateException or ChargeNotFoundException))
        {
            HandOverFailed(logger, c.Id, e.Message);
        }
    }

    /// <summary>The charge is committed: its first attempt goes to this silo's sender (one-way). Should that fail, or
    /// this silo die before the answer is recorded, the sweeper hands the charge to its retry grain.</summary>
    private void SendFirstAttempt(Charge c)
    {
        try
        {
            _ = GrainFactory.Grain<IPspSenderGrain>(PspSenderGrain.Key).Send(new PspWork(Payment(c), Resumed: false, state.State.TraceParent));
        }
        catch (Exception e)
        {
            HandOverFailed(logger, c.Id, e.Message);
        }
    }

    private PspPayment Payment(Charge c) => new(state.State.TenantId!, c.Id, c.Amount, c.Currency, c.PaymentMethod);

    public async Task<PspWork> MarkProcessing()
    {
        var c = await Get();
        bool resumed;
        switch (state.State.Status)
        {
            case ChargeStatus.Processing:
                // An attempt may have been handed out before (by an activation that died since).
                resumed = true;
                break;
            case ChargeStatus.Created:
                c = await MoveAsync(ChargeStatus.Processing, c => c);
                resumed = false;
                break;
            default:
                throw new InvalidChargeStateException($"The charge is {c.Status}; it is not processed any further.");
        }

        return new PspWork(Payment(c), resumed, state.State.TraceParent);
    }

    public async Task<Charge> ApplyPspResult(PspOutcome outcome, int attempts)
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
        var result = outcome.Status == "captured"
            ? await MoveAsync(ChargeStatus.Succeeded, c => c with { Attempts = attempts, PspReference = outcome.Reference })
            : await MoveAsync(ChargeStatus.Failed, c => c with
            {
                Attempts = attempts,
                PspReference = outcome.Reference,
                FailureCode = outcome.DeclineCode == "insufficient_funds" ? "insufficient_funds" : "card_declined",
                FailureMessage = "The PSP declined the payment.",
            });
        if (status == ChargeStatus.DeadLettered)
        {
            await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Remove(state.State.TenantId!, result.Id);
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
        await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Add(new DeadLetter(state.State.TenantId!, result.Id, result.Attempts, result.FailureMessage ?? lastError, result.UpdatedAt));
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
        await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Remove(state.State.TenantId!, result.Id);
        await HandOverAsync(resumed: true); // earlier attempts may still have reached the PSP
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
        await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Remove(state.State.TenantId!, result.Id);
        return result;
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

    private async Task<Charge> MoveAsync(ChargeStatus to, Func<Charge, Charge> change)
    {
        var from = state.State.Status;
        if (!ChargeStatusMachine.CanMove(from, to))
        {
            throw new InvalidChargeStateException($"A charge cannot move from {from.ToApi()} to {to.ToApi()}.");
        }

        var next = change(state.State.Charge!) with { Status = to.ToApi(), UpdatedAt = DateTime.UtcNow };
        await SaveAsync(next, to, [("charge." + to.ToApi(), next)]);
        return next;
    }

    /// <summary>Writes the charge with its events (each with the charge as it stood); its read-model row is its state
    /// (<see cref="ChargeRowMapping"/>).</summary>
    private async Task SaveAsync(Charge charge, ChargeStatus status, (string Type, Charge Charge)[] events)
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
            ]);
        }
        catch
        {
            (state.State.Charge, state.State.Status) = previous;
            throw;
        }
    }

    [LoggerMessage(EventId = 7200, Level = LogLevel.Warning, Message = "Charge {ChargeId} is committed but its retry grain could not take it ({Reason}); the charge sweeper hands it over")]
    private static partial void HandOverFailed(ILogger logger, string chargeId, string reason);
}
