namespace FinCore.Persistence;

/// <summary>A statement committed atomically with a grain's state write (transactional outbox: events, read-model
/// rows). Parameters are positional (<c>$1</c>, <c>$2</c> …). The SQL contains <see cref="Guard"/> in a WHERE clause,
/// which the storage replaces with a condition that holds only when the state write it accompanies applied, so a
/// stale activation writes nothing at all.</summary>
/// <example><c>INSERT INTO events (id, body) SELECT $1, $2 WHERE /*guard*/</c></example>
public sealed record StorageCommand(string Sql, params object?[] Parameters)
{
    /// <summary>The placeholder for the write guard.</summary>
    public const string Guard = "/*guard*/";

    /// <summary>The command's SQL with <paramref name="guard"/> in place of <see cref="Guard"/>.</summary>
    internal static string WithGuard(StorageCommand c, string guard) =>
        c.Sql.Contains(Guard, StringComparison.Ordinal)
            ? c.Sql.Replace(Guard, guard, StringComparison.Ordinal)
            : throw new ArgumentException($"A StorageCommand must contain {Guard} in its WHERE clause: {c.Sql}");
}
