
namespace FinCore.Grains.Risk;

/// <summary>Sliding one-minute windows per customer and per payment method for one tenant. A charge is counted
/// once even if its create is retried. Windows that saw nothing for a minute are dropped once a minute, so memory
/// follows the customers and payment methods active in the last minute or two.</summary>
[GrainType("velocity")]
public sealed class VelocityGrain : Grain, IVelocityGrain
{
    private static readonly long Window = TimeSpan.FromMinutes(1).Ticks;
    private readonly Dictionary<string, Queue<long>> _windows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Counted> _seen = new(StringComparer.Ordinal);
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
            var (at, id) = _seenOrder.Dequeue();
            if (_seen.TryGetValue(id, out var expired) && expired.At == at)
            {
                _seen.Remove(id); // (not one counted again since: forgotten, then recorded anew)
            }
        }

        if (_seen.TryGetValue(chargeId, out var counted))
        {
            return Task.FromResult(counted.Counts);
        }

        var customerKey = customer is null ? null : "cus:" + customer;
        var methodKey = "pm:" + paymentMethod;
        var counts = new VelocityCounts(customerKey is null ? 0 : Count(customerKey, now), Count(methodKey, now));
        _seen[chargeId] = new Counted(counts, now, customerKey, methodKey);
        _seenOrder.Enqueue((now, chargeId));
        return Task.FromResult(counts);
    }

    public Task Forget(string chargeId)
    {
        if (_seen.Remove(chargeId, out var counted))
        {
            // Rare (a replayed create whose activation was gone): rebuilding the two windows is cheap enough.
            Uncount(counted.CustomerKey, counted.At);
            Uncount(counted.MethodKey, counted.At);
        }

        return Task.CompletedTask;
    }

    private void Uncount(string? key, long at)
    {
        if (key is not null && _windows.TryGetValue(key, out var q))
        {
            var kept = q.ToList();
            kept.Remove(at);
            _windows[key] = new Queue<long>(kept);
        }
    }

    /// <summary>What <see cref="Record"/> answered for a charge, when, and in which windows it counted.</summary>
    private readonly record struct Counted(VelocityCounts Counts, long At, string? CustomerKey, string MethodKey);

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
