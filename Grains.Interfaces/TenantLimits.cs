namespace FinCore.Grains;

/// <summary>Per-tenant limits: the risk rules read them.</summary>
[GenerateSerializer, Immutable, Alias("fincore.tenant-limits")]
public sealed record TenantLimits(long MaxAmount, int RequestsPerSecond, int VelocityPerCustomer, int VelocityPerPaymentMethod)
{
    public static readonly TenantLimits Default = new(1_000_000, 500, 20, 20);
}

/// <summary>A tenant's settings as the gateway and the grains see them.</summary>
[GenerateSerializer, Immutable, Alias("fincore.tenant-settings")]
public sealed record TenantSettings(string Id, string Name, string Currency, TenantLimits Limits, string? WebhookUrl, DateTime CreatedAt)
{
    /// <summary>Where security alerts go (API keys created or revoked, the webhook endpoint changed); null: nowhere.</summary>
    [Id(6)]
    public string? ContactEmail { get; init; }
}
