using FinCore.Persistence;

namespace FinCore.Silo.Schema;

/// <summary>The tables Orleans' ADO.NET providers (clustering, reminders, grain storage) work on, written for FinCore
/// from the providers' query contract (the queries themselves are in <see cref="OrleansQueries"/>). Stricter than
/// Orleans' published PostgreSQL script: a grain's state row has a primary key (two racing first writes leave one
/// row, the loser gets <c>InconsistentStateException</c>), reminders are indexed for the ring-range reads, and the
/// time columns are <c>timestamptz</c>.</summary>
internal sealed class OrleansSchema : IMigrationSource
{
    public IEnumerable<Migration> GetMigrations()
    {
        yield return new Migration("orleans/001_init", """
            -- The providers read their statements from this table at start ("SELECT QueryKey, QueryText FROM OrleansQuery").
            CREATE TABLE IF NOT EXISTS orleansquery (
                querykey varchar(64) PRIMARY KEY,
                querytext text NOT NULL);

            -- Membership: one version row per cluster (deployment id), bumped by every membership change; every change is
            -- a compare-and-swap on it.
            CREATE TABLE IF NOT EXISTS orleans_membership_version (
                deployment_id text PRIMARY KEY,
                version integer NOT NULL DEFAULT 0,
                updated_at timestamptz NOT NULL DEFAULT now());

            CREATE TABLE IF NOT EXISTS orleans_membership (
                deployment_id text NOT NULL REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
                address text NOT NULL,
                port integer NOT NULL,
                generation integer NOT NULL,
                silo_name text NOT NULL,
                host_name text NOT NULL,
                status integer NOT NULL,
                proxy_port integer NOT NULL DEFAULT 0,
                suspect_times text,
                start_time timestamptz NOT NULL,
                i_am_alive_time timestamptz NOT NULL,
                PRIMARY KEY (deployment_id, address, port, generation));

            -- Reminders. grain_hash is Orleans' unsigned ring hash stored as the signed integer it passes; the range reads
            -- compare it signed, as the provider chooses its query by signed order.
            CREATE TABLE IF NOT EXISTS orleans_reminders (
                service_id text NOT NULL,
                grain_id text NOT NULL,
                reminder_name text NOT NULL,
                start_time timestamptz NOT NULL,
                period_ms bigint NOT NULL,
                grain_hash integer NOT NULL,
                version integer NOT NULL,
                PRIMARY KEY (service_id, grain_id, reminder_name));
            CREATE INDEX IF NOT EXISTS orleans_reminders_by_hash ON orleans_reminders (service_id, grain_hash);

            -- Grain state. A grain is (type, n0, n1, string key): integer and GUID keys come as n0/n1 with no string, string
            -- keys as the string; a missing string is stored as '' so the key is one plain primary key.
            CREATE TABLE IF NOT EXISTS orleans_grain_state (
                service_id text NOT NULL,
                grain_type text NOT NULL,
                grain_id_n0 bigint NOT NULL,
                grain_id_n1 bigint NOT NULL,
                grain_id_string text NOT NULL,
                payload bytea,
                version integer NOT NULL,
                modified_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_string));
            -- Nothing filters by a payload: ANALYZE need not sample it.
            ALTER TABLE orleans_grain_state ALTER COLUMN payload SET STATISTICS 0;
            """);

        // Where each silo serves HTTP (health, metrics, dashboard): Orleans' membership knows a silo's cluster and
        // gateway ports only. Written by the silo at start; operators' views join it by silo address.
        yield return new Migration("silo/001_http_endpoints", """
            CREATE TABLE IF NOT EXISTS fc_silo_http (
                deployment_id text NOT NULL,
                silo text NOT NULL,
                http_url text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (deployment_id, silo));
            """);
    }
}
