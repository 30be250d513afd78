using System.Text.Json;
using FinCore.Grains.Risk;
using FinCore.Grains.Storage;
using FinCore.Runtime;
using FinCore.Runtime.Persistence;

namespace FinCore.Grains.Charges;

/// <summary>One charge's status machine. Every change is written with its event and its read-model row in one
/// transaction (the outbox), so the audit trail, webhooks and listings never disagree with the charge.</summary>
public sealed class ChargeGrain([PersistentState("charge")] ITransactionalState<ChargeState> state) : Grain, IChargeGrain
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
        await SaveAsync(charge, ChargeStatus.Created, "charge.created");

        if (risk.Decision == RiskEngine.Block)
        {
            await MoveAsync(ChargeStatus.Failed, c => c with { FailureCode = "risk_blocked", FailureMessage = "The charge was blocked by the tenant's risk rules." });
        }

        return new CreateChargeResult(charge, Replayed: false);
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
        await SaveAsync(next, to, "charge." + to.ToApi());
        return next;
    }

    private async Task SaveAsync(Charge charge, ChargeStatus status, string eventType)
    {
        var previous = (state.State.Charge, state.State.Status);
        state.State.Charge = charge;
        state.State.Status = status;
        var tenant = state.State.TenantId!;
        var payload = JsonSerializer.Serialize(charge, ApiJson.Options);
        try
        {
            await state.WriteStateAsync([
                PaymentsSql.UpsertCharge(tenant, charge),
                PaymentsSql.InsertEvent(tenant, charge.Id, eventType, charge.UpdatedAt, payload),
            ]);
        }
        catch
        {
            (state.State.Charge, state.State.Status) = previous;
            throw;
        }
    }
}
