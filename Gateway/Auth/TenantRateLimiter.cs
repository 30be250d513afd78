using System.Collections.Concurrent;

namespace FinCore.Gateway.Auth;

/// <summary>A token bucket per tenant (capacity: one second of its rate). Per gateway instance: with N gateways
/// behind a balancer a tenant may reach N times its rate.</summary>
internal sealed class TenantRateLimiter
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Takes a token; when none is left, how long until one is.</summary>
    public bool TryAcquire(TenantContext tenant, out TimeSpan retryAfter)
    {
        var bucket = _buckets.GetOrAdd(tenant.TenantId, static _ => new Bucket());
        return bucket.TryTake(Math.Max(1, tenant.Limits.RequestsPerSecond), out retryAfter);
    }

    private sealed class Bucket
    {
        private readonly object _lock = new();
        private double _tokens = -1;
        private long _last = Environment.TickCount64;

        public bool TryTake(int rate, out TimeSpan retryAfter)
        {
            lock (_lock)
            {
                var now = Environment.TickCount64;
                _tokens = _tokens < 0 ? rate : Math.Min(rate, _tokens + (now - _last) * rate / 1000.0);
                _last = now;
                if (_tokens >= 1)
                {
                    _tokens -= 1;
                    retryAfter = TimeSpan.Zero;
                    return true;
                }

                retryAfter = TimeSpan.FromSeconds((1 - _tokens) / rate);
                return false;
            }
        }
    }
}
