namespace FinCore.Runtime.Persistence;

/// <summary>FinCore's extension of <see cref="IPersistentState{TState}"/>: write the state together with other
/// statements in one transaction (the transactional outbox). Every <see cref="IPersistentState{TState}"/> the
/// runtime injects implements it.</summary>
public interface ITransactionalState<TState> : IPersistentState<TState> where TState : new()
{
    /// <summary>Writes the state and <paramref name="alsoWrite"/> atomically; when the ETag check fails, none of
    /// them is applied and <see cref="InconsistentStateException"/> is thrown.</summary>
    Task WriteStateAsync(IReadOnlyList<StorageCommand> alsoWrite, CancellationToken cancellationToken = default);
}
