using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace FinCore.Runtime.Persistence;

/// <summary>Grain state in <c>fc_grain_state</c>, or in a row of an application table (<see cref="RowStateStorage"/>).
/// Writes are ETag-guarded (an UPDATE on the version read; the first write an INSERT guarded by the primary key), and
/// group-committed: writes from many grains that arrive together share one transaction and one WAL flush.</summary>
internal sealed class GrainStorage : IAsyncDisposable
{
    private const string ReadSql = "SELECT etag, data FROM fc_grain_state WHERE grain_type = $1 AND grain_key = $2 AND state_name = $3";
    private const string InsertSql = """
        INSERT INTO fc_grain_state (grain_type, grain_key, state_name, etag, write_id, data, updated_at)
        VALUES ($1, $2, $3, 1, $4, $5, now()) ON CONFLICT DO NOTHING
        """;
    private const string UpdateSql = """
        UPDATE fc_grain_state SET etag = etag + 1, write_id = $4, data = $5, updated_at = now()
        WHERE grain_type = $1 AND grain_key = $2 AND state_name = $3 AND etag = $6
        """;
    private const string DeleteSql = "DELETE FROM fc_grain_state WHERE grain_type = $1 AND grain_key = $2 AND state_name = $3 AND etag = $6";
    private const string GuardSql = "EXISTS (SELECT 1 FROM fc_grain_state WHERE grain_type = ${0} AND grain_key = ${1} AND state_name = ${2} AND write_id = ${3})";

    // A delete that carries statements first marks the row with its write id (an ETag-guarded UPDATE, which also locks
    // it), so the statements are guarded like a write's; then the marked row goes.
    private const string DeleteMarkedSql = "DELETE FROM fc_grain_state WHERE grain_type = $1 AND grain_key = $2 AND state_name = $3 AND write_id = $4";

    private static readonly ConditionalWeakTable<string, string> s_guarded = new();

    private readonly NpgsqlDataSource _db;
    private readonly StorageOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<StateWrite> _queue = Channel.CreateUnbounded<StateWrite>();
    private readonly Task[] _writers;

    public GrainStorage(Database database, StorageOptions options, ILogger<GrainStorage> logger)
    {
        _db = database.DataSource;
        _options = options;
        _logger = logger;
        _writers = Enumerable.Range(0, options.Writers).Select(_ => Task.Run(WriterLoopAsync)).ToArray();
    }

