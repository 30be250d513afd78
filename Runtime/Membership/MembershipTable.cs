using System.Collections.Immutable;
using Npgsql;

namespace FinCore.Runtime.Membership;

/// <summary>The membership table's SQL. Every change is a compare-and-swap on the cluster's version row, in the
/// same transaction as the silo row change (the shape of Orleans' ADO.NET clustering).</summary>
internal sealed class MembershipTable(NpgsqlDataSource db, string clusterId)
{
    private const string ReadSql = """
        SELECT v.version, v.level, s.silo_id, s.address, s.port, s.http_url, s.status, s.started_at, s.heartbeat_at,
               (extract(epoch FROM now() - s.heartbeat_at) * 1000)::bigint, s.seen_version, s.level
        FROM fc_membership_version v LEFT JOIN fc_silos s ON s.cluster_id = v.cluster_id
        WHERE v.cluster_id = $1
        """;

    public string ClusterId => clusterId;

    public async Task<MembershipView> ReadAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(ReadSql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        long version = 0;
        var level = 0;
        var silos = ImmutableArray.CreateBuilder<SiloInfo>();
        while (await r.ReadAsync(ct))
        {
            version = r.GetInt64(0);
            level = r.GetInt32(1);
            if (r.IsDBNull(2))
            {
                continue;
            }

            silos.Add(new SiloInfo(r.GetString(2), r.GetString(3), r.GetInt32(4), r.IsDBNull(5) ? null : r.GetString(5),
                (SiloStatus)r.GetInt16(6), r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8),
                TimeSpan.FromMilliseconds(r.GetInt64(9)), r.GetInt64(10), r.GetInt32(11)));
        }

        silos.Sort((a, b) => string.CompareOrdinal(a.SiloId, b.SiloId));
        return new MembershipView(version, silos.ToImmutable(), level);
    }

    public async Task EnsureClusterAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("INSERT INTO fc_membership_version (cluster_id, version) VALUES ($1, 0) ON CONFLICT DO NOTHING");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Inserts a silo row if the version is still <paramref name="expectedVersion"/>.</summary>
    public Task<bool> TryInsertAsync(SiloInfo silo, long expectedVersion, CancellationToken ct) =>
        TryChangeAsync(expectedVersion, """
            INSERT INTO fc_silos (cluster_id, silo_id, address, port, http_url, status, started_at, heartbeat_at, level)
            VALUES ($1, $2, $3, $4, $5, $6, now(), now(), $7)
            """, ct, silo.SiloId, silo.Address, silo.Port, (object?)silo.HttpUrl ?? DBNull.Value, (short)silo.Status, silo.Level);

    /// <summary>Raises the cluster's level to <paramref name="level"/> if the version is still
    /// <paramref name="expectedVersion"/> (so no silo joined since the caller saw every live one at that level); a
    /// change of its own (the version moves on), once per upgrade.</summary>
    public async Task<bool> TryRaiseLevelAsync(int level, long expectedVersion, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "UPDATE fc_membership_version SET version = version + 1, level = $3 WHERE cluster_id = $1 AND version = $2 AND level < $3");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedVersion });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = level });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Sets a silo's status if the version is still <paramref name="expectedVersion"/>.</summary>
    public Task<bool> TryUpdateStatusAsync(string siloId, SiloStatus status, long expectedVersion, CancellationToken ct) =>
        TryChangeAsync(expectedVersion, "UPDATE fc_silos SET status = $3 WHERE cluster_id = $1 AND silo_id = $2",
            ct, siloId, (short)status);

    /// <summary>Writes the heartbeat and the version the silo has handed over; returns the silo's status as stored
    /// (null when its row is gone).</summary>
    public async Task<SiloStatus?> HeartbeatAsync(string siloId, long seenVersion, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE fc_silos SET heartbeat_at = CASE WHEN status = 4 THEN heartbeat_at ELSE now() END,
                                seen_version = greatest(seen_version, $3)
            WHERE cluster_id = $1 AND silo_id = $2 RETURNING status
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = siloId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = seenVersion });
        var status = await cmd.ExecuteScalarAsync(ct);
        return status is short s ? (SiloStatus)s : null;
    }

    private async Task<bool> TryChangeAsync(long expectedVersion, string sql, CancellationToken ct, params object[] values)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cas = new NpgsqlCommand("UPDATE fc_membership_version SET version = version + 1 WHERE cluster_id = $1 AND version = $2", conn, tx))
        {
            cas.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
            cas.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedVersion });
            if (await cas.ExecuteNonQueryAsync(ct) != 1)
            {
                await tx.RollbackAsync(ct);
                return false;
            }
        }

        await using (var change = new NpgsqlCommand(sql, conn, tx))
        {
            change.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
            foreach (var v in values)
            {
                change.Parameters.Add(new NpgsqlParameter { Value = v });
            }

            await change.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return true;
    }
}
