using FinCore.Grains.Storage;
using FinCore.Persistence;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FinCore.Grains.Psp;

public static class DeadLetters
{
    /// <summary>One dead-letter grain for the cluster: dead letters are rare, and operators want them in one place.</summary>
    public const string Key = "all";
}

/// <summary>Raises the alert when a charge is dead-lettered (warning log, metric) and knows how many wait for an
/// operator. The dead letters themselves are the charges whose status is <c>dead_lettered</c> (a partial index keeps
/// them at hand): the grain stores nothing, so a long PSP outage that dead-letters thousands of charges a minute costs
/// one log line and one counter each, not a rewrite of an ever larger set per charge. The count is taken from the
/// database at most every few seconds and kept up to date in between.</summary>
[GrainType("dead-letters")]
public sealed partial class DeadLetterGrain(Database database, ILogger<DeadLetterGrain> logger) : Grain, IDeadLetterGrain
{
    private static readonly long Fresh = TimeSpan.FromSeconds(5).Ticks;
    private int _count;
    private long _countedAt; // never: stale

    /// <summary>Never fails for want of the database: the alert must go out whatever it says.</summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken) => RecountIfStaleAsync();

    /// <summary>The gauge is this silo's: once the grain lives elsewhere, the new silo reports the count.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        PaymentsMetrics.SetDeadLetters(0);
        return Task.CompletedTask;
    }

    public async Task Add(DeadLetter entry)
    {
        Alert(logger, entry.ChargeId, entry.TenantId, entry.Attempts, entry.LastError);
        PaymentsMetrics.DeadLettered();
        _count++;
        await RecountIfStaleAsync();
    }

    public async Task Remove(string tenantId, string chargeId)
    {
        _count = Math.Max(0, _count - 1);
        await RecountIfStaleAsync();
    }

    /// <summary>Charges dead-lettered now, as of at most a few seconds ago: a charge settles in its own transaction
    /// before it tells this grain (so a count taken in between has it already), and a retried call may tell it twice.
    /// The database has the truth.</summary>
    public async Task<int> Count()
    {
        if (Stale)
        {
            await RecountAsync(CancellationToken.None);
        }

        return _count;
    }

    private bool Stale => DateTime.UtcNow.Ticks - _countedAt > Fresh;

    /// <summary>After an add or a remove: the alert is out whatever happens here, so a database that cannot be
    /// reached leaves the count as it was adjusted, until the next recount.</summary>
    private async Task RecountIfStaleAsync()
    {
        if (Stale)
        {
            try
            {
                await RecountAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                RecountFailed(logger, e.Message);
            }
        }

        PaymentsMetrics.SetDeadLetters(_count);
    }

    private async Task RecountAsync(CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand(PaymentsSql.CountDeadLetters);
        _count = (int)(long)(await cmd.ExecuteScalarAsync(ct))!;
        _countedAt = DateTime.UtcNow.Ticks;
        PaymentsMetrics.SetDeadLetters(_count);
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Debug, Message = "Counting dead letters failed (counted again on the next call): {Reason}")]
    private static partial void RecountFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7100, Level = LogLevel.Warning,
        Message = "ALERT charge {ChargeId} of tenant {TenantId} dead-lettered after {Attempts} attempts: {LastError}")]
    private static partial void Alert(ILogger logger, string chargeId, string tenantId, int attempts, string lastError);
}
