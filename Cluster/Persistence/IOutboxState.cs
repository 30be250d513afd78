namespace FinCore.Persistence;

/// <summary>A grain state whose writes carry statements (<see cref="StorageCommand"/>) into the same transaction: the
/// storage takes them at each write and commits them only if the state write applies.</summary>
public interface IOutboxState
{
    /// <summary>The statements to commit with the next write, handed over once (the state forgets them).</summary>
    IReadOnlyList<StorageCommand>? TakeOutbox();
}
