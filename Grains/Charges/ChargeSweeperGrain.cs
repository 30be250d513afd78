using FinCore.Grains.Storage;
using FinCore.Persistence;
using Microsoft.Extensions.Hosting;
using FinCore.Grains.Psp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Charges;

/// <summary>The safety net that makes "an acknowledged charge is always on its way to the PSP" hold whatever process
/// dies when. A charge commits, then hands itself to its retry grain, which attempts at once and registers an Orleans
/// reminder only when an attempt fails: a silo that dies after the commit and before a reminder exists leaves a charge
/// <c>created</c> or <c>processing</c> that nothing would move. Every <see cref="PspOptions.SweepPeriod"/> (an Orleans
/// reminder, so the sweep itself survives any silo) this grain finds charges unchanged for
/// <see cref="PspOptions.StrandedAfter"/> (past their start delay) with no attempt reminder and asks each to hand itself over again (<see cref="IChargeGrain.Resume"/>: idempotent; a retry grain
/// with work under way ignores it, and a new one asks the PSP before it sends). It also takes over what is left in the
/// reminder table of FinCore's runtime before Orleans (gone from new databases), and finishes transfers left half-done
/// (debited, not credited) by a caller that gave up or died between the halves, and hands pending refunds to their
/// refund grains again.</summary>
[GrainType("charge-sweeper")]
public sealed partial class ChargeSweeperGrain(Database database, IOptions<PspOptions> options, ILogger<ChargeSweeperGrain> logger) : Grain, IChargeSweeperGrain, IRemindable
{
    private const string Reminder = "sweep";
    private const int Batch = 500;

