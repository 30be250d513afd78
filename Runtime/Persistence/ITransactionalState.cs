namespace FinCore.Runtime.Persistence;

/// <summary>FinCore's extension of <see cref="IPersistentState{TState}"/>: write the state together with other
/// statements in one transaction (the transactional outbox). Every <see cref="IPersistentState{TState}"/> the
/// runtime injects implements it.</summary>
public interface ITransactionalState<TState> : IPersistentState<TState> where TState : new()
{
    /// <summary>Writes the state and <paramref name="alsoWrite"/> atomically; when the ETag check fails, none of
    /// them is applied and <see cref="InconsistentStateException"/> is thrown.</summary>
    Task WriteStateAsync(IReadOnlyList<StorageCommand> alsoWrite, CancellationToken cancellationToken = default);

    /// <summary>Deletes the stored state and applies <paramref name="alsoWrite"/> in the same transaction (guarded
    /// like a write: when the ETag check fails, none of them is applied and <see cref="InconsistentStateException"/>
    /// is thrown). With no state stored, nothing is written (and <paramref name="alsoWrite"/> must be empty).</summary>
    Task ClearStateAsync(IReadOnlyList<StorageCommand> alsoWrite, CancellationToken cancellationToken = default);
}
