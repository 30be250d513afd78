using FinCore.Persistence;

namespace FinCore.Silo.Storage;

/// <summary>One state write on its way into a group commit; completes with the new ETag (0 after a delete). The state
/// is JSON for <c>fc_grain_state</c>, or, with <see cref="Row"/>, the values of its row's insert or update columns,
/// found by <see cref="RowKey"/>.</summary>
internal sealed class PendingWrite(string grainType, string grainKey, string stateName, long? expectedEtag, string json,
    IReadOnlyList<StorageCommand>? alsoWrite, bool delete, RowStateMapping? row = null, object?[]? rowValues = null, object[]? rowKey = null)
    : TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public string GrainType { get; } = grainType;
    public string GrainKey { get; } = grainKey;
    public string StateName { get; } = stateName;
    public long? ExpectedEtag { get; } = expectedEtag;
    public string Json { get; } = json;
    public IReadOnlyList<StorageCommand>? AlsoWrite { get; } = alsoWrite;
    public bool Delete { get; } = delete;
    public RowStateMapping? Row { get; } = row;
    public object?[]? RowValues { get; } = rowValues;
    public object[]? RowKey { get; } = rowKey;
    public Guid WriteId { get; } = Guid.NewGuid();
}
