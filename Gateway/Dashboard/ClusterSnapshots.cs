using System.Text.Json;
using FinCore.Runtime.Hosting;
using FinCore.Runtime.Membership;

namespace FinCore.Gateway.Dashboard;

/// <summary>One silo as operators see it (<c>/admin/v1/cluster</c> and the dashboard). <see cref="RuntimeLevel"/>: the
/// storage formats its build reads (<see cref="Runtime.Membership.RuntimeLevel"/>); a silo of an older build shows a lower one.</summary>
internal sealed record SiloSnapshot(string Id, string Address, string Status, DateTime StartedAt, DateTime LastHeartbeat, int? ActivationCount, string? HttpUrl,
    int RuntimeLevel);

/// <summary>Reads the membership and asks each live silo for its activation count.</summary>
internal sealed class ClusterSnapshots(IClusterClient cluster, IHttpClientFactory httpClients)
{
    /// <summary>The membership version, the runtime level the cluster writes (<see cref="MembershipView.WriteLevel"/>),
    /// and the silos.</summary>
    public async Task<(long Version, int RuntimeLevel, IReadOnlyList<SiloSnapshot> Silos)> TakeAsync(CancellationToken ct)
    {
        var view = await cluster.RefreshAsync(ct);
        var client = httpClients.CreateClient("silo-health");
        var silos = await Task.WhenAll(view.Silos.OrderBy(s => s.StartedAt).Select(async s =>
        {
            int? activations = null;
            if (s.HttpUrl is not null && s.Status != SiloStatus.Dead)
            {
                try
                {
                    using var doc = JsonDocument.Parse(await client.GetStringAsync(s.HttpUrl + "/health/ready", ct));
                    activations = doc.RootElement.GetProperty("activations").GetInt32();
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
                {
                    activations = null; // unreachable or not ready: shown as unknown
                }
            }

            return new SiloSnapshot(s.SiloId, $"{s.Address}:{s.Port}", StatusName(s.Status), s.StartedAt.UtcDateTime, s.HeartbeatAt.UtcDateTime, activations, s.HttpUrl, s.Level);
        }));
        return (view.Version, view.WriteLevel, silos);
    }

    public static string StatusName(SiloStatus status) => status switch
    {
        SiloStatus.Joining => "joining",
        SiloStatus.Active => "active",
        SiloStatus.ShuttingDown => "shutting_down",
        _ => "dead",
    };
}
