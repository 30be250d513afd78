using System.Text.Json.Serialization;
using FinCore.Silo.Storage;
using Orleans.Storage;

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
public sealed class GroupCommitProbeGrain([PersistentState("probe", "fincore")] IPersistentState<OutboxProbeState> state) : Grain, IGroupCommitProbeGrain
{
    /// <summary>The grain type its states are stored under.</summary>
    public const string TypeName = "groupcommit-probe";

    public Task<string> WhereAmI() => Task.FromResult(RuntimeIdentity);

    public async Task<int> Increment()
    {
        await SaveAsync(state.State.Count + 1);
        return state.State.Count;
    }

    public Task Set(int value) => SaveAsync(value);

    public Task<int> Get() => Task.FromResult(state.State.Count);

    public Task ArmLateWrite(TimeSpan delay, int value)
    {
        this.RegisterGrainTimer(async _ =>
        {
            try
            {
                await SaveAsync(value);
                Console.Error.WriteLine($"late write of {value} stored");
            }
            catch (InconsistentStateException e)
            {
                Console.Error.WriteLine($"late write of {value} refused: {e.Message}");
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"late write of {value} failed: {e.GetType().Name}: {e.Message}");
                throw;
            }
        }, delay, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    private async Task SaveAsync(int value)
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
