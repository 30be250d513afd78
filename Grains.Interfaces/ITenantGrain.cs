namespace FinCore.Grains;

/// <summary>A tenant, keyed by its id (<c>ten_…</c>): settings, limits, webhook endpoint and API keys. Every method
/// is idempotent.</summary>
[Alias("fincore.tenant-grain")]
public interface ITenantGrain : IGrainWithStringKey
{
    [Alias("create")]
    Task<TenantSettings> Create(string name, string currency, TenantLimits limits, string keyId, byte[] keyHash);

    [Alias("get")]
    Task<TenantSettings> Get();

    [Alias("add-api-key")]
    Task AddApiKey(string keyId, byte[] keyHash);

    /// <summary>Revokes a key; <see cref="ApiKeyNotFoundException"/> when the tenant has no such key.</summary>
    [Alias("revoke-api-key")]
    Task RevokeApiKey(string keyId);

    [Alias("set-webhook")]
    Task SetWebhook(string url, string secret);

    /// <summary>Sets the address security alerts go to (null: none); stored encrypted, as customers' personal data is.</summary>
    [Alias("set-contact")]
    Task<TenantSettings> SetContact(string? email);
}
