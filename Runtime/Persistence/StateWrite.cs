namespace FinCore.Runtime.Persistence;

/// <summary>One pending state write on its way into a group commit.</summary>
internal sealed class StateWrite(GrainId grain, string stateName, long? expectedEtag, string json,
    IReadOnlyList<StorageCommand>? alsoWrite, bool delete)
    : TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public GrainId Grain { get; } = grain;
    public string StateName { get; } = stateName;
    public long? ExpectedEtag { get; } = expectedEtag;
    public string Json { get; } = json;
    public IReadOnlyList<StorageCommand>? AlsoWrite { get; } = alsoWrite;
    public bool Delete { get; } = delete;
    public Guid WriteId { get; } = Guid.NewGuid();
}
