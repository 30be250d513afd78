using FinCore.Grains.Storage;
using FinCore.Persistence;

namespace FinCore.Grains.Tenants;

/// <summary>A tenant's settings and keys. The <c>tenants</c> and <c>api_keys</c> rows the gateway authenticates
/// against are written in the same transaction as this state.</summary>
[GrainType("tenant")]
public sealed class TenantGrain([PersistentState("tenant", "fincore")] IPersistentState<TenantState> state) : Grain, ITenantGrain
{
    private string Id => this.GetPrimaryKeyString();

    public async Task<TenantSettings> Create(string name, string currency, TenantLimits limits, string keyId, byte[] keyHash)
    {
        if (state.State.Name is null)
        {
            var now = DateTime.UtcNow;
            state.State.Name = name;
            state.State.Currency = currency;
            state.State.Limits = limits;
            state.State.CreatedAt = now;
            state.State.Keys[keyId] = false;
            await state.WriteOrReloadAsync([PaymentsSql.InsertTenant(Id, name, currency, limits, now), PaymentsSql.InsertApiKey(Id, keyId, keyHash, now)]);
        }

        return Settings();
    }

    public Task<TenantSettings> Get() => Task.FromResult(Settings());

    public async Task AddApiKey(string keyId, byte[] keyHash)
    {
        Settings();
        if (state.State.Keys.ContainsKey(keyId))
        {
            return;
        }

        state.State.Keys[keyId] = false;
        await state.WriteOrReloadAsync([PaymentsSql.InsertApiKey(Id, keyId, keyHash, DateTime.UtcNow)]);
    }

    public async Task RevokeApiKey(string keyId)
    {
        Settings();
        if (!state.State.Keys.TryGetValue(keyId, out var revoked))
        {
            throw new ApiKeyNotFoundException("No such API key for this tenant.");
        }

        if (!revoked)
        {
            state.State.Keys[keyId] = true;
            await state.WriteOrReloadAsync([PaymentsSql.RevokeApiKey(Id, keyId, DateTime.UtcNow)]);
        }
    }

    public async Task SetWebhook(string url, string secret)
    {
        Settings();
        state.State.WebhookUrl = url;
        await state.WriteOrReloadAsync([PaymentsSql.SetWebhook(Id, url, secret)]);
    }

    private TenantSettings Settings()
    {
        if (state.State.Name is null)
        {
            DeactivateOnIdle();
            throw new TenantNotFoundException("No such tenant.");
        }

        return new TenantSettings(Id, state.State.Name, state.State.Currency!, state.State.Limits, state.State.WebhookUrl, state.State.CreatedAt);
    }
}
