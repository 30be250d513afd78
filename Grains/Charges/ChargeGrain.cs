using System.Diagnostics;
using System.Text.Json;
using FinCore.Grains.Psp;
using FinCore.Grains.Risk;
using FinCore.Grains.Storage;
using FinCore.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

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
[CollectionAgeLimit(Minutes = 1)] // an unsettled charge, or one read again: a later read reactivates it from its row
public sealed partial class ChargeGrain(IOptions<PspOptions> psp, ILogger<ChargeGrain> logger, Database database,
    [FromKeyedServices(ChargeRowMapping.Name)] IGrainStorage storage) : Grain, IChargeGrain
{
    /// <summary>The state's name in storage.</summary>
    private const string StateName = "charge";

    private readonly GrainState<ChargeState> _state = new(new ChargeState());

    /// <summary>The state is what storage holds: read, or written by this activation. A create is not read first.</summary>
    private bool _loaded;

    private ChargeState State => _state.State ??= new ChargeState();

    /// <summary>Reads the state, once per activation (every call but a create's first, which does not need to).</summary>
    private async ValueTask LoadAsync()
    {
        if (!_loaded)
        {
            await storage.ReadStateAsync(StateName, this.GetGrainId(), _state);
            if (!_state.RecordExists)
            {
                _state.State = new ChargeState();
            }

            _loaded = true;
        }
    }

    /// <summary>A create reaches a new charge nearly always, so its activation does not read first (one query per charge
    /// less): the charge is written as new, and should its row exist after all (the create is a retry of one whose
    /// activation is gone), that write conflicts, writes nothing, and the stored charge answers.</summary>
    public async Task<CreateChargeResult> Create(CreateChargeCommand command)
    {
        if (_loaded)
        {
            return State.Charge is null ? await CreateNewAsync(command) : Replay(command);
        }

        try
        {
            return await CreateNewAsync(command);
        }
        catch (InconsistentStateException) when (!_loaded)
        {
            await LoadAsync();
            if (State.Charge is null)
            {
                throw; // not a stored charge: some other conflict
            }

            // Counted again in the tenant's velocity windows on the way: that count goes (the stored charge has its own).
            await GrainFactory.Grain<IVelocityGrain>(command.TenantId).Forget(command.ChargeId);
            return Replay(command);
        }
    }

    private CreateChargeResult Replay(CreateChargeCommand command) =>
        State.Fingerprint == command.Fingerprint
            ? new CreateChargeResult(State.FirstResponse!, Replayed: true)
            : throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request body.");

    private async Task<CreateChargeResult> CreateNewAsync(CreateChargeCommand command)
    {
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
            Account = command.Account,
            Risk = risk,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var s = _loaded ? State : (_state.State = new ChargeState()); // not read: whatever a failed create left goes
        s.TenantId = command.TenantId;
        s.Fingerprint = command.Fingerprint;
        s.FirstResponse = charge;
        s.TraceParent = Activity.Current?.Id; // the caller's trace (Orleans carries it into grain calls)
        if (risk.Decision == RiskEngine.Block)
        {
            await SaveAsync(charge, ChargeStatus.Created, [("charge.created", charge)]);
            await MoveAsync(ChargeStatus.Failed, c => c with { FailureCode = "risk_blocked", FailureMessage = "The charge was blocked by the tenant's risk rules." });
            return new CreateChargeResult(charge, Replayed: false);
        }

        State.AttemptScheduled = true;
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
        await LoadAsync();
        if (State.Charge is null)
        {
            DeactivateOnIdle();
            return;
        }

        if (State.Status is ChargeStatus.Created or ChargeStatus.Processing)
        {
            // Processing: an attempt may have gone out before (from an activation or a retry grain that died since).
            await HandOverAsync(resumed: State.Status == ChargeStatus.Processing);
        }
    }

    /// <summary>Gives the retry grain its work: at once, or when the cancel window of a created charge ends. The charge
    /// is committed already: a hand-over that fails is not the request's failure (the sweeper hands it over later).</summary>
    private async Task HandOverAsync(bool resumed)
    {
        var c = State.Charge!;
        var delay = State.Status == ChargeStatus.Created ? c.CreatedAt + psp.Value.StartDelay - DateTime.UtcNow : TimeSpan.Zero;
        try
        {
            await GrainFactory.Grain<IPspRetryGrain>(this.GetPrimaryKeyString())
                .Begin(new PspWork(Payment(c), resumed, State.TraceParent), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
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
            _ = GrainFactory.Grain<IPspSenderGrain>(PspSenderGrain.Key).Send(new PspWork(Payment(c), Resumed: false, State.TraceParent));
        }
        catch (Exception e)
        {
            HandOverFailed(logger, c.Id, e.Message);
        }
    }

    private PspPayment Payment(Charge c) => new(State.TenantId!, c.Id, c.Amount, c.Currency, c.PaymentMethod);

    public async Task<PspWork> MarkProcessing()
    {
        var c = await Get();
        bool resumed;
        switch (State.Status)
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

        return new PspWork(Payment(c), resumed, State.TraceParent);
    }

    public async Task<Charge> ApplyPspResult(PspOutcome outcome, int attempts)
    {
        var current = await Get();
        var status = State.Status;
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
            await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Remove(State.TenantId!, result.Id);
        }

        // Settled: from now on a charge is read rarely (webhooks and lists read its rows), and a read reactivates it
        // from its row. Not kept in memory for its idle minute: at 900 charges/s that was ~50,000 activations per
        // silo, which the silo walks for its activation gauges every second and the GC carries.
        DeactivateOnIdle();
        return result;
    }

    public async Task<Charge> MarkDeadLettered(int attempts, string lastError)
    {
        var result = await Get();
        if (State.Status != ChargeStatus.DeadLettered)
        {
            result = await MoveAsync(ChargeStatus.DeadLettered, c => c with { Attempts = attempts, FailureCode = "psp_unavailable", FailureMessage = lastError });
        }

        // Also when it is dead-lettered already: this is then a repeated call, and the one before may have committed
        // the charge but never reached the dead-letter grain. An alert raised twice beats one never raised.
        await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Add(new DeadLetter(State.TenantId!, result.Id, result.Attempts, result.FailureMessage ?? lastError, result.UpdatedAt));
        return result;
    }

    public async Task<Charge> RetryDeadLetter()
    {
        var current = await Get();
        if (State.Status == ChargeStatus.Processing)
        {
            return current;
        }

        var result = await MoveAsync(ChargeStatus.Processing, c => c with { FailureCode = null, FailureMessage = null });
        await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Remove(State.TenantId!, result.Id);
        await HandOverAsync(resumed: true); // earlier attempts may still have reached the PSP
        return result;
    }

    public async Task<Charge> DiscardDeadLetter()
    {
        var current = await Get();
        if (State.Status == ChargeStatus.Failed && current.FailureCode == "discarded")
        {
            return current;
        }

        if (State.Status != ChargeStatus.DeadLettered)
        {
            throw new InvalidChargeStateException($"Only a dead-lettered charge can be discarded; this one is {current.Status}.");
        }

        var result = await MoveAsync(ChargeStatus.Failed, c => c with { FailureCode = "discarded", FailureMessage = "Discarded by an operator after retries were exhausted." });
        await GrainFactory.Grain<IDeadLetterGrain>(DeadLetters.Key).Remove(State.TenantId!, result.Id);
        return result;
    }

    public async Task<Charge> Get()
    {
        await LoadAsync();
        if (State.Charge is null)
        {
            DeactivateOnIdle(); // nothing to keep in memory for an id that does not exist
            throw new ChargeNotFoundException("No such charge.");
        }

        return State.Charge;
    }

    public async Task<Charge> Cancel()
    {
        var current = await Get();
        if (State.Status == ChargeStatus.Canceled)
        {
            return current; // a repeated cancel is a no-op
        }

        if (!ChargeStatusMachine.CanMove(State.Status, ChargeStatus.Canceled))
        {
            throw new InvalidChargeStateException($"A charge can be canceled only while it is created; this one is {current.Status}.");
        }

        return await MoveAsync(ChargeStatus.Canceled, c => c);
    }

    private async Task<Charge> MoveAsync(ChargeStatus to, Func<Charge, Charge> change)
    {
        var from = State.Status;
        if (!ChargeStatusMachine.CanMove(from, to))
        {
            throw new InvalidChargeStateException($"A charge cannot move from {from.ToApi()} to {to.ToApi()}.");
        }

        var next = change(State.Charge!) with { Status = to.ToApi(), UpdatedAt = DateTime.UtcNow };
        await SaveAsync(next, to, [("charge." + to.ToApi(), next)]);
        return next;
    }

    /// <summary>Writes the charge with its events (each with the charge as it stood); its read-model row is its state
    /// (<see cref="ChargeRowMapping"/>).</summary>
    private Task SaveAsync(Charge charge, ChargeStatus status, (string Type, Charge Charge)[] events)
    {
        var tenant = State.TenantId!;
        var insertEvents = PaymentsSql.InsertEvents(tenant, charge.Id, charge.UpdatedAt,
            Array.ConvertAll(events, e => e.Type), Array.ConvertAll(events, e => JsonSerializer.Serialize(e.Charge, ApiJson.Options)));
        // A charge that funds an account credits it in the transaction that settles it (once: a settled charge never
        // settles again, and a stale activation's write, the credit with it, is refused).
        return WriteAsync(charge, status, status == ChargeStatus.Succeeded && charge.Account is { } account
            ? [insertEvents, Ledger.LedgerSql.Fund(tenant, charge.Id, account, charge.Amount, charge.UpdatedAt)]
            : [insertEvents]);
    }

    /// <summary>Writes the charge with <paramref name="commands"/> in one transaction; memory is left as it was when
    /// the write fails.</summary>
    private async Task WriteAsync(Charge charge, ChargeStatus status, IReadOnlyList<StorageCommand> commands)
    {
        var previous = (State.Charge, State.Status);
        State.Charge = charge;
        State.Status = status;
        try
        {
            await storage.WriteStateAsync(StateName, this.GetGrainId(), _state, commands);
            _loaded = true;
        }
        catch
        {
            (State.Charge, State.Status) = previous;
            throw;
        }
    }

    [LoggerMessage(EventId = 7200, Level = LogLevel.Warning, Message = "Charge {ChargeId} is committed but its retry grain could not take it ({Reason}); the charge sweeper hands it over")]
    private static partial void HandOverFailed(ILogger logger, string chargeId, string reason);
}
