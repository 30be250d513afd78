using System.Globalization;
using System.Text.Json;

namespace FinCore.Runtime.Persistence;

/// <summary>Loads and writes one named state of one grain, keeping the ETag it last saw. A write that fails for
/// any reason but an ETag conflict (the database went away mid-commit: it may or may not have committed) leaves the
/// grain's memory unreliable, so <paramref name="onUncertainWrite"/> retires the activation once its turn ends and
/// the next call loads the truth from storage.
/// <para>With a <paramref name="row"/> storage the state is kept in its table's row, unless it was stored in
/// <c>fc_grain_state</c> before; a new state goes to the row when <paramref name="rowsReadable"/> says every live silo can
/// read it there.</para></summary>
internal sealed class PersistentState<TState>(GrainId grain, string stateName, GrainStorage storage, JsonSerializerOptions json, Action onUncertainWrite,
    RowStateStorage<TState>? row = null, Func<bool>? rowsReadable = null)
    : IPersistentState<TState>, ITransactionalState<TState>, IStateLoader where TState : new()
{
    private long? _etag;

    /// <summary>Where the stored state is: its row (true), <c>fc_grain_state</c> (false), or nowhere yet (null).</summary>
    private bool? _inRow;

    /// <summary>The row's key values (the grain key never changes).</summary>
    private readonly object[]? _rowKey = row?.KeyValues(grain.Key);

    public TState State { get; set; } = new();

    public string? Etag => _etag?.ToString(CultureInfo.InvariantCulture);

    public bool RecordExists => _etag is not null;

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        if (row is not null)
        {
            var found = await storage.ReadAsync(row, _rowKey!, grain, stateName, cancellationToken);
            (State, _etag, _inRow) = found switch
            {
                { Json: null } f => (f.Row!, f.Etag, true),
                { } f => (JsonSerializer.Deserialize<TState>(f.Json, json) ?? new TState(), f.Etag, false),
                null => (new TState(), (long?)null, (bool?)null),
            };
            return;
        }

        var stored = await storage.ReadAsync(grain, stateName, cancellationToken);
        if (stored is { } s)
        {
            State = JsonSerializer.Deserialize<TState>(s.Json, json) ?? new TState();
            _etag = s.Etag;
        }
        else
        {
            State = new TState();
            _etag = null;
        }
    }

    public Task WriteStateAsync(CancellationToken cancellationToken = default) => WriteStateAsync([], cancellationToken);

    public async Task WriteStateAsync(IReadOnlyList<StorageCommand> alsoWrite, CancellationToken cancellationToken = default)
    {
        if (row is null)
        {
            _etag = await CommitAsync(new StateWrite(grain, stateName, _etag, JsonSerializer.Serialize(State, json), alsoWrite, delete: false));
            return;
        }

        var inRow = _inRow ?? rowsReadable?.Invoke() ?? false;
        var first = _etag is null;
        _etag = await CommitAsync(inRow
            ? new StateWrite(grain, stateName, _etag, "", alsoWrite, delete: false, row,
                first ? row.InsertValues(grain.Key, State) : row.UpdateValues(State), _rowKey)
            : new StateWrite(grain, stateName, _etag, JsonSerializer.Serialize(State, json),
                [row.WriteAlongside(grain.Key, State, first), .. alsoWrite], delete: false));
        _inRow = inRow;
    }

    /// <summary>Any failure but an ETag conflict may or may not have committed: the activation's memory is unreliable.</summary>
    private async Task<long> CommitAsync(StateWrite write)
    {
        try
        {
            return await storage.WriteAsync(write);
        }
        catch (Exception e) when (e is not InconsistentStateException)
        {
            onUncertainWrite();
            throw;
        }
    }

    public Task ClearStateAsync(CancellationToken cancellationToken = default) => ClearStateAsync([], cancellationToken);

    public async Task ClearStateAsync(IReadOnlyList<StorageCommand> alsoWrite, CancellationToken cancellationToken = default)
    {
        if (row is not null)
        {
            throw new NotSupportedException($"State '{stateName}' of {grain} is kept in a row of {row.Table}; it is never cleared.");
        }

        if (_etag is null && alsoWrite.Count > 0)
        {
            // The commands are guarded by the stored row; with none there is nothing to guard them by.
            throw new InvalidOperationException($"State '{stateName}' of {grain} is not stored: there is nothing to clear the commands with.");
        }

        if (_etag is not null)
        {
            await CommitAsync(new StateWrite(grain, stateName, _etag, "{}", alsoWrite, delete: true));
        }

        _etag = null;
        State = new TState();
    }

    Task IStateLoader.LoadAsync(CancellationToken ct) => ReadStateAsync(ct);

    void IStateLoader.StartEmpty()
    {
        State = new TState();
        _etag = null;
        _inRow = null;
    }
}

/// <summary>Implemented by injected states so the activation can load them before <c>OnActivateAsync</c>.</summary>
internal interface IStateLoader
{
    Task LoadAsync(CancellationToken ct);

    /// <summary>No stored state, known without reading (a new grain): the first write is an insert.</summary>
    void StartEmpty();
}
