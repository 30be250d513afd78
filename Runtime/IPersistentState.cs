namespace FinCore.Runtime;

/// <summary>Grain state held in PostgreSQL, read at activation, written explicitly. Every write carries the
/// ETag it read; a write against a newer version fails with <see cref="InconsistentStateException"/>.</summary>
public interface IPersistentState<TState> where TState : new()
{
    /// <summary>The state. A new <typeparamref name="TState"/> when nothing was stored.</summary>
    TState State { get; set; }

    /// <summary>The version of the stored state this activation last read or wrote; null when none exists.</summary>
    string? Etag { get; }

    /// <summary>True when a stored record exists.</summary>
    bool RecordExists { get; }

    /// <summary>Reads the stored state again, replacing <see cref="State"/>.</summary>
    Task ReadStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes <see cref="State"/>. Durable when the task completes. Writes from many grains are
    /// committed together (group commit).</summary>
    Task WriteStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes the stored state and resets <see cref="State"/>.</summary>
    Task ClearStateAsync(CancellationToken cancellationToken = default);
}
