using System.Diagnostics;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace FinCore.Cluster;

/// <summary>Retries an idempotent grain call through the seconds in which the cluster notices a silo died. Calls routed
/// to the dead silo, or through its gateway, fail fast (connection refused, message rejected) or time out after the
/// client's response timeout; the grain answers again from another silo once the death is declared (~2 s here). A
/// retried call may have run once already, so only calls that are idempotent by design go through this: every charge
/// call is (the grain keeps the first response, a repeated request returns it).</summary>
public static class GrainCallRetry
{
    /// <summary>How long a call keeps being retried, from its first attempt. Default 10 s: long enough for a silo's death
    /// to be declared (~2 s) with room for one response timeout (5 s).</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(10);

    public static async Task<T> IdempotentAsync<T>(Func<Task<T>> call, TimeSpan? budget = null, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        var limit = budget ?? DefaultBudget;
        var delayMs = 20;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested
                && Stopwatch.GetElapsedTime(start) + TimeSpan.FromMilliseconds(delayMs) < limit)
            {
                // Full jitter: callers that failed together do not come back together.
                await Task.Delay(Random.Shared.Next(delayMs / 2, delayMs + 1), cancellationToken);
                delayMs = Math.Min(delayMs * 2, 500);
            }
        }
    }

    public static Task IdempotentAsync(Func<Task> call, TimeSpan? budget = null, CancellationToken cancellationToken = default) =>
        IdempotentAsync(async () =>
        {
            await call();
            return true;
        }, budget, cancellationToken);

    /// <summary>The failures that say the cluster is changing (a silo or its gateway is gone, or was too busy), not that
    /// the call itself is wrong: a repeat can succeed. A version conflict on state is one too: the grain moved to another
    /// activation while the call ran there. So is a message that expired before a silo could place its grain (Orleans
    /// raises <see cref="OperationCanceledException"/>: the silo was too busy); the caller's own cancellation is not
    /// retried (<see cref="IdempotentAsync{T}"/> checks its token).</summary>
    public static bool IsTransient(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException
        or ConnectionFailedException or GatewayTooBusyException or TimeoutException or InconsistentStateException
        or Orleans.Networking.Shared.SocketConnectionException or OperationCanceledException;
}
