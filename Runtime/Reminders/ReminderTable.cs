using FinCore.Runtime.Persistence;
using Npgsql;

namespace FinCore.Runtime.Reminders;

/// <summary>The reminder table's SQL. Due times are computed by the database clock, so silos with skewed clocks agree.</summary>
internal sealed class ReminderTable(NpgsqlDataSource db, string clusterId)
{
    private const string Columns = "grain_type, grain_key, name, first_due_at, period_ms, version, (extract(epoch FROM due_at - now()) * 1000)::bigint, grain_is_new";
    private const string Key = "cluster_id = $1 AND grain_type = $2 AND grain_key = $3 AND name = $4";

    /// <summary>Insert or replace a reminder; <c>{0}</c> is what follows the row (nothing, or a guard).</summary>
    private const string UpsertTemplate = """
        INSERT INTO fc_reminders AS r (cluster_id, grain_type, grain_key, name, first_due_at, due_at, period_ms, version, grain_is_new)
        SELECT $1::text, $2::text, $3::text, $4::text, now() + $5::bigint * interval '1 millisecond',
               now() + $5::bigint * interval '1 millisecond', $6::bigint, $7::bigint, $8::boolean {0}
        ON CONFLICT (cluster_id, grain_type, grain_key, name) DO UPDATE
          SET first_due_at = EXCLUDED.first_due_at, due_at = EXCLUDED.due_at, period_ms = EXCLUDED.period_ms, version = EXCLUDED.version,
              grain_is_new = EXCLUDED.grain_is_new
        """;

    // Formatted once: the guarded one is built for every charge.
    private static readonly string UpsertReturningSql = string.Format(null, UpsertTemplate, "") + " RETURNING " + Columns;
    private static readonly string UpsertGuardedSql = string.Format(null, UpsertTemplate, "WHERE " + StorageCommand.Guard);

    public async Task<ReminderRow> UpsertAsync(GrainId grain, string name, long dueMs, long periodMs, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(UpsertReturningSql);
        AddKey(cmd, grain, name);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = dueMs });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = periodMs });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = NewVersion() });
        cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = false });
        return (await ReadRowsAsync(cmd, ct))[0];
    }

    /// <summary>The upsert as a statement that commits with a grain's state write (<paramref name="version"/> chosen
    /// by the caller, so the timer can be set without reading the row back).</summary>
    public StorageCommand UpsertCommand(GrainId grain, string name, long dueMs, long periodMs, long version, bool grainIsNew) =>
        new(UpsertGuardedSql, clusterId, grain.Type, grain.Key, name, dueMs, periodMs, version, grainIsNew);

    /// <summary>The delete as a statement that commits with a grain's state write.</summary>
    public StorageCommand DeleteCommand(GrainId grain, string name) => new(
        $"DELETE FROM fc_reminders WHERE cluster_id = $1::text AND grain_type = $2::text AND grain_key = $3::text AND name = $4::text AND {StorageCommand.Guard}",
        clusterId, grain.Type, grain.Key, name);

    public async Task<ReminderRow?> GetAsync(GrainId grain, string name, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM fc_reminders WHERE {Key}");
        AddKey(cmd, grain, name);
        var rows = await ReadRowsAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<List<ReminderRow>> LoadDueAsync(TimeSpan window, int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            SELECT {Columns} FROM fc_reminders
            WHERE cluster_id = $1 AND due_at <= now() + $2 * interval '1 millisecond'
            ORDER BY due_at LIMIT $3
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)window.TotalMilliseconds });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await ReadRowsAsync(cmd, ct);
    }

    /// <summary>Deletes the reminder only if it was not re-registered since (same version).</summary>
    public async Task DeleteAsync(GrainId grain, string name, long? version, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(version is null
            ? $"DELETE FROM fc_reminders WHERE {Key}"
            : $"DELETE FROM fc_reminders WHERE {Key} AND version = $5");
        AddKey(cmd, grain, name);
        if (version is { } v)
        {
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = v });
        }

        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Moves a periodic reminder to its next due time (skipping ticks missed while nobody owned it).</summary>
    public async Task<ReminderRow?> AdvanceAsync(GrainId grain, string name, long version, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            UPDATE fc_reminders SET
              due_at = CASE WHEN due_at + period_ms * interval '1 millisecond' > now()
                            THEN due_at + period_ms * interval '1 millisecond'
                            ELSE now() + period_ms * interval '1 millisecond' END,
              version = $6, grain_is_new = false
            WHERE {Key} AND version = $5
            RETURNING {Columns}
            """);
        AddKey(cmd, grain, name);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = NewVersion() });
        var rows = await ReadRowsAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    private void AddKey(NpgsqlCommand cmd, GrainId grain, string name)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Type });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Key });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
    }

    private static async Task<List<ReminderRow>> ReadRowsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var rows = new List<ReminderRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new ReminderRow(new GrainId(r.GetString(0), r.GetString(1)), r.GetString(2),
                r.GetFieldValue<DateTime>(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetBoolean(7)));
        }

        return rows;
    }

    public static long NewVersion() => Random.Shared.NextInt64(1, long.MaxValue);
}
