using FinCore.Persistence;


namespace FinCore.Silo.Storage;

/// <summary>The table <see cref="GroupCommitGrainStorage"/> keeps grain states in: the one FinCore's runtime kept them
/// in, with the same columns and JSON, so the states a database already holds are read as they are.</summary>
internal sealed class StateMigrations : IMigrationSource
{
    public IEnumerable<Migration> GetMigrations()
    {
        yield return new Migration("state/001_grain_state", """
            CREATE TABLE IF NOT EXISTS fc_grain_state (
                grain_type text NOT NULL,
                grain_key text NOT NULL,
                state_name text NOT NULL,
                etag bigint NOT NULL,
                write_id uuid NOT NULL,
                data json NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (grain_type, grain_key, state_name));
            -- Read whole, never filtered by: no statistics to gather.
            ALTER TABLE fc_grain_state ALTER COLUMN data SET STATISTICS 0, ALTER COLUMN write_id SET STATISTICS 0;
            """);
    }
}
