using FinCore.Grains.Storage;
using FinCore.Persistence;
using FinCore.Privacy;

namespace FinCore.Grains.Tenants;

/// <summary>A tenant's settings and keys. The <c>tenants</c> and <c>api_keys</c> rows the gateway authenticates
/// against are written in the same transaction as this state, and so is a security event for each API key made or
/// revoked and each change of the webhook endpoint: sealed into the tenant's audit chain, and emailed to its security
/// contact by its notifier.</summary>
[GrainType("tenant")]
public sealed class TenantGrain([PersistentState("tenant", "fincore")] IPersistentState<TenantState> state, PersonalDataProtector personalData)
    : Grain, ITenantGrain
{
    /// <summary>The security contact's address, decrypted (null: none).</summary>
    private string? _contact;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.ContactSealed is { } sealedContact)
        {
            _contact = (await personalData.OpenAsync(Id, ContactSubject, sealedContact, cancellationToken)).Email;
        }
    }

    /// <summary>The subject the contact's address is sealed for (no customer id looks like it).</summary>
    public const string ContactSubject = "@contact";

    private static string Json(object o) => System.Text.Json.JsonSerializer.Serialize(o);

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
        var now = DateTime.UtcNow;
        await state.WriteOrReloadAsync([PaymentsSql.InsertApiKey(Id, keyId, keyHash, now),
            PaymentsSql.SecurityEvent(Id, keyId, "security.api_key_created", Json(new { id = keyId, key_id = keyId, created_at = now }), now)]);
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
            var now = DateTime.UtcNow;
            await state.WriteOrReloadAsync([PaymentsSql.RevokeApiKey(Id, keyId, now),
                PaymentsSql.SecurityEvent(Id, keyId, "security.api_key_revoked", Json(new { id = keyId, key_id = keyId, revoked_at = now }), now)]);
        }
    }

    public async Task SetWebhook(string url, string secret)
    {
        Settings();
        var previous = state.State.WebhookUrl;
        state.State.WebhookUrl = url;
        var now = DateTime.UtcNow;
        await state.WriteOrReloadAsync([PaymentsSql.SetWebhook(Id, url, secret),
            PaymentsSql.SecurityEvent(Id, "webhook", "security.webhook_endpoint_changed", Json(new { id = url, url, previous_url = previous, changed_at = now }), now)]);
    }

    public async Task<TenantSettings> SetContact(string? email)
    {
        Settings();
        if (email == _contact)
        {
            return Settings();
        }

        var sealedContact = email is null ? null : await personalData.SealAsync(Id, ContactSubject, new PersonalData(state.State.Name!, email, "", null));
        state.State.ContactSealed = sealedContact;
        await state.WriteOrReloadAsync([PaymentsSql.SetContact(Id, sealedContact)]);
        _contact = email;
        return Settings();
    }

    private TenantSettings Settings()
    {
        if (state.State.Name is null)
        {
            DeactivateOnIdle();
            throw new TenantNotFoundException("No such tenant.");
        }

        return new TenantSettings(Id, state.State.Name, state.State.Currency!, state.State.Limits, state.State.WebhookUrl, state.State.CreatedAt)
        {
            ContactEmail = _contact,
        };
    }
}
