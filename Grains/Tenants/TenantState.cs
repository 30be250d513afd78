using FinCore.Persistence;

namespace FinCore.Grains.Tenants;

[GenerateSerializer, Alias("fincore.tenant-state")]
public sealed class TenantState : OutboxState
{
    [Id(0)]
    public string? Name { get; set; }
    [Id(1)]
    public string? Currency { get; set; }
    [Id(2)]
    public TenantLimits Limits { get; set; } = TenantLimits.Default;
    [Id(3)]
    public string? WebhookUrl { get; set; }
    [Id(4)]
    public DateTime CreatedAt { get; set; }

    /// <summary>Key id → revoked.</summary>
    [Id(5)]
    public Dictionary<string, bool> Keys { get; set; } = [];

    /// <summary>The security contact's address, encrypted (the same bytes as <c>tenants.contact_sealed</c>).</summary>
    [Id(6)]
    public byte[]? ContactSealed { get; set; }
}
