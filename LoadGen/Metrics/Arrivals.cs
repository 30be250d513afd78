using System.Collections.Concurrent;
using FinCore.LoadGen.Engine;

namespace FinCore.LoadGen.Metrics;

/// <summary>What a sink of asynchronous deliveries (emails, pushed notifications) received: every arrival, the distinct
/// ones by id, the repeats, and each first arrival's lag after the event it tells of.</summary>
internal sealed class Arrivals
{
    private readonly ConcurrentDictionary<string, byte> _seen = new();
    private long _received;
    private long _duplicates;
    private long _last;

    /// <summary>Arrival − the event's time of each first arrival, in microseconds.</summary>
    public Latencies Lag { get; } = new();

    public long Received => Interlocked.Read(ref _received);

    public long Unique => _seen.Count;

    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Counts one arrival of <paramref name="id"/> (null: unidentifiable, counted as a repeat) at
    /// <paramref name="arrived"/>, for an event of <paramref name="occurred"/> (null: its lag unknown).</summary>
    public void Add(string? id, DateTimeOffset arrived, DateTimeOffset? occurred)
    {
        Interlocked.Exchange(ref _last, Clock.Now);
        Interlocked.Increment(ref _received);
        if (id is null || !_seen.TryAdd(id, 0))
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        if (occurred is { } o)
        {
            Lag.Record(Math.Max(0, (long)((arrived - o).TotalMilliseconds * 1000)));
        }
    }

    /// <summary>Waits until <paramref name="expected"/> distinct arrivals (when known) and none for
    /// <paramref name="quiet"/>, or <paramref name="limit"/> passed.</summary>
    public async Task SettleAsync(long? expected, TimeSpan quiet, TimeSpan limit, CancellationToken ct)
    {
        var end = Clock.Now + Clock.FromSpan(limit);
        Interlocked.CompareExchange(ref _last, Clock.Now, 0);
        while (Clock.Now < end && ((expected is { } e && Unique < e) || Clock.Seconds(Clock.Now - Interlocked.Read(ref _last)) < quiet.TotalSeconds))
        {
            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }
}
