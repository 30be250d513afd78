using FinCore.Persistence;
using FinCore.Privacy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FinCore.Grains.Customers;

/// <summary>
/// Keeps personal data under the current keys, on every silo: at start it rewraps tenants' keys wrapped by a previous
/// master key (<c>FINCORE_MASTER_KEY_PREVIOUS</c>); then, every few minutes, it has each customer whose personal data is
/// under an older data key of its tenant (or stored from before encryption) reseal it, through its grain, so the state
/// and the row change together. Several silos sweeping at once is harmless: a customer reseals once.
/// </summary>
internal sealed partial class PersonalDataStartup(PersonalDataProtector protector, Database database, IGrainFactory grains, ILogger<PersonalDataStartup> logger)
    : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(5);
    private const int Batch = 200;

    /// <summary>Customers not under their tenant's current data key (or not sealed at all), erased ones aside.</summary>
    private const string Stale = """
        SELECT c.tenant_id, c.id FROM customers c
        WHERE c.erased_at IS NULL
          AND (c.sealed IS NULL OR c.sealed_version < (SELECT max(k.version) FROM tenant_keys k WHERE k.tenant_id = c.tenant_id AND k.purpose = 'data'))
        LIMIT $1
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var rewrapped = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var ok = false;
            try
            {
                if (!rewrapped)
                {
                    var n = await protector.RewrapAsync(stoppingToken);
                    rewrapped = true;
                    if (n > 0)
                    {
                        Rewrapped(logger, n);
                    }
                }

                var resealed = await ResealAsync(stoppingToken);
                if (resealed > 0)
                {
                    Resealed(logger, resealed);
                }

                ok = true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Failed(logger, e.Message);
            }

            try
            {
                await Task.Delay(ok ? Period : TimeSpan.FromSeconds(10), stoppingToken); // not yet: the silo may still be joining
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<int> ResealAsync(CancellationToken ct)
    {
        var total = 0;
        while (true)
        {
            var stale = new List<(string Tenant, string Customer)>();
            await using (var cmd = database.DataSource.CreateCommand(Stale))
            {
                cmd.Parameters.AddWithValue(Batch);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    stale.Add((r.GetString(0), r.GetString(1)));
                }
            }

            var done = 0;
            foreach (var (tenant, customer) in stale)
            {
                done += await grains.Grain<ICustomerGrain>(Ids.Key(tenant, customer)).Reseal() ? 1 : 0;
            }

            total += done;
            if (stale.Count < Batch || done == 0)
            {
                return total;
            }
        }
    }

    [LoggerMessage(EventId = 7900, Level = LogLevel.Information, Message = "Rewrapped {Count} tenant keys with the current master key")]
    private static partial void Rewrapped(ILogger logger, int count);

    [LoggerMessage(EventId = 7901, Level = LogLevel.Information, Message = "Resealed the personal data of {Count} customers under their tenants' current data keys")]
    private static partial void Resealed(ILogger logger, int count);

    [LoggerMessage(EventId = 7902, Level = LogLevel.Warning, Message = "Resealing personal data failed (trying again later): {Error}")]
    private static partial void Failed(ILogger logger, string error);
}
