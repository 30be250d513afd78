namespace FinCore.Persistence;

/// <summary>Contributes schema migrations; every registered source is applied at start-up.</summary>
public interface IMigrationSource
{
    /// <summary>The migrations of one subsystem, in order.</summary>
    IEnumerable<Migration> GetMigrations();
}
