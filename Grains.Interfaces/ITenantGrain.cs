using FinCore.Runtime;

namespace FinCore.Grains;

/// <summary>A tenant, keyed by its id (<c>ten_…</c>): settings, limits, webhook endpoint and API keys.</summary>
[GrainType("tenant")]
public interface ITenantGrain : IGrainWithStringKey
{
    [Idempotent]
    Task<TenantSettings> Create(string name, string currency, TenantLimits limits, string keyId, byte[] keyHash);

    [Idempotent]
    Task<TenantSettings> Get();

    [Idempotent]
    Task AddApiKey(string keyId, byte[] keyHash);

    /// <summary>Revokes a key; <see cref="ApiKeyNotFoundException"/> when the tenant has no such key.</summary>
    [Idempotent]
    Task RevokeApiKey(string keyId);

    [Idempotent]
    Task SetWebhook(string url, string secret);
}
