using System.Text.Json;
using FinCore.Grains.Refunds;
using FinCore.Grains.Storage;
using FinCore.Persistence;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FinCore.Grains.Charges;

// Refunds: the charge is their single writer. Each refund's row, the charge's amount_refunded and the ledger
// transactions of a funding charge's refund are written with the charge's row, in one transaction; the PSP call is the
// refund grain's, after the commit.
public sealed partial class ChargeGrain
{
    /// <summary>This charge's refunds with their request fingerprints, read from their rows once per activation
    /// (written only by this grain, with its own row: they cannot change behind it).</summary>
    private Dictionary<string, (Refund Refund, string Fingerprint)>? _refunds;

    private async ValueTask<Dictionary<string, (Refund Refund, string Fingerprint)>> RefundsAsync()
    {
        if (_refunds is null)
        {
            var refunds = new Dictionary<string, (Refund, string)>(StringComparer.Ordinal);
            await using var cmd = database.DataSource.CreateCommand(RefundSql.ByCharge);
            cmd.Parameters.AddWithValue(State.TenantId!);
            cmd.Parameters.AddWithValue(State.Charge!.Id);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var refund = RefundSql.Read(r);
                refunds[refund.Id] = (refund, r.GetString(10));
            }

            _refunds = refunds;
        }

        return _refunds;
    }

    public async Task<RefundResult> Refund(RefundCommand command)
    {
        var charge = await Get();
        var refunds = await RefundsAsync();
        if (refunds.TryGetValue(command.RefundId, out var known))
        {
            return ReplayRefund(known.Refund, known.Fingerprint, command);
        }

        if (State.Status != ChargeStatus.Succeeded)
        {
            throw new InvalidChargeStateException($"Only a succeeded charge can be refunded; this one is {charge.Status}.");
        }

        var left = charge.Amount - charge.AmountRefunded;
        var amount = command.Amount ?? left;
        if (left == 0)
        {
            throw new AmountTooLargeException("The charge is refunded in full already.");
        }

        if (amount > left)
        {
            throw new AmountTooLargeException($"The refund ({amount}) is above what is left of the charge ({left} of {charge.Amount}).");
        }

        var now = DateTime.UtcNow;
        var refund = new Refund
        {
            Id = command.RefundId, Charge = charge.Id, Amount = amount, Currency = charge.Currency, Status = "pending",
            Account = charge.Account, CreatedAt = now, UpdatedAt = now,
        };
        var tenant = State.TenantId!;
        StorageCommand[] commands = charge.Account is null
            ? [RefundSql.Insert(tenant, refund, command.Fingerprint)]
            : [RefundSql.Insert(tenant, refund, command.Fingerprint), RefundSql.Debit(tenant, refund)];
        try
        {
            await WriteAsync(charge with { AmountRefunded = charge.AmountRefunded + amount, UpdatedAt = now }, State.Status, commands);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation && e.TableName == "accounts")
        {
            throw new InsufficientFundsException($"Account {charge.Account} cannot cover the refund of {amount}; nothing was moved.");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.TableName == "refunds")
        {
            // The Idempotency-Key made a refund of another charge.
            throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request (a refund of another charge).");
        }

        refunds[refund.Id] = (refund, command.Fingerprint);
        SendRefund(refund);
        return new RefundResult(refund, Replayed: false);
    }

    /// <summary>A repeated request is answered as the first was: the refund as it was made (pending).</summary>
    private static RefundResult ReplayRefund(Refund refund, string fingerprint, RefundCommand command) =>
        fingerprint == command.Fingerprint
            ? new RefundResult(refund with { Status = "pending", FailureCode = null, PspReference = null, UpdatedAt = refund.CreatedAt }, Replayed: true)
            : throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request body.");

    /// <summary>Committed: the PSP call goes to the refund's grain (one-way). Should that fail, or its silo die before the
    /// answer is recorded, the charge sweeper hands the refund over again.</summary>
    private void SendRefund(Refund refund)
    {
        try
        {
            _ = GrainFactory.Grain<IRefundGrain>(Ids.Key(State.TenantId!, refund.Id))
                .Send(new PspRefund(State.TenantId!, refund.Id, refund.Charge, refund.Amount, refund.Currency));
        }
        catch (Exception e)
        {
            RefundHandOverFailed(logger, refund.Id, e.Message);
        }
    }

    public async Task<Refund> ApplyRefundResult(string refundId, PspRefundOutcome outcome)
    {
        var charge = await Get();
        var refunds = await RefundsAsync();
        if (!refunds.TryGetValue(refundId, out var known))
        {
            throw new InvalidChargeStateException($"Charge {charge.Id} has no refund {refundId}.");
        }

        if (known.Refund.Status != "pending")
        {
            return known.Refund; // a repeated or late answer: a settled refund is settled
        }

        var now = DateTime.UtcNow;
        var settled = known.Refund with
        {
            Status = outcome.Refunded ? "succeeded" : "failed",
            FailureCode = outcome.Refunded ? null : outcome.FailureCode ?? "refund_failed",
            PspReference = outcome.Reference,
            UpdatedAt = now,
        };
        var tenant = State.TenantId!;
        var commands = new List<StorageCommand>(3)
        {
            RefundSql.Settle(tenant, settled),
            PaymentsSql.InsertEvents(tenant, charge.Id, now, ["refund." + settled.Status], [JsonSerializer.Serialize(settled, ApiJson.Options)]),
        };
        if (settled.Account is not null)
        {
            commands.Add(RefundSql.Release(tenant, settled));
        }

        // A failed refund gives its amount back: the charge can be refunded by that much again.
        var next = charge with { AmountRefunded = outcome.Refunded ? charge.AmountRefunded : charge.AmountRefunded - settled.Amount, UpdatedAt = now };
        await WriteAsync(next, State.Status, commands);
        refunds[refundId] = (settled, known.Fingerprint);
        return settled;
    }

    [LoggerMessage(EventId = 7201, Level = LogLevel.Warning, Message = "Refund {RefundId} is committed but its refund grain could not take it ({Reason}); the charge sweeper hands it over")]
    private static partial void RefundHandOverFailed(ILogger logger, string refundId, string reason);
}
