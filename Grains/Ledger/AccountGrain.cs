using System.Text.Json;
using FinCore.Persistence;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Concurrency;

namespace FinCore.Grains.Ledger;

/// <summary>
/// One account (<c>{tenant}/{acct}</c>). Its balance is the <c>accounts</c> row, changed only by the ledger statements of
/// <see cref="LedgerSql"/>, each of which writes the change and its entries at once; this grain is where an account's
/// operations queue. Operations that arrive while a write is under way are written together, in order, in one
/// PostgreSQL transaction (one round trip, one commit), so an account receiving from thousands of payers commits
/// batches, not one transaction per transfer. PostgreSQL decides every balance check, under the row's lock: no
/// balance is cached, so nothing a stale activation believes can overdraw an account.
/// </summary>
[GrainType("account")]
[Reentrant] // operations of one account interleave while their batch is written; the batch is what serialises them
public sealed partial class AccountGrain(Database database, ILogger<AccountGrain> logger) : Grain, IAccountGrain
{
    /// <summary>Operations written in one transaction at most.</summary>
    private const int MaxBatch = 200;

    /// <summary>Transfers this activation remembers answering (a retry or a concurrent duplicate waits for the first).</summary>
    private const int Remembered = 10_000;

    private readonly Queue<Operation> _queue = new();
    private readonly Dictionary<string, (string Fingerprint, Task<TransferResult> Outcome)> _transfers = new(StringComparer.Ordinal);
    private readonly Queue<string> _transferOrder = new();

    /// <summary>Accounts this one has paid: what an account is never changes, so it is asked once per activation.</summary>
    private readonly Dictionary<string, AccountInfo> _payees = new(StringComparer.Ordinal);
    private bool _writing;
    private bool _loaded;
    private AccountInfo? _info;

    private string TenantId => this.GetPrimaryKeyString()[..this.GetPrimaryKeyString().IndexOf('/', StringComparison.Ordinal)];

    private string AccountId => this.GetPrimaryKeyString()[(this.GetPrimaryKeyString().IndexOf('/', StringComparison.Ordinal) + 1)..];

    public async Task<AccountInfo?> Info()
    {
        if (!_loaded)
        {
            await using var cmd = database.DataSource.CreateCommand(LedgerSql.AccountInfo);
            cmd.Parameters.AddWithValue(TenantId);
            cmd.Parameters.AddWithValue(AccountId);
            await using var r = await cmd.ExecuteReaderAsync();
            _info = await r.ReadAsync() ? new AccountInfo(AccountId, r.GetString(0), r.GetString(1).Trim(), r.GetDateTime(2)) : null;
            // An account that does not exist yet may be opened a moment later (its customer's create): ask again then.
            _loaded = _info is not null;
        }

        return _info;
    }

    public async Task<TransferResult> Transfer(TransferCommand command)
    {
        if (_transfers.TryGetValue(command.TransferId, out var known))
        {
            if (known.Fingerprint != command.Fingerprint)
            {
                throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request body.");
            }

            return (await known.Outcome) with { Replayed = true };
        }

        var outcome = TransferOnceAsync(command);
        Remember(command.TransferId, command.Fingerprint, outcome);
        try
        {
            return await outcome;
        }
        catch
        {
            // Not answered: a retry starts again (and finds whatever was written).
            _transfers.Remove(command.TransferId);
            throw;
        }
    }

    private async Task<TransferResult> TransferOnceAsync(TransferCommand c)
    {
        _ = await Info() ?? throw new AccountNotFoundException("No such account: " + c.From);
        if (c.To == c.From)
        {
            throw new InvalidTransferException("from and to must be different accounts");
        }

        var payee = GrainFactory.Grain<IAccountGrain>(Ids.Key(c.TenantId, c.To));
        if (!_payees.TryGetValue(c.To, out var to))
        {
            to = await payee.Info() ?? throw new AccountNotFoundException("No such account: " + c.To);
            if (_payees.Count >= Remembered)
            {
                _payees.Clear();
            }

            _payees[c.To] = to;
        }

        if (to.Currency != _info!.Currency || c.Currency != _info.Currency)
        {
            throw new InvalidTransferException($"both accounts and the amount must be in the tenant's currency ({_info.Currency})");
        }

        var now = DateTime.UtcNow;
        var (status, _) = await EnqueueAsync(new Operation(LedgerSql.Debit,
            [c.TenantId, c.TransferId, c.From, c.To, c.Amount, c.Currency, c.Description, c.Fingerprint, now]));
        var transfer = new Transfer
        {
            Id = c.TransferId, From = c.From, To = c.To, Amount = c.Amount, Currency = c.Currency, Description = c.Description,
            Status = "pending", CreatedAt = now,
        };
        switch (status)
        {
            case "failed":
                return new TransferResult(transfer with { Status = "failed", FailureCode = "insufficient_funds" }, Replayed: false);
            case "pending":
                break;
            default:
                // Written before (an answer that was lost, or a concurrent request under the same key).
                var (stored, fingerprint) = await ReadTransferAsync(c.TenantId, c.TransferId);
                if (fingerprint != c.Fingerprint)
                {
                    throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request body.");
                }

                if (stored.Status != "pending")
                {
                    return new TransferResult(stored, Replayed: true);
                }

                // Debited before, its credit not yet made: made now, and this is still a replay of that request.
                await payee.Credit(stored);
                return new TransferResult(stored with { Status = "succeeded" }, Replayed: true);
        }

        // The debit is committed: the credit is owed. Should it fail here, the caller's retry or the sweeper makes it.
        await payee.Credit(transfer);
        return new TransferResult(transfer with { Status = "succeeded" }, Replayed: false);
    }

