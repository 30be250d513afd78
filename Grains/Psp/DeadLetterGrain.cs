using FinCore.Runtime;
using Microsoft.Extensions.Logging;

namespace FinCore.Grains.Psp;

public static class DeadLetters
{
    /// <summary>One dead-letter grain for the cluster: dead letters are rare, and operators want them in one place.</summary>
    public const string Key = "all";
}

/// <summary>Keeps the set of dead-lettered charges, raises the alert when one arrives (warning log, metric), and
/// forgets it when an operator retries or discards it.</summary>
public sealed partial class DeadLetterGrain(ILogger<DeadLetterGrain> logger, [PersistentState("dead-letters")] IPersistentState<DeadLetterState> state)
    : Grain, IDeadLetterGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        PaymentsMetrics.SetDeadLetters(state.State.Entries.Count);
        return Task.CompletedTask;
    }

    public async Task Add(DeadLetter entry)
    {
        var key = entry.TenantId + "/" + entry.ChargeId;
        if (state.State.Entries.ContainsKey(key))
        {
            return;
        }

        state.State.Entries[key] = entry;
        await state.WriteStateAsync();
        PaymentsMetrics.DeadLettered(state.State.Entries.Count);
        Alert(logger, entry.ChargeId, entry.TenantId, entry.Attempts, entry.LastError);
    }

    public async Task Remove(string tenantId, string chargeId)
    {
        if (state.State.Entries.Remove(tenantId + "/" + chargeId))
        {
            await state.WriteStateAsync();
            PaymentsMetrics.SetDeadLetters(state.State.Entries.Count);
        }
    }

    public Task<int> Count() => Task.FromResult(state.State.Entries.Count);

    [LoggerMessage(EventId = 7100, Level = LogLevel.Warning,
        Message = "ALERT charge {ChargeId} of tenant {TenantId} dead-lettered after {Attempts} attempts: {LastError}")]
    private static partial void Alert(ILogger logger, string chargeId, string tenantId, int attempts, string lastError);
}

public sealed class DeadLetterState
{
    public Dictionary<string, DeadLetter> Entries { get; set; } = [];
}
