namespace FinCore.Persistence;

/// <summary>A grain state that carries statements into its next write (<see cref="IOutboxState"/>): derive from it, and
/// write with <see cref="OutboxStateExtensions.WriteStateAsync{T}(IPersistentState{T}, IReadOnlyList{StorageCommand})"/>. The statements are never stored (a private
/// field, which no serializer sees).</summary>
public abstract class OutboxState : IOutboxState
{
    private IReadOnlyList<StorageCommand>? _outbox;

    /// <summary>Statements for the next write only; replaced by the next call.</summary>
    public void Stage(IReadOnlyList<StorageCommand> commands) => _outbox = commands.Count == 0 ? null : commands;

    IReadOnlyList<StorageCommand>? IOutboxState.TakeOutbox()
    {
        var taken = _outbox;
        _outbox = null;
        return taken;
    }
}

public static class OutboxStateExtensions
{
    /// <summary>Writes the state with <paramref name="commands"/> in the same transaction: all of it or none (a stale
    /// ETag writes nothing, and the write fails with Orleans' <c>InconsistentStateException</c>).</summary>
    public static Task WriteStateAsync<T>(this IPersistentState<T> state, IReadOnlyList<StorageCommand> commands) where T : OutboxState =>
        WithAsync(state.State, commands, state.WriteStateAsync);

    /// <summary>Writes as <see cref="WriteStateAsync{T}(IPersistentState{T}, IReadOnlyList{StorageCommand})"/> does; should the
    /// write fail, reads the state back first (memory stays what storage holds), then throws.</summary>
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IReadOnlyList<StorageCommand> commands) where T : OutboxState
    {
        try
        {
            await state.WriteStateAsync(commands);
        }
        catch
        {
            await state.ReadStateAsync();
            throw;
        }
    }

    /// <summary>Writes a state the grain keeps itself through <paramref name="storage"/>, with <paramref name="commands"/>
    /// in the same transaction, as <see cref="WriteStateAsync{T}(IPersistentState{T}, IReadOnlyList{StorageCommand})"/> does.</summary>
    public static Task WriteStateAsync<T>(this Orleans.Storage.IGrainStorage storage, string stateName, GrainId grainId, IGrainState<T> state,
        IReadOnlyList<StorageCommand> commands) where T : OutboxState =>
        WithAsync(state.State, commands, () => storage.WriteStateAsync(stateName, grainId, state));

    /// <summary>Clears the state with <paramref name="commands"/> in the same transaction.</summary>
    public static Task ClearStateAsync<T>(this IPersistentState<T> state, IReadOnlyList<StorageCommand> commands) where T : OutboxState =>
        WithAsync(state.State, commands, state.ClearStateAsync);

    /// <summary>Stages <paramref name="commands"/> for <paramref name="write"/>; a write that failed before the storage took
    /// them leaves none for the next.</summary>
    private static async Task WithAsync(OutboxState? state, IReadOnlyList<StorageCommand> commands, Func<Task> write)
    {
        var outbox = state ?? throw new ArgumentException("The state to write is null.", nameof(state));
        outbox.Stage(commands);
        try
        {
            await write();
        }
        finally
        {
            outbox.Stage([]);
        }
    }
}