    public async Task Credit(Transfer transfer)
    {
        _ = await Info() ?? throw new AccountNotFoundException("No such account: " + transfer.To);
        var payload = JsonSerializer.Serialize(transfer with { Status = "succeeded" }, ApiJson.Options);
        await EnqueueAsync(new Operation(LedgerSql.Credit,
            [TenantId, transfer.Id, transfer.To, transfer.Amount, DateTime.UtcNow, Ids.New("evt_"), payload]));
    }

    private void Remember(string id, string fingerprint, Task<TransferResult> outcome)
    {
        _transfers[id] = (fingerprint, outcome);
        _transferOrder.Enqueue(id);
        while (_transferOrder.Count > Remembered)
        {
            var old = _transferOrder.Dequeue();
            if (_transfers.TryGetValue(old, out var o) && o.Outcome.IsCompleted)
            {
                _transfers.Remove(old);
            }
        }
    }

    private static async Task<(Transfer Transfer, string Fingerprint)> ReadTransferAsync(NpgsqlDataSource db, string tenantId, string id)
    {
        await using var cmd = db.CreateCommand(LedgerSql.TransferById);
        cmd.Parameters.AddWithValue(tenantId);
        cmd.Parameters.AddWithValue(id);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync())
        {
            throw new InvalidOperationException($"Transfer {id} of tenant {tenantId} was reported written and is not there.");
        }

        return (LedgerSql.ReadTransfer(r), r.GetString(9));
    }

    private Task<(Transfer Transfer, string Fingerprint)> ReadTransferAsync(string tenantId, string id) => ReadTransferAsync(database.DataSource, tenantId, id);

    /// <summary>Queues an operation for the next batch and waits for its row (status or balance) to be committed.</summary>
    private Task<(string? Status, long? Balance)> EnqueueAsync(Operation op)
    {
        _queue.Enqueue(op);
        if (!_writing)
        {
            _writing = true;
            _ = WriteAllAsync();
        }

        return op.Done.Task;
    }

    /// <summary>Writes what is queued, a batch at a time, until nothing is; runs in the grain's turn.</summary>
    private async Task WriteAllAsync()
    {
        try
        {
            while (_queue.Count > 0)
            {
                var batch = new List<Operation>(Math.Min(_queue.Count, MaxBatch));
                while (batch.Count < MaxBatch && _queue.TryDequeue(out var op))
                {
                    batch.Add(op);
                }

                try
                {
                    await ExecuteAsync(batch);
                }
                catch (PostgresException e) when (batch.Count > 1)
                {
                    // One statement failed (a duplicate racing in from elsewhere) and took the transaction with it:
                    // each alone, so only that one fails.
                    BatchFailed(logger, e.SqlState, batch.Count);
                    foreach (var op in batch)
                    {
                        try
                        {
                            await ExecuteAsync([op]);
                        }
                        catch (Exception inner)
                        {
                            op.Done.TrySetException(inner);
                        }
                    }
                }
                catch (Exception e)
                {
                    foreach (var op in batch)
                    {
                        op.Done.TrySetException(e);
                    }
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    private async Task ExecuteAsync(List<Operation> ops)
    {
        await using var batch = database.DataSource.CreateBatch();
        foreach (var op in ops)
        {
            batch.BatchCommands.Add(Database.Statement(op.Sql, op.Parameters));
        }

        // One round trip, one implicit transaction.
        var results = new (string?, long?)[ops.Count];
        await using (var r = await batch.ExecuteReaderAsync())
        {
            for (var i = 0; i < ops.Count; i++)
            {
                if (i > 0)
                {
                    await r.NextResultAsync();
                }

                if (await r.ReadAsync())
                {
                    results[i] = r.FieldCount == 2
                        ? (r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1))
                        : (null, r.IsDBNull(0) ? null : r.GetInt64(0));
                }
            }
        }

        PaymentsMetrics.LedgerBatch(ops.Count);
        for (var i = 0; i < ops.Count; i++)
        {
            ops[i].Done.TrySetResult(results[i]);
        }
    }

    private sealed record Operation(string Sql, object?[] Parameters)
    {
        public TaskCompletionSource<(string? Status, long? Balance)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(EventId = 7600, Level = LogLevel.Warning, Message = "A ledger batch failed ({SqlState}); writing its {Count} operations one by one")]
    private static partial void BatchFailed(ILogger logger, string sqlState, int count);
}
