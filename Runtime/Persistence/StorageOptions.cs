using System.ComponentModel.DataAnnotations;

namespace FinCore.Runtime.Persistence;

/// <summary>Grain state storage.</summary>
public sealed class StorageOptions
{
    /// <summary>Most writes committed in one transaction (one WAL flush). Default 256.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>Commits in flight at once; more overlaps network and fsync latency. Default 4.</summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 4;
}
