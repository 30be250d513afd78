namespace FinCore.Persistence;

/// <summary>One versioned schema step. Ids sort in the order they apply ("runtime/001_init").
/// The SQL must be idempotent: it may meet a schema that a crashed earlier start half-created.</summary>
public sealed record Migration(string Id, string Sql);
