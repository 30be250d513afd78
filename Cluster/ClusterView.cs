using Npgsql;

namespace FinCore.Cluster;

/// <summary>One silo of the cluster as operators see it.</summary>
public sealed record SiloView(string Id, string Name, string Status, int GatewayPort, DateTime StartedAt, DateTime LastHeartbeat, int? Activations,
    string? HttpUrl)
{
    /// <summary>The address and port the silo talks to the cluster on.</summary>
    public string Address => Id[..Id.LastIndexOf('@')];
}

/// <summary>The cluster as operators see it: the membership version and its silos, live ones first (newest first), then
/// the dead (kept by Orleans for <c>DefunctSiloExpiration</c>), with each live silo's activation count when the
/// cluster answers.</summary>
public sealed record ClusterViewSnapshot(int MembershipVersion, IReadOnlyList<SiloView> Silos)
{
    /// <summary>Reads the membership table of <paramref name="clusterId"/>; activation counts come from Orleans'
    /// management grain through <paramref name="client"/> (left out when the cluster does not answer within 2 s).</summary>
    public static async Task<ClusterViewSnapshot> ReadAsync(NpgsqlDataSource db, string clusterId, IClusterClient? client, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT v.version, m.address, m.port, m.generation, m.silo_name, m.status, m.proxy_port, m.start_time, m.i_am_alive_time, h.http_url
            FROM orleans_membership_version v
            LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
            LEFT JOIN fc_silo_http h ON h.deployment_id = m.deployment_id AND h.silo = m.address || ':' || m.port || '@' || m.generation
            WHERE v.deployment_id = $1
            ORDER BY (m.status = 6), m.start_time DESC
            """);
        cmd.Parameters.AddWithValue(clusterId);
        var version = 0;
        var rows = new List<(string Id, string Name, int Status, int Gateway, DateTime Started, DateTime Heartbeat, string? Http)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                version = reader.GetInt32(0);
                if (!reader.IsDBNull(1))
                {
                    rows.Add(($"{reader.GetString(1)}:{reader.GetInt32(2)}@{reader.GetInt32(3)}", reader.GetString(4), reader.GetInt32(5),
                        reader.GetInt32(6), reader.GetDateTime(7), reader.GetDateTime(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
                }
            }
        }

        var activations = client is null ? null : await ActivationsAsync(client, ct);
        var silos = rows.Select(r => new SiloView(r.Id, r.Name, StatusName(r.Status), r.Gateway, r.Started, r.Heartbeat,
            activations is not null && activations.TryGetValue(r.Id, out var n) ? n : null, r.Http)).ToList();
        return new ClusterViewSnapshot(version, silos);
    }

    private static async Task<Dictionary<string, int>?> ActivationsAsync(IClusterClient client, CancellationToken ct)
    {
        try
        {
            var stats = await client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics(ct).WaitAsync(TimeSpan.FromSeconds(2), ct);
            return stats.GroupBy(s => s.SiloAddress.ToParsableString()).ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount));
        }
        catch (Exception e) when (GrainCallRetry.IsTransient(e) || e is OrleansException)
        {
            return null; // the membership table still says who is there
        }
    }

    /// <summary>Records where the silo <paramref name="siloId"/> (<c>address:port@generation</c>) serves HTTP.</summary>
    public static async Task RecordHttpUrlAsync(NpgsqlDataSource db, string clusterId, string siloId, string httpUrl, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO fc_silo_http (deployment_id, silo, http_url) VALUES ($1, $2, $3)
            ON CONFLICT (deployment_id, silo) DO UPDATE SET http_url = EXCLUDED.http_url, updated_at = now()
            """);
        cmd.Parameters.AddWithValue(clusterId);
        cmd.Parameters.AddWithValue(siloId);
        cmd.Parameters.AddWithValue(httpUrl);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Orleans' <c>SiloStatus</c> as the API spells it.</summary>
    private static string StatusName(int status) => status switch
    {
        1 => "created",
        2 => "joining",
        3 => "active",
        4 => "shutting_down",
        5 => "stopping",
        6 => "dead",
        _ => "unknown",
    };
}
