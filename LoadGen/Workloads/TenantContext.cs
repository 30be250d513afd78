namespace FinCore.LoadGen.Workloads;

/// <summary>One tenant the run acts as: its key, its settlement currency and the charges it created.</summary>
internal sealed record TenantContext(string Id, string ApiKey, string Currency)
{
    public RecentIds Recent { get; } = new();
}
