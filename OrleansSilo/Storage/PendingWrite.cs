namespace FinCore.Silo.Storage;

/// <summary>One state write on its way into a group commit; completes with the new ETag (0 after a delete).</summary>
internal sealed class PendingWrite(string grainType, string grainKey, string stateName, long? expectedEtag, string json,
    IReadOnlyList<StorageCommand>? alsoWrite, bool delete)
    : TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public string GrainType { get; } = grainType;
    public string GrainKey { get; } = grainKey;
    public string StateName { get; } = stateName;
    public long? ExpectedEtag { get; } = expectedEtag;
    public string Json { get; } = json;
    public IReadOnlyList<StorageCommand>? AlsoWrite { get; } = alsoWrite;
    public bool Delete { get; } = delete;
    public Guid WriteId { get; } = Guid.NewGuid();
}
