namespace FinCore.Runtime.Persistence;

/// <summary>A statement committed atomically with a grain's state write (transactional outbox: events,
/// read-model rows, audit entries). Parameters are positional (<c>$1</c>, <c>$2</c> …). The SQL must
/// contain <see cref="Guard"/> in a WHERE clause: the runtime replaces it with a condition that holds
/// only when the state write it accompanies succeeded, so a stale activation writes nothing at all.</summary>
/// <example><c>INSERT INTO events (id, body) SELECT $1, $2 WHERE /*guard*/</c></example>
public sealed record StorageCommand(string Sql, params object?[] Parameters)
{
    /// <summary>The placeholder for the write guard.</summary>
    public const string Guard = "/*guard*/";

    /// <summary>Runs in the writing process once the transaction carrying this command committed (the runtime's own
    /// commands use it to update in-memory views, e.g. a reminder's timer).</summary>
    internal Action? OnCommitted { get; init; }

    /// <summary>The command's SQL with <paramref name="guard"/> in place of <see cref="Guard"/>.</summary>
    internal static string WithGuard(StorageCommand c, string guard) =>
        c.Sql.Contains(Guard, StringComparison.Ordinal)
            ? c.Sql.Replace(Guard, guard, StringComparison.Ordinal)
            : throw new ArgumentException($"A StorageCommand must contain {Guard} in its WHERE clause: {c.Sql}");
}
