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

        // fc_reminders is a queue: every charge inserts a row and deletes it a moment later, so it is nearly empty and
        // full of dead rows between vacuums, and its statistics swing between "empty" and "tiny". With both indexes
        // led by cluster_id, the planner would take the due-time index for a delete by key (the smaller index, when
        // every estimate is one row) and walk every reminder of the cluster, live and dead, for each delete; or, after
        // a vacuum truncated the table to nothing, a sequential scan that stays in the cached plan as the table grows
        // again. At 900 charges/s (ops/bench/charge-costs) a fresh cluster took 20,341 sequential scans of the table in
        // three 40 s runs; with truncation off but the old indexes, deletes took the due-time index at 2 ms and ~100
        // buffers each (pg_stat_statements). Now only the primary key can serve a statement by key, a vacuum never
        // truncates the table (so its size in the statistics stays its working size), and autovacuum visits it after a
        // fixed number of dead rows rather than a fraction of a table whose live size is near zero.
        yield return new Migration("runtime/003_reminder_queue", """
            DROP INDEX IF EXISTS fc_reminders_due;
            CREATE INDEX IF NOT EXISTS fc_reminders_by_due ON fc_reminders (due_at, cluster_id);
            ALTER TABLE fc_reminders SET (vacuum_truncate = false, autovacuum_vacuum_scale_factor = 0,
                autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_cost_delay = 0);
            """);

        // A reminder handed to a grain that has never stored state (ReminderWithState<T>(…, grainIsNew: true)) says
        // so, and the activation it starts skips the state read.
        yield return new Migration("runtime/004_reminder_grain_is_new", """
            ALTER TABLE fc_reminders ADD COLUMN IF NOT EXISTS grain_is_new boolean NOT NULL DEFAULT false;
            """);

        // No statement filters, groups or sorts by a state's data or its write id (the guard finds its row by key
        // first): ANALYZE need not sample them.
        yield return new Migration("runtime/005_no_statistics_for_state_data", """
            ALTER TABLE fc_grain_state ALTER COLUMN data SET STATISTICS 0, ALTER COLUMN write_id SET STATISTICS 0;
            """);

        // The membership version each silo has handed over: it has seen that version and deactivated every activation
        // the ring no longer places on it. A silo activates a grain that came to it with a ring change only once every
        // other live silo has handed that change over, so no silo still acting on the old ring serves it meanwhile.
        yield return new Migration("runtime/006_handed_over_version", """
            ALTER TABLE fc_silos ADD COLUMN IF NOT EXISTS seen_version bigint NOT NULL DEFAULT 0;
            """);

        // What each silo's runtime can read (RuntimeLevel): a format older silos cannot read is written only once
        // every live silo can read it. Rows of silos from before this column read 0.
        yield return new Migration("runtime/007_silo_level", """
            ALTER TABLE fc_silos ADD COLUMN IF NOT EXISTS level integer NOT NULL DEFAULT 0;
            """);

        // The cluster's level: raised (never lowered) once every live silo is at it, after which data of that level
        // may be written; a silo of a lower level refuses to join (a rollback past it would misread that data).
        yield return new Migration("runtime/008_cluster_level", """
            ALTER TABLE fc_membership_version ADD COLUMN IF NOT EXISTS level integer NOT NULL DEFAULT 0;
            """);
    }
}
