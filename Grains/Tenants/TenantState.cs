namespace FinCore.Grains.Tenants;

public sealed class TenantState
{
    public string? Name { get; set; }
    public string? Currency { get; set; }
    public TenantLimits Limits { get; set; } = TenantLimits.Default;
    public string? WebhookUrl { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>Key id → revoked.</summary>
    public Dictionary<string, bool> Keys { get; set; } = [];
}