    public Task EnsureStarted()
    {
        var period = options.Value.SweepPeriod > TimeSpan.FromSeconds(1) ? options.Value.SweepPeriod : TimeSpan.FromSeconds(1);
        return this.RegisterOrUpdateReminder(Reminder, period, period);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == Reminder)
        {
            await Sweep();
        }
    }

    public async Task<int> Sweep()
    {
        await TakeLegacyRemindersAsync();

        var stranded = new List<string>();
        await using (var cmd = database.DataSource.CreateCommand(PaymentsSql.StrandedCharges))
        {
            // A created charge counts from the end of its cancel window.
            cmd.Parameters.AddWithValue(options.Value.StrandedAfter);
            cmd.Parameters.AddWithValue(Batch);
            cmd.Parameters.AddWithValue(FinCore.Cluster.ClusterSettings.ServiceId);
            cmd.Parameters.AddWithValue(options.Value.StartDelay);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                stranded.Add(Ids.ChargeKey(r.GetString(0), r.GetString(1)));
            }
        }

        if (stranded.Count > 0)
        {
            Stranded(logger, stranded.Count);
            // In this grain's turn (grain calls must start from its context), a few dozen at a time.
            using var gate = new SemaphoreSlim(32);
            await Task.WhenAll(stranded.Select(async key =>
            {
                await gate.WaitAsync();
                try
                {
                    await GrainFactory.Grain<IChargeGrain>(key).Resume();
                }
                catch (Exception e)
                {
                    ResumeFailed(logger, key, e.Message); // found again on the next sweep
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        return stranded.Count + await FinishPendingTransfersAsync() + await ResumePendingRefundsAsync();
    }

    /// <summary>Refunds pending for <see cref="PspOptions.StrandedAfter"/>: each is handed to its refund grain again
    /// (nothing for one whose attempts are under way; a new one sends under the same idempotency key, which the PSP
    /// answers with its first outcome).</summary>
    private async Task<int> ResumePendingRefundsAsync()
    {
        var pending = new List<PspRefund>();
        await using (var cmd = database.DataSource.CreateCommand(Refunds.RefundSql.Pending))
        {
            cmd.Parameters.AddWithValue(options.Value.StrandedAfter);
            cmd.Parameters.AddWithValue(Batch);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var refund = Refunds.RefundSql.Read(r);
                pending.Add(new PspRefund(r.GetString(11), refund.Id, refund.Charge, refund.Amount, refund.Currency));
            }
        }

        if (pending.Count > 0)
        {
            PendingRefunds(logger, pending.Count);
            foreach (var p in pending)
            {
                await GrainFactory.Grain<IRefundGrain>(Ids.Key(p.TenantId, p.RefundId)).Send(p); // one-way
            }
        }

        return pending.Count;
    }

    /// <summary>Transfers debited and not credited for <see cref="PspOptions.StrandedAfter"/> (their caller gave up, or
    /// died, between the halves): each payee's account is asked for the credit, which it makes once whatever else
    /// already asked.</summary>
    private async Task<int> FinishPendingTransfersAsync()
    {
        var pending = new List<(string Tenant, Transfer Transfer)>();
        await using (var cmd = database.DataSource.CreateCommand(Ledger.LedgerSql.PendingTransfers))
        {
            cmd.Parameters.AddWithValue(options.Value.StrandedAfter);
            cmd.Parameters.AddWithValue(Batch);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                pending.Add((r.GetString(9), Ledger.LedgerSql.ReadTransfer(r)));
            }
        }

        if (pending.Count == 0)
        {
            return 0;
        }

        PendingTransfers(logger, pending.Count);
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(pending.Select(async p =>
        {
            await gate.WaitAsync();
            try
            {
                await GrainFactory.Grain<IAccountGrain>(Ids.Key(p.Tenant, p.Transfer.To)).Credit(p.Transfer);
            }
            catch (Exception e)
            {
                CreditFailed(logger, p.Transfer.Id, e.Message);
            }
            finally
            {
                gate.Release();
            }
        }));
        return pending.Count;
    }

    /// <summary>The runtime before Orleans kept reminders in <c>fc_reminders</c>: its charges' attempts are found by the
    /// sweep (they have no Orleans reminder), and webhook deliverers with a backoff pending are told now.</summary>
    private async Task TakeLegacyRemindersAsync()
    {
        await using (var exists = database.DataSource.CreateCommand("SELECT to_regclass('fc_reminders') IS NOT NULL"))
        {
            if (await exists.ExecuteScalarAsync() is not true)
            {
                return;
            }
        }

        while (true)
        {
            var webhooks = new List<string>();
            var taken = 0;
            await using (var cmd = database.DataSource.CreateCommand(PaymentsSql.TakeLegacyReminders))
            {
                cmd.Parameters.AddWithValue(Batch);
                await using var r = await cmd.ExecuteReaderAsync();
                while (await r.ReadAsync())
                {
                    taken++;
                    if (r.GetString(0) == "webhook")
                    {
                        webhooks.Add(r.GetString(1));
                    }
                }
            }

            foreach (var tenant in webhooks.Distinct())
            {
                await GrainFactory.Grain<IWebhookGrain>(tenant).Kick();
            }

            if (taken < Batch)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 7300, Level = LogLevel.Warning, Message = "{Count} charges were left unattended by a silo that died; handing them over again")]
    private static partial void Stranded(ILogger logger, int count);

    [LoggerMessage(EventId = 7303, Level = LogLevel.Warning, Message = "{Count} transfers were debited and not credited (their caller gave up or died); crediting them")]
    private static partial void PendingTransfers(ILogger logger, int count);

    [LoggerMessage(EventId = 7305, Level = LogLevel.Information, Message = "{Count} refunds are pending for long; handing them to their refund grains (nothing for those under way)")]
    private static partial void PendingRefunds(ILogger logger, int count);

    [LoggerMessage(EventId = 7304, Level = LogLevel.Warning, Message = "Crediting pending transfer {Id} failed (tried again on the next sweep): {Reason}")]
    private static partial void CreditFailed(ILogger logger, string id, string reason);

    [LoggerMessage(EventId = 7301, Level = LogLevel.Warning, Message = "Handing over stranded charge {Key} failed (tried again on the next sweep): {Reason}")]
    private static partial void ResumeFailed(ILogger logger, string key, string reason);
}

/// <summary>Makes sure the sweep reminder exists once this silo is up (every silo asks: registering is idempotent).</summary>
internal sealed partial class ChargeSweeperStartup(IGrainFactory grains, ILogger<ChargeSweeperStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await grains.Grain<IChargeSweeperGrain>(IChargeSweeperGrain.Key).EnsureStarted();
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                NotYet(logger, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 7302, Level = LogLevel.Information, Message = "The charge sweeper's reminder is not registered yet (trying again): {Reason}")]
    private static partial void NotYet(ILogger logger, string reason);
}
