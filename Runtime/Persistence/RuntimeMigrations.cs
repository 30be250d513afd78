namespace FinCore.Runtime.Persistence;

/// <summary>The runtime's own tables: membership, grain state, reminders.</summary>
internal sealed class RuntimeMigrations : IMigrationSource
{
    public IEnumerable<Migration> GetMigrations()
    {
        yield return new Migration("runtime/001_init", """
            CREATE TABLE IF NOT EXISTS fc_membership_version (
                cluster_id text PRIMARY KEY,
                version bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS fc_silos (
                cluster_id text NOT NULL,
                silo_id text NOT NULL,
                address text NOT NULL,
                port integer NOT NULL,
                http_url text,
                status smallint NOT NULL,
                started_at timestamptz NOT NULL,
                heartbeat_at timestamptz NOT NULL,
                PRIMARY KEY (cluster_id, silo_id));
            CREATE TABLE IF NOT EXISTS fc_grain_state (
                grain_type text NOT NULL,
                grain_key text NOT NULL,
                state_name text NOT NULL,
                etag bigint NOT NULL,
                write_id uuid NOT NULL,
                data jsonb NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (grain_type, grain_key, state_name));
            CREATE TABLE IF NOT EXISTS fc_reminders (
                cluster_id text NOT NULL,
                grain_type text NOT NULL,
                grain_key text NOT NULL,
                name text NOT NULL,
                first_due_at timestamptz NOT NULL,
                due_at timestamptz NOT NULL,
                period_ms bigint NOT NULL,
                version bigint NOT NULL,
                PRIMARY KEY (cluster_id, grain_type, grain_key, name));
            CREATE INDEX IF NOT EXISTS fc_reminders_due ON fc_reminders (cluster_id, due_at);
            """);

        // State is stored as the JSON text the silo wrote (json, not jsonb): PostgreSQL checks it is JSON but does
        // not take it apart and rebuild it on every write (nor turn it back into text on every read); it is only ever
        // read whole. JSON operators still work in ad-hoc queries.
        yield return new Migration("runtime/002_state_as_json_text", """
            ALTER TABLE fc_grain_state ALTER COLUMN data TYPE json USING data::json;
            """);
    }
}
