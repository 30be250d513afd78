using FinCore.Grains.Storage;
using FinCore.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FinCore.Grains.Audit;

/// <summary>Four times a second, finds tenants with unsealed events and asks their audit grains to seal them, so the
/// chain (and the webhooks and notifications made from it) trails the charges by a quarter of a second. Every active silo runs one, each for its share of the tenants (by a hash of
/// the tenant id over the active silos in address order): while silos join or leave, two may ask for one tenant for a
/// second (harmless: the grain seals once) or none (sealed a second later).</summary>
public sealed partial class AuditSealer(IClusterMembershipService membership, ILocalSiloDetails local, IGrainFactory grains, Database database,
    ILogger<AuditSealer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>Tenants sealed at once on a silo.</summary>
    private const int Concurrency = 16;

    /// <summary>The kick in flight per tenant with a webhook endpoint (at most one each).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _kicks = new();

    /// <summary>The kick in flight per tenant to its notifier (tenants with customers or a security contact).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _notifierKicks = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await NextTickAsync(timer, stoppingToken))
        {
            if (!IsActive)
            {
                continue;
            }

            try
            {
                var tenants = new List<(string Id, bool HasWebhook, bool Notifies)>();
                await using (var cmd = database.DataSource.CreateCommand(PaymentsSql.TenantsWithPending))
                await using (var r = await cmd.ExecuteReaderAsync(stoppingToken))
                {
                    while (await r.ReadAsync(stoppingToken))
                    {
                        tenants.Add((r.GetString(0), r.GetBoolean(1), r.GetBoolean(2)));
                    }
                }

                // Tenants are sealed side by side: one at a time, a pass took a query and a commit per tenant in
                // turn, so with many active tenants it outgrew the interval and every chain (and webhook) fell behind.
                // Side by side, the seals of many tenants share the storage's group commits.
                var (index, count) = Share();
                var owned = tenants.Where(t => (int)(StableHash(t.Id) % (uint)count) == index).ToList();
                await Parallel.ForEachAsync(owned, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = stoppingToken }, async (t, ct) =>
                {
                    if (!IsActive)
                    {
                        return; // leaving: the next owner seals
                    }

                    // A seal that found fewer than a batch emptied the tenant's queue as it stood.
                    while (await UnlessStopping(grains.Grain<IAuditGrain>(t.Id).Seal(), ct) >= AuditGrain.BatchSize)
                    {
                    }

                    // Sealed events are what webhooks carry: tell the tenant's deliverer, when it has an endpoint
                    // (otherwise every tenant would cost a reminder write each second). Not awaited: the kick waits
                    // for the deliverer's turn, which waits for the tenant's endpoint, and the other tenants' chains
                    // must not. One kick per tenant at a time; one still waiting has the new events covered.
                    if (t.HasWebhook && (!_kicks.TryGetValue(t.Id, out var kick) || kick.IsCompleted))
                    {
                        _kicks[t.Id] = KickAsync(grains.Grain<IWebhookGrain>(t.Id).Kick, t.Id);
                    }

                    // Sealed events are what notifications are made from, likewise, for tenants with someone to notify.
                    if (t.Notifies && (!_notifierKicks.TryGetValue(t.Id, out var nk) || nk.IsCompleted))
                    {
                        _notifierKicks[t.Id] = KickAsync(grains.Grain<INotificationGrain>(t.Id).Kick, t.Id);
                    }
                });
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                SealFailed(logger, e.Message);
            }
        }
    }

    private bool IsActive => membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress) == SiloStatus.Active;

    /// <summary>This silo's place among the active silos, and how many there are.</summary>
    private (int Index, int Count) Share()
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress).OrderBy(a => a.ToParsableString(), StringComparer.Ordinal).ToList();
        var index = active.IndexOf(local.SiloAddress);
        return index < 0 ? (0, 1) : (index, active.Count);
    }

    /// <summary>FNV-1a over the id's characters: the same in every process (string.GetHashCode is not).</summary>
    private static uint StableHash(string s)
    {
        var h = 2166136261u;
        foreach (var c in s)
        {
            h = (h ^ c) * 16777619u;
        }

        return h;
    }

    private async Task KickAsync(Func<Task> kick, string tenant)
    {
        try
        {
            await kick();
        }
        catch (Exception e)
        {
            KickFailed(logger, tenant, e.Message);
        }
    }

    /// <summary>Stops waiting for a grain call when the silo stops: once this silo is leaving the call may wait up to the
    /// response timeout, holding up the shutdown.</summary>
    private static async Task UnlessStopping(Task call, CancellationToken ct)
    {
        await Task.WhenAny(call, Task.Delay(Timeout.Infinite, ct));
        ct.ThrowIfCancellationRequested();
        await call;
    }

    private static async Task<int> UnlessStopping(Task<int> call, CancellationToken ct)
    {
        await UnlessStopping((Task)call, ct);
        return await call;
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false; // stopping (or the host never started): end quietly
        }
    }

    [LoggerMessage(EventId = 7000, Level = LogLevel.Warning, Message = "Sealing audit entries failed (retried next round): {Reason}")]
    private static partial void SealFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Telling tenant {Tenant}'s webhook deliverer of new events failed (told again on its next events): {Reason}")]
    private static partial void KickFailed(ILogger logger, string tenant, string reason);
}
