using Npgsql;

namespace FinCore.Silo.Schema;

/// <summary>The statements Orleans' ADO.NET providers run, by the key each provider looks up in <c>orleansquery</c>.
/// Written for <see cref="OrleansSchema"/>'s tables: columns are renamed to the names the providers read, and
/// parameters that can arrive as untyped nulls are cast. Stored at every silo start, so a silo always runs the
/// statements of its own build against the (forward-only) schema.</summary>
internal static class OrleansQueries
{
    private const string MemberColumns = """
        v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
        m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
        m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
        """;

    private const string ThisMember = "deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation";

    private const string ThisGrain = """
        service_id = @ServiceId AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND grain_id_string = coalesce(@GrainIdExtensionString::text, '')
        """;

    private const string ReminderColumns = """
        grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
        """;

    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>
    {
        // ---- clustering ----
        ["InsertMembershipVersionKey"] = """
            WITH inserted AS (
                INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId)
                ON CONFLICT (deployment_id) DO NOTHING RETURNING 1)
            SELECT count(*) FROM inserted
            """,

        // A membership write applies only while the table is at the version the writer read (the version row is locked,
        // so concurrent writers queue and all but the first find a newer version), and bumps the version only when the
        // member row was written: both or neither. The result is the count the provider tests (> 0 = applied).
        ["InsertMembershipKey"] = $"""
            WITH expected AS (
                SELECT deployment_id FROM orleans_membership_version
                WHERE deployment_id = @DeploymentId AND version = @Version FOR UPDATE),
            inserted AS (
                INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                    proxy_port, start_time, i_am_alive_time)
                SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, coalesce(@ProxyPort::integer, 0),
                    @StartTime, @IAmAliveTime
                FROM expected
                ON CONFLICT (deployment_id, address, port, generation) DO NOTHING
                RETURNING 1),
            bumped AS (
                UPDATE orleans_membership_version SET version = version + 1, updated_at = now()
                WHERE deployment_id = @DeploymentId AND EXISTS (SELECT 1 FROM inserted)
                RETURNING 1)
            SELECT count(*) FROM bumped
            """,

        ["UpdateMembershipKey"] = $"""
            WITH expected AS (
                SELECT deployment_id FROM orleans_membership_version
                WHERE deployment_id = @DeploymentId AND version = @Version FOR UPDATE),
            updated AS (
                UPDATE orleans_membership m
                SET status = @Status, suspect_times = @SuspectTimes::text, i_am_alive_time = @IAmAliveTime
                FROM expected
                WHERE m.deployment_id = expected.deployment_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
                RETURNING 1),
            bumped AS (
                UPDATE orleans_membership_version SET version = version + 1, updated_at = now()
                WHERE deployment_id = @DeploymentId AND EXISTS (SELECT 1 FROM updated)
                RETURNING 1)
            SELECT count(*) FROM bumped
            """,

        ["UpdateIAmAlivetimeKey"] = $"""
            UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime WHERE {ThisMember}
            """,

        // Both reads return the version row even when there is no member (left join from the version table).
        ["MembershipReadAllKey"] = $"""
            SELECT {MemberColumns}
            FROM orleans_membership_version v
            LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
            WHERE v.deployment_id = @DeploymentId
            """,

        ["MembershipReadRowKey"] = $"""
            SELECT {MemberColumns}
            FROM orleans_membership_version v
            LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
                AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
            WHERE v.deployment_id = @DeploymentId
            """,

        ["GatewaysQueryKey"] = """
            SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
            FROM orleans_membership
            WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
            """,

        ["DeleteMembershipTableEntriesKey"] = """
            DELETE FROM orleans_membership WHERE deployment_id = @DeploymentId;
            DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId
            """,

        // Dead silos stay in the table for ClusterMembershipOptions.DefunctSiloExpiration, then go.
        ["CleanupDefunctSiloEntriesKey"] = """
            DELETE FROM orleans_membership
            WHERE deployment_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime::timestamptz
            """,

        ["CleanupDefunctSiloEntryKey"] = $"""
            DELETE FROM orleans_membership WHERE {ThisMember} AND status = 6
            """,

        // ---- reminders ----
        ["UpsertReminderRowKey"] = """
            INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, start_time, period_ms, grain_hash, version)
            VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
            ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
            SET start_time = excluded.start_time, period_ms = excluded.period_ms, grain_hash = excluded.grain_hash,
                version = orleans_reminders.version + 1
            RETURNING version AS "Version"
            """,

        ["ReadReminderRowsKey"] = $"""
            SELECT {ReminderColumns} FROM orleans_reminders WHERE service_id = @ServiceId AND grain_id = @GrainId
            """,

        ["ReadReminderRowKey"] = $"""
            SELECT {ReminderColumns} FROM orleans_reminders
            WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
            """,

        // A silo's share of the ring is (BeginHash, EndHash]; the provider picks the wrap-around form when the range
        // crosses the end of the (signed) integer order.
        ["ReadRangeRows1Key"] = $"""
            SELECT {ReminderColumns} FROM orleans_reminders
            WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
            """,

        ["ReadRangeRows2Key"] = $"""
            SELECT {ReminderColumns} FROM orleans_reminders
            WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
            """,

        ["DeleteReminderRowKey"] = """
            WITH deleted AS (
                DELETE FROM orleans_reminders
                WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName AND version = @Version
                RETURNING 1)
            SELECT count(*) FROM deleted
            """,

        ["DeleteReminderRowsKey"] = """
            DELETE FROM orleans_reminders WHERE service_id = @ServiceId
            """,

        // ---- grain storage ----
        // The ETag is the integer version: no version writes the first row (version 1), a version updates the row only
        // while it is still at it. Exactly one row comes back, NULL when nothing was written (a racing first write lost
        // to the primary key, or the version moved on): the provider turns that into InconsistentStateException.
        ["WriteToStorageKey"] = $"""
            WITH updated AS (
                UPDATE orleans_grain_state SET payload = @PayloadBinary, version = version + 1, modified_at = now()
                WHERE @GrainStateVersion::integer IS NOT NULL AND version = @GrainStateVersion::integer AND {ThisGrain}
                RETURNING version),
            inserted AS (
                INSERT INTO orleans_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_string, payload, version)
                SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, coalesce(@GrainIdExtensionString::text, ''), @PayloadBinary, 1
                WHERE @GrainStateVersion::integer IS NULL
                ON CONFLICT DO NOTHING
                RETURNING version)
            SELECT (SELECT version FROM updated UNION ALL SELECT version FROM inserted) AS "NewGrainStateVersion"
            """,

        ["ReadFromStorageKey"] = $"""
            SELECT payload AS "PayloadBinary", version AS "Version" FROM orleans_grain_state WHERE {ThisGrain}
            """,

        // Clearing keeps the row (and its version, so a stale activation still cannot write over it) without a payload.
        ["ClearStorageKey"] = $"""
            WITH cleared AS (
                UPDATE orleans_grain_state SET payload = NULL, version = version + 1, modified_at = now()
                WHERE version = @GrainStateVersion::integer AND {ThisGrain}
                RETURNING version)
            SELECT (SELECT version FROM cleared) AS "NewGrainStateVersion"
            """,
    };

    /// <summary>Stores every statement (inserted or replaced) in one transaction.</summary>
    public static async Task StoreAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var (key, text) in All)
        {
            await using var cmd = new NpgsqlCommand(
                "INSERT INTO orleansquery (querykey, querytext) VALUES ($1, $2) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext",
                conn, tx);
            cmd.Parameters.AddWithValue(key);
            cmd.Parameters.AddWithValue(text);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
    }
}
