using System.Text.Json.Serialization;
using FinCore.Persistence;

namespace FinCore.Tests.Grains;

public sealed class OutboxProbeState : IOutboxState
{
    public int Count { get; set; }

    [JsonIgnore]
    public List<StorageCommand> Pending { get; } = [];

    public IReadOnlyList<StorageCommand>? TakeOutbox()
    {
        if (Pending.Count == 0)
        {
            return null;
        }

        var taken = Pending.ToArray();
        Pending.Clear();
        return taken;
    }
}

[GrainType(TypeName)]
public sealed class GroupCommitProbeGrain([PersistentState("probe", "fincore")] IPersistentState<OutboxProbeState> state)
    : ProbeGrainBase, IGroupCommitProbeGrain
{
    /// <summary>The grain type its states are stored under.</summary>
    public const string TypeName = "groupcommit-probe";

    protected override int Count => state.State.Count;

    protected override async Task SaveAsync(int value)
    {
        var before = state.State.Count;
        state.State.Count = value;
        state.State.Pending.Add(new StorageCommand(
            "INSERT INTO probe_outbox (grain, count) SELECT $1, $2 WHERE /*guard*/",
            this.GetPrimaryKeyString(), value));
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Count = before;
            state.State.Pending.Clear();
            throw;
        }
    }
}
