using FinCore.Cluster;
using FinCore.Persistence;

namespace FinCore.Gateway.Dashboard;

/// <summary>One silo as the dashboard shows it.</summary>
internal sealed record SiloSnapshot(string Id, string Name, string Address, string Status, DateTime StartedAt, DateTime LastHeartbeat, int? ActivationCount,
    string? HttpUrl);

/// <summary>The cluster as operators see it (<c>/admin/v1/cluster</c>, the dashboard): Orleans' membership table, live
/// silos first, with activation counts from Orleans' management grain.</summary>
internal sealed class ClusterSnapshots(Database database, ClusterSettings settings, IClusterClient client)
{
    public string ClusterId => settings.ClusterId;

    public Task<ClusterViewSnapshot> TakeAsync(CancellationToken ct) => ClusterViewSnapshot.ReadAsync(database.DataSource, settings.ClusterId, client, ct);

    /// <summary>Without activation counts (no grain call): for health checks.</summary>
    public Task<ClusterViewSnapshot> MembershipAsync(CancellationToken ct) => ClusterViewSnapshot.ReadAsync(database.DataSource, settings.ClusterId, null, ct);

    public static SiloSnapshot Shape(SiloView s) => new(s.Id, s.Name, s.Address, s.Status, s.StartedAt, s.LastHeartbeat, s.Activations, s.HttpUrl);
}
