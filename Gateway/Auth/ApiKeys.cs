using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using FinCore.Grains;
using FinCore.Persistence;

namespace FinCore.Gateway.Auth;

/// <summary>Tenant API keys: made of 32 random bytes, shown once, stored only as SHA-256. Lookups are cached for a
/// few seconds (a revocation reaches other gateways within <see cref="CacheFor"/>; this one at once).</summary>
internal sealed class ApiKeys(Database database)
{
    public const string Prefix = "fc_sk_";
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan UnknownCacheFor = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, (TenantContext? Tenant, long Expires)> _cache = new(StringComparer.Ordinal);

    public static (string Key, string KeyId, byte[] Hash) NewKey()
    {
        var key = Prefix + Ids.Base62(RandomNumberGenerator.GetBytes(32));
        return (key, Ids.New("key_", 12), Hash(key));
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static bool LooksLikeKey(string? value) =>
        value is not null && value.Length is > 40 and < 100 && value.StartsWith(Prefix, StringComparison.Ordinal) &&
        value.AsSpan(Prefix.Length).IndexOfAnyExcept("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") < 0;

    public async ValueTask<TenantContext?> AuthenticateAsync(string key, CancellationToken ct)
    {
        if (!LooksLikeKey(key))
        {
            return null;
        }

        var hash = Hash(key);
        var cacheKey = Convert.ToHexString(hash);
        var now = Environment.TickCount64;
        if (_cache.TryGetValue(cacheKey, out var cached) && cached.Expires > now)
        {
            return cached.Tenant;
        }

        await using var cmd = database.DataSource.CreateCommand("""
            SELECT k.key_hash, k.key_id, t.id, t.currency, t.max_amount, t.requests_per_second, t.velocity_customer, t.velocity_payment_method
            FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL
            """);
        cmd.Parameters.AddWithValue(hash);
        TenantContext? tenant = null;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            if (await r.ReadAsync(ct) && CryptographicOperations.FixedTimeEquals(r.GetFieldValue<byte[]>(0), hash))
            {
                tenant = new TenantContext(r.GetString(2), r.GetString(1), r.GetString(3),
                    new TenantLimits(r.GetInt64(4), r.GetInt32(5), r.GetInt32(6), r.GetInt32(7)));
            }
        }

        _cache[cacheKey] = (tenant, now + (long)(tenant is null ? UnknownCacheFor : CacheFor).TotalMilliseconds);
        return tenant;
    }

    /// <summary>Forgets cached lookups of a revoked key (or of a tenant whose settings changed).</summary>
    public void Forget(Func<TenantContext, bool> which)
    {
        foreach (var (k, v) in _cache)
        {
            if (v.Tenant is { } t && which(t))
            {
                _cache.TryRemove(k, out _);
            }
        }
    }
}
