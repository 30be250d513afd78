
namespace FinCore.Grains.Risk;

/// <summary>Sliding one-minute windows per customer and per payment method for one tenant. A charge is counted
/// once even if its create is retried. Windows that saw nothing for a minute are dropped once a minute, so memory
/// follows the customers and payment methods active in the last minute or two.</summary>
[GrainType("velocity")]
public sealed class VelocityGrain : Grain, IVelocityGrain
{
    private static readonly long Window = TimeSpan.FromMinutes(1).Ticks;
    private readonly Dictionary<string, Queue<long>> _windows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VelocityCounts> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(long At, string ChargeId)> _seenOrder = new();
    private long _lastPrune;

    internal TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Customers and payment methods with a window in memory.</summary>
    internal int TrackedKeys => _windows.Count;

    public Task<VelocityCounts> Record(string chargeId, string? customer, string paymentMethod)
    {
        var now = Clock.GetUtcNow().UtcTicks;
        if (_lastPrune == 0)
        {
            _lastPrune = now;
        }
        else if (now - _lastPrune > Window)
        {
            // Once a minute, not whenever many keys are tracked: a tenant with more active keys than any threshold
            // would otherwise walk them all on every charge.
            Prune(now);
            _lastPrune = now;
        }

        while (_seenOrder.TryPeek(out var oldest) && now - oldest.At > Window)
        {
            _seen.Remove(_seenOrder.Dequeue().ChargeId);
        }

        if (_seen.TryGetValue(chargeId, out var counted))
        {
            return Task.FromResult(counted);
        }

        var counts = new VelocityCounts(customer is null ? 0 : Count("cus:" + customer, now), Count("pm:" + paymentMethod, now));
        _seen[chargeId] = counts;
        _seenOrder.Enqueue((now, chargeId));
        return Task.FromResult(counts);
    }

    private int Count(string key, long now)
    {
        if (!_windows.TryGetValue(key, out var q))
        {
            _windows[key] = q = new Queue<long>();
        }

        while (q.TryPeek(out var t) && now - t > Window)
        {
            q.Dequeue();
        }

        q.Enqueue(now);
        return q.Count;
    }

    private void Prune(long now)
    {
        foreach (var (key, q) in _windows)
        {
            while (q.TryPeek(out var t) && now - t > Window)
            {
                q.Dequeue();
            }

            if (q.Count == 0)
            {
                _windows.Remove(key);
            }
        }
    }
}
