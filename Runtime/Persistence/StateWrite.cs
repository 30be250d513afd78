namespace FinCore.Runtime.Persistence;

/// <summary>One pending state write on its way into a group commit: the state as JSON for <c>fc_grain_state</c>, or,
/// with <see cref="Row"/>, as the values of its row's columns (<see cref="RowStateStorage"/>'s insert or update
/// columns), found by <see cref="RowKey"/> (its key columns' values).</summary>
internal sealed class StateWrite(GrainId grain, string stateName, long? expectedEtag, string json,
    IReadOnlyList<StorageCommand>? alsoWrite, bool delete, RowStateStorage? row = null, object?[]? rowValues = null, object[]? rowKey = null)
    : TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public GrainId Grain { get; } = grain;
    public string StateName { get; } = stateName;
    public long? ExpectedEtag { get; } = expectedEtag;
    public string Json { get; } = json;
    public IReadOnlyList<StorageCommand>? AlsoWrite { get; } = alsoWrite;
    public bool Delete { get; } = delete;
    public RowStateStorage? Row { get; } = row;
    public object?[]? RowValues { get; } = rowValues;
    public object[]? RowKey { get; } = rowKey;
    public Guid WriteId { get; } = Guid.NewGuid();
}