    public async Task<(long Etag, string Json)?> ReadAsync(GrainId grain, string stateName, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(ReadSql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Type });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Key });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt64(0), reader.GetString(1)) : null;
    }

    /// <summary>A state kept in a row of <paramref name="row"/>'s table, or, when it is not there, in
    /// <c>fc_grain_state</c> (one round trip for both): its ETag and either the state read from the row or the JSON.</summary>
    public async Task<(long Etag, TState? Row, string? Json)?> ReadAsync<TState>(RowStateStorage<TState> row, object[] rowKey, GrainId grain, string stateName,
        CancellationToken ct) where TState : new()
    {
        await using var cmd = _db.CreateCommand(row.ReadSql);
        AddValues(cmd.Parameters, rowKey);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Type });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Key });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        if (!reader.IsDBNull(0))
        {
            return (reader.GetInt64(0), row.Read(reader, 1, grain.Key), null);
        }

        var legacy = row.ReadColumns.Count + 1;
        return reader.IsDBNull(legacy) ? null : (reader.GetInt64(legacy), default, reader.GetString(legacy + 1));
    }

    /// <summary>Queues the write for the next group commit. Completes with the new ETag (0 after a delete), or
    /// fails with <see cref="InconsistentStateException"/> when the stored version moved on.</summary>
    public Task<long> WriteAsync(StateWrite write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            write.TrySetException(new ObjectDisposedException(nameof(GrainStorage)));
        }

        return write.Task;
    }

    private async Task WriterLoopAsync()
    {
        var batch = new List<StateWrite>(_options.MaxBatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var w))
            {
                batch.Add(w);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                await CommitAsync(batch);
            }
            catch (PostgresException e) when (batch.Count > 1)
            {
                // One bad statement aborts the whole transaction: isolate it so the others still commit.
                PersistenceLog.BatchFailed(_logger, e, batch.Count);
                foreach (var single in batch)
                {
                    try
                    {
                        await CommitAsync([single]);
                    }
                    catch (Exception inner)
                    {
                        single.TrySetException(inner);
                    }
                }
            }
            catch (Exception e)
            {
                foreach (var w in batch)
                {
                    w.TrySetException(e);
                }
            }

            batch.Clear();
        }
    }

    private async Task CommitAsync(List<StateWrite> writes)
    {
        await using var conn = await _db.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(conn);
        var stateCommands = new NpgsqlBatchCommand[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            var w = writes[i];
            var extra = w.AlsoWrite is { Count: > 0 } list ? list : null;
            var cmd = w.Row is { } row ? RowCommand(row, w) : StateCommand(w, extra);
            batch.BatchCommands.Add(cmd);
            stateCommands[i] = cmd;
            if (extra is not null)
            {
                foreach (var c in extra)
                {
                    batch.BatchCommands.Add(Guarded(c, w));
                }

                if (w.Delete)
                {
                    var delete = new NpgsqlBatchCommand(DeleteMarkedSql);
                    AddKey(delete.Parameters, w);
                    delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = w.WriteId });
                    batch.BatchCommands.Add(delete);
                }
            }
        }

        // One round trip, one implicit transaction: every statement commits, or none does.
        await batch.ExecuteNonQueryAsync();
        for (var i = 0; i < writes.Count; i++)
        {
            var w = writes[i];
            if (stateCommands[i].RecordsAffected == 1)
            {
                if (w.AlsoWrite is { } extra)
                {
                    foreach (var c in extra)
                    {
                        c.OnCommitted?.Invoke();
                    }
                }

                w.TrySetResult(w.Delete ? 0 : (w.ExpectedEtag ?? 0) + 1);
            }
            else
            {
                w.TrySetException(new InconsistentStateException(
                    $"State '{w.StateName}' of {w.Grain} was written by another activation (expected version {w.ExpectedEtag?.ToString() ?? "none"})."));
            }
        }
    }

    private static NpgsqlBatchCommand StateCommand(StateWrite w, IReadOnlyList<StorageCommand>? extra)
    {
        var cmd = new NpgsqlBatchCommand(w.Delete && extra is null ? DeleteSql : w.ExpectedEtag is null ? InsertSql : UpdateSql);
        AddKey(cmd.Parameters, w);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = w.WriteId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = w.Json, NpgsqlDbType = NpgsqlDbType.Json });
        if (w.ExpectedEtag is { } etag)
        {
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = etag });
        }

        return cmd;
    }

    /// <summary>A row-stored state's INSERT (key, columns, write id) or UPDATE (columns, write id, key, etag).</summary>
    private static NpgsqlBatchCommand RowCommand(RowStateStorage row, StateWrite w)
    {
        var key = w.RowKey!;
        var cmd = new NpgsqlBatchCommand(w.ExpectedEtag is null ? row.InsertSql : row.UpdateSql);
        if (w.ExpectedEtag is null)
        {
            AddValues(cmd.Parameters, key);
        }

        AddValues(cmd.Parameters, w.RowValues!);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = w.WriteId });
        if (w.ExpectedEtag is { } etag)
        {
            AddValues(cmd.Parameters, key);
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = etag });
        }

        return cmd;
    }

    private static void AddValues(NpgsqlParameterCollection p, object?[] values)
    {
        foreach (var value in values)
        {
            p.Add(value is NpgsqlParameter np ? np : new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
    }

    private static void AddKey(NpgsqlParameterCollection p, StateWrite w)
    {
        p.Add(new NpgsqlParameter<string> { TypedValue = w.Grain.Type });
        p.Add(new NpgsqlParameter<string> { TypedValue = w.Grain.Key });
        p.Add(new NpgsqlParameter<string> { TypedValue = w.StateName });
    }

    private static NpgsqlBatchCommand Guarded(StorageCommand c, StateWrite w)
    {
        var cmd = new NpgsqlBatchCommand(w.Row is { } row ? row.Guarded(c) : GuardedSql(c));
        AddValues(cmd.Parameters, c.Parameters);
        if (w.Row is { } r)
        {
            AddValues(cmd.Parameters, w.RowKey!);
        }
        else
        {
            AddKey(cmd.Parameters, w);
        }

        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = w.WriteId });
        return cmd;
    }

    /// <summary>The command's SQL with its guard in place (the guard's parameters follow the command's own), rewritten
    /// once per SQL text: the text is almost always a literal, so the rewrite lives as long as the text does.</summary>
    private static string GuardedSql(StorageCommand c)
    {
        if (s_guarded.TryGetValue(c.Sql, out var sql))
        {
            return sql;
        }

        var n = c.Parameters.Length;
        sql = StorageCommand.WithGuard(c, new StringBuilder().AppendFormat(null, GuardSql, n + 1, n + 2, n + 3, n + 4).ToString());
        s_guarded.AddOrUpdate(c.Sql, sql);
        return sql;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }
}
