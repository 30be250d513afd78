using Orleans.Storage;

namespace FinCore.Tests.Grains;

public sealed class ProbeGrain([PersistentState("probe")] IPersistentState<ProbeState> state) : Grain, IProbeGrain
{
    public Task<string> WhereAmI() => Task.FromResult(RuntimeIdentity);

    public async Task<int> Increment()
    {
        state.State.Count++;
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public async Task Set(int value)
    {
        state.State.Count = value;
        await state.WriteStateAsync();
    }

    public Task<int> Get() => Task.FromResult(state.State.Count);

    public Task ArmLateWrite(TimeSpan delay, int value)
    {
        this.RegisterGrainTimer(async _ =>
        {
            state.State.Count = value;
            try
            {
                await state.WriteStateAsync(CancellationToken.None); // the write is the point, even while the silo stops
                Report($"late write of {value} stored");
            }
            catch (InconsistentStateException e)
            {
                Report($"late write of {value} refused: {e.Message}");
            }
            catch (Exception e)
            {
                Report($"late write of {value} failed: {e.GetType().Name}: {e.Message}");
                throw;
            }
        }, delay, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    /// <summary>Straight to standard error, unbuffered: a silo that finds itself declared dead exits at once, and a
    /// line still queued in the console logger would be lost with it.</summary>
    private static void Report(string line) => Console.Error.WriteLine(line);
}
