using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;

namespace FinCore.Persistence;

/// <summary>A column of a row-stored state and its PostgreSQL type (each value is cast to it, so a null needs no
/// type of its own).</summary>
public readonly record struct StateColumn(string Name, string Type);

/// <summary>Keeps a grain state of type <typeparamref name="TState"/> in a row of an application table (typically the
/// read model the grain writes anyway) instead of a JSON document in <c>fc_grain_state</c>: the state's write is the
/// row's INSERT or UPDATE, one statement where there were two, and its read is one lookup. The table carries the
/// guard's columns, <c>etag bigint</c> and <c>write_id uuid</c> (null in rows whose grain keeps its state elsewhere):
/// writes are ETag-guarded and group-committed, and the statements written with them guarded by the row. A subclass
/// with a public parameterless constructor in a grain assembly is found at silo start and registered as the storage
/// provider <see cref="RowStateMapping.ProviderName"/> (<c>[PersistentState("…", "name")]</c>).
/// <para>A state stored in <c>fc_grain_state</c> before (by an earlier version) stays there, read and written as
/// before, with <see cref="WriteAlongside"/> keeping the row in step.</para></summary>
public abstract class RowStateMapping<TState> : RowStateMapping
{
    public sealed override Type StateType => typeof(TState);

    /// <summary>The state held in <paramref name="row"/>, whose columns <see cref="RowStateMapping.ReadColumns"/> start at
    /// <paramref name="first"/>.</summary>
    public abstract TState Read(NpgsqlDataReader row, int first, string grainKey);

    /// <summary>The values of <see cref="RowStateMapping.InsertColumns"/> for a state's first write.</summary>
    public abstract object?[] InsertValues(string grainKey, TState state);

    /// <summary>The values of <see cref="RowStateMapping.UpdateColumns"/> for a later write.</summary>
    public abstract object?[] UpdateValues(TState state);

    /// <summary>For a state kept in <c>fc_grain_state</c>: the statement that keeps the row in step, committed with the
    /// state (containing <see cref="StorageCommand.Guard"/>). <paramref name="first"/>: the state's first write.</summary>
    public abstract StorageCommand WriteAlongside(string grainKey, TState state, bool first);
}

/// <summary>The SQL of a <see cref="RowStateMapping{TState}"/>, built from its table and columns once.</summary>
public abstract class RowStateMapping
{
    private readonly ConditionalWeakTable<string, string> _guarded = new();
    private string? _readSql, _insertSql, _updateSql;

    /// <summary>The storage provider name grains give to keep this state in its row.</summary>
    public abstract string ProviderName { get; }

    /// <summary>The state type this mapping keeps.</summary>
    public abstract Type StateType { get; }

    /// <summary>The table the rows are in.</summary>
    public abstract string Table { get; }

    /// <summary>The columns that find a grain's row (a primary or unique key), with <see cref="KeyValues"/> in their order.</summary>
    public abstract IReadOnlyList<StateColumn> KeyColumns { get; }

    /// <summary>The values of <see cref="KeyColumns"/> for a grain key. Every statement names all of them.</summary>
    public abstract object[] KeyValues(string grainKey);

    /// <summary>The columns a state is read from.</summary>
    public abstract IReadOnlyList<StateColumn> ReadColumns { get; }

    /// <summary>The columns a state's first write inserts (besides the key and the guard's).</summary>
    public abstract IReadOnlyList<StateColumn> InsertColumns { get; }

    /// <summary>The columns a later write sets (besides the guard's).</summary>
    public abstract IReadOnlyList<StateColumn> UpdateColumns { get; }

    /// <summary>The row's state columns and, beside them, the state in <c>fc_grain_state</c>, in one round trip:
    /// <c>etag, ReadColumns…, legacy etag, legacy data</c>; parameters: the key's values, then grain type, key and
    /// state name.</summary>
    internal string ReadSql => _readSql ??= BuildRead();

    /// <summary>Parameters: the key's, the insert columns', the write id.</summary>
    internal string InsertSql => _insertSql ??= BuildInsert();

    /// <summary>Parameters: the update columns', the write id, the key's, the expected etag.</summary>
    internal string UpdateSql => _updateSql ??= BuildUpdate();

    /// <summary>The command's SQL with this table's guard in place (the guard's parameters, the key's values and the
    /// write id, follow the command's own), rewritten once per SQL text.</summary>
    internal string Guarded(StorageCommand c)
    {
        if (!_guarded.TryGetValue(c.Sql, out var sql))
        {
            sql = StorageCommand.WithGuard(c, BuildGuard(c.Parameters.Length + 1));
            _guarded.AddOrUpdate(c.Sql, sql);
        }

        return sql;
    }

    private string BuildRead()
    {
        var sb = new StringBuilder("SELECT r.etag");
        foreach (var c in ReadColumns)
        {
            sb.Append(", r.").Append(c.Name);
        }

        sb.Append(", g.etag, g.data FROM (SELECT) AS one LEFT JOIN ").Append(Table).Append(" r ON ");
        var p = AppendKey(sb, "r.", 1);
        sb.Append(" AND r.etag IS NOT NULL LEFT JOIN fc_grain_state g ON g.grain_type = $").Append(p)
            .Append(" AND g.grain_key = $").Append(p + 1).Append(" AND g.state_name = $").Append(p + 2);
        return sb.ToString();
    }

    private string BuildInsert()
    {
        var columns = KeyColumns.Concat(InsertColumns).ToList();
        var sb = new StringBuilder("INSERT INTO ").Append(Table).Append(" (");
        foreach (var c in columns)
        {
            sb.Append(c.Name).Append(", ");
        }

        sb.Append("etag, write_id) VALUES (");
        for (var i = 0; i < columns.Count; i++)
        {
            sb.Append('$').Append(i + 1).Append("::").Append(columns[i].Type).Append(", ");
        }

        return sb.Append("1, $").Append(columns.Count + 1).Append("::uuid) ON CONFLICT DO NOTHING").ToString();
    }

    private string BuildUpdate()
    {
        var sb = new StringBuilder("UPDATE ").Append(Table).Append(" SET ");
        var p = 1;
        foreach (var c in UpdateColumns)
        {
            sb.Append(c.Name).Append(" = $").Append(p++).Append("::").Append(c.Type).Append(", ");
        }

        sb.Append("etag = etag + 1, write_id = $").Append(p++).Append("::uuid WHERE ");
        p = AppendKey(sb, "", p);
        return sb.Append(" AND etag = $").Append(p).Append("::bigint").ToString();
    }

    private string BuildGuard(int first)
    {
        var sb = new StringBuilder("EXISTS (SELECT 1 FROM ").Append(Table).Append(" WHERE ");
        var p = AppendKey(sb, "", first);
        return sb.Append(" AND write_id = $").Append(p).Append("::uuid)").ToString();
    }

    private int AppendKey(StringBuilder sb, string alias, int p)
    {
        for (var i = 0; i < KeyColumns.Count; i++)
        {
            sb.Append(i == 0 ? "" : " AND ").Append(alias).Append(KeyColumns[i].Name).Append(" = $").Append(p++).Append("::").Append(KeyColumns[i].Type);
        }

        return p;
    }
}
