using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;

using FinCore.Persistence;

namespace FinCore.Silo.Storage;

/// <summary>FinCore's Orleans grain storage: states as JSON in <c>fc_grain_state</c>, ETag-guarded (an UPDATE on the
/// version read; the first write an INSERT guarded by the primary key), and group-committed: the writes of many grains
/// that arrive together share one round trip, one transaction and one WAL flush, where Orleans' ADO.NET storage
/// commits each on its own. A state that is an <see cref="IOutboxState"/> hands statements to each write, which
/// commit with it only if it applies.</summary>
internal sealed partial class GroupCommitGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
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

    /// <summary>The name grains give in <c>[PersistentState("…", ProviderName)]</c>.</summary>
    public const string ProviderName = "fincore";

    /// <summary>The JSON FinCore's states have always been stored in (web defaults: camelCase names).</summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly ConditionalWeakTable<string, string> s_guarded = new();

    /// <summary>The ETag of a state kept in its row starts with this; one in <c>fc_grain_state</c> is the bare version.</summary>
    private const string RowEtagPrefix = "r";

    private readonly string _name;
    private readonly IReadOnlyDictionary<Type, RowStateMapping> _rows;
    private readonly NpgsqlDataSource _db;
    private readonly GroupCommitOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>();
    private Task[] _writers = [];

    public GroupCommitGrainStorage(string name, NpgsqlDataSource db, GroupCommitOptions options, ILogger<GroupCommitGrainStorage> logger,
        IEnumerable<RowStateMapping>? rows = null)
    {
        _name = name;
        _rows = (rows ?? []).ToDictionary(r => r.StateType);
        _db = db;
        _options = options;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        // Starts before grains can activate and stops after they are gone, writing what they wrote on the way out.
        lifecycle.Subscribe($"{nameof(GroupCommitGrainStorage)}-{_name}", ServiceLifecycleStage.RuntimeStorageServices, OnStart, OnStop);

    private Task OnStart(CancellationToken ct)
    {
        _writers = Enumerable.Range(0, _options.Writers).Select(_ => Task.Run(WriterLoopAsync, CancellationToken.None)).ToArray();
        return Task.CompletedTask;
    }

    private async Task OnStop(CancellationToken ct)
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers).WaitAsync(ct);
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue(typeof(T), out var mapping))
        {
            await ReadRowAsync((RowStateMapping<T>)mapping, stateName, grainId, grainState);
            return;
        }

        await using var cmd = _db.CreateCommand(ReadSql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.Type.ToString() });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.Key.ToString() });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        await using var reader = await cmd.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        var stored = JsonSerializer.Deserialize<T>(reader.GetString(1), Json);
        if (stored is not null)
        {
            grainState.State = stored;
        }

        grainState.ETag = reader.GetInt64(0).ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <summary>A row-kept state: from its row (ETag <c>r</c>N), or from <c>fc_grain_state</c> where an earlier
    /// version stored it (ETag N), in one round trip.</summary>
    private async Task ReadRowAsync<T>(RowStateMapping<T> mapping, string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString()!;
        await using var cmd = _db.CreateCommand(mapping.ReadSql);
        AddValues(cmd.Parameters, mapping.KeyValues(key));
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.Type.ToString() });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        await using var reader = await cmd.ExecuteReaderAsync();
        var legacy = mapping.ReadColumns.Count + 1;
        if (!await reader.ReadAsync() || (reader.IsDBNull(0) && reader.IsDBNull(legacy)))
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        if (!reader.IsDBNull(0))
        {
            grainState.State = mapping.Read(reader, 1, key);
            grainState.ETag = RowEtagPrefix + reader.GetInt64(0).ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            if (JsonSerializer.Deserialize<T>(reader.GetString(legacy + 1), Json) is { } stored)
            {
                grainState.State = stored;
            }

            grainState.ETag = reader.GetInt64(legacy).ToString(CultureInfo.InvariantCulture);
        }

        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var outbox = (grainState.State as IOutboxState)?.TakeOutbox();
        if (_rows.TryGetValue(typeof(T), out var mapping))
        {
            await WriteRowAsync((RowStateMapping<T>)mapping, stateName, grainId, grainState, outbox);
            return;
        }

        var write = new PendingWrite(grainId.Type.ToString(), grainId.Key.ToString(), stateName, ExpectedEtag(grainState),
            JsonSerializer.Serialize(grainState.State, Json), outbox, delete: false);
        var etag = await CommitAsync(write);
        grainState.ETag = etag.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <summary>A new state goes to its row; one kept in <c>fc_grain_state</c> stays there, with the row kept in step.</summary>
    private async Task WriteRowAsync<T>(RowStateMapping<T> mapping, string stateName, GrainId grainId, IGrainState<T> grainState,
        IReadOnlyList<StorageCommand>? outbox)
    {
        var key = grainId.Key.ToString()!;
        var type = grainId.Type.ToString()!;
        var etag = grainState.ETag;
        var state = grainState.State ?? throw new InvalidOperationException($"State '{stateName}' of {grainId} is null; a row-kept state always has a value.");
        if (etag is null || etag.StartsWith(RowEtagPrefix, StringComparison.Ordinal))
        {
            long? expected = etag is null ? null : long.Parse(etag.AsSpan(RowEtagPrefix.Length), CultureInfo.InvariantCulture);
            var values = expected is null ? mapping.InsertValues(key, state) : mapping.UpdateValues(state);
            var written = await CommitAsync(new PendingWrite(type, key, stateName, expected, "", outbox, delete: false, mapping, values, mapping.KeyValues(key)));
            grainState.ETag = RowEtagPrefix + written.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var alongside = mapping.WriteAlongside(key, state, first: false);
            var written = await CommitAsync(new PendingWrite(type, key, stateName, ExpectedEtag(grainState), JsonSerializer.Serialize(grainState.State, Json),
                outbox is null ? [alongside] : [alongside, .. outbox], delete: false));
            grainState.ETag = written.ToString(CultureInfo.InvariantCulture);
        }

        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.ContainsKey(typeof(T)))
        {
            throw new NotSupportedException($"State '{stateName}' of {grainId} is kept in a row; it is never cleared.");
        }

        var outbox = (grainState.State as IOutboxState)?.TakeOutbox();
        if (grainState.ETag is not null || outbox is { Count: > 0 })
        {
            await CommitAsync(new PendingWrite(grainId.Type.ToString(), grainId.Key.ToString(), stateName, ExpectedEtag(grainState),
                "{}", outbox, delete: true));
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    private static long? ExpectedEtag<T>(IGrainState<T> state) =>
        state.ETag is null ? null : long.Parse(state.ETag, CultureInfo.InvariantCulture);

    private Task<long> CommitAsync(PendingWrite write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            write.TrySetException(new InvalidOperationException("The silo is stopping: grain storage takes no more writes."));
        }

        return write.Task;
    }

    private async Task WriterLoopAsync()
    {
        var batch = new List<PendingWrite>(_options.MaxBatchSize);
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
                await CommitBatchAsync(batch);
            }
            catch (PostgresException e) when (batch.Count > 1)
            {
                // One bad statement aborts the whole transaction: commit the writes one by one so the others still go in.
                Log.BatchFailed(_logger, e, batch.Count);
                foreach (var single in batch)
                {
                    try
                    {
                        await CommitBatchAsync([single]);
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

    private async Task CommitBatchAsync(List<PendingWrite> writes)
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
            if (extra is null)
            {
                continue;
            }

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

        // One round trip, one implicit transaction: every statement commits, or none does.
        await batch.ExecuteNonQueryAsync();
        for (var i = 0; i < writes.Count; i++)
        {
            var w = writes[i];
            if (stateCommands[i].RecordsAffected == 1)
            {
                w.TrySetResult(w.Delete ? 0 : (w.ExpectedEtag ?? 0) + 1);
            }
            else
            {
                w.TrySetException(new InconsistentStateException(
                    $"State '{w.StateName}' of {w.GrainType}/{w.GrainKey} was written by another activation (expected version {w.ExpectedEtag?.ToString(CultureInfo.InvariantCulture) ?? "none"})."));
            }
        }
    }

    private static NpgsqlBatchCommand StateCommand(PendingWrite w, IReadOnlyList<StorageCommand>? extra)
    {
        // A delete with statements marks its row first (an update), so the statements' guard can see the write id.
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

    /// <summary>A row-kept state's INSERT (key, columns, write id) or UPDATE (columns, write id, key, etag).</summary>
    private static NpgsqlBatchCommand RowCommand(RowStateMapping row, PendingWrite w)
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

    private static void AddKey(NpgsqlParameterCollection p, PendingWrite w)
    {
        p.Add(new NpgsqlParameter<string> { TypedValue = w.GrainType });
        p.Add(new NpgsqlParameter<string> { TypedValue = w.GrainKey });
        p.Add(new NpgsqlParameter<string> { TypedValue = w.StateName });
    }

    private static NpgsqlBatchCommand Guarded(StorageCommand c, PendingWrite w)
    {
        var cmd = new NpgsqlBatchCommand(w.Row is { } row ? row.Guarded(c) : GuardedSql(c));
        AddValues(cmd.Parameters, c.Parameters);
        if (w.Row is not null)
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
        sql = StorageCommand.WithGuard(c, new StringBuilder().AppendFormat(CultureInfo.InvariantCulture, GuardSql, n + 1, n + 2, n + 3, n + 4).ToString());
        s_guarded.AddOrUpdate(c.Sql, sql);
        return sql;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "A group commit of {Count} state writes failed; committing them one by one")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count);
    }
}
