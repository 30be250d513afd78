using System.ComponentModel.DataAnnotations;


namespace FinCore.Silo.Storage;

/// <summary><see cref="GroupCommitGrainStorage"/>'s batching (section <c>Storage</c>).</summary>
public sealed class GroupCommitOptions
{
    /// <summary>Most writes committed in one transaction (one WAL flush). Default 256.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>Commits in flight at once per silo; more overlaps network and fsync latency, fewer makes bigger
    /// batches. Default 2.</summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 2;
}
