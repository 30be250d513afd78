using FinCore.Runtime;
using FinCore.Runtime.Hosting;

namespace FinCore.TestGrains;

public sealed class CounterState
{
    public int Count { get; set; }
}

public sealed class CounterGrain(SiloHost silo, [PersistentState("counter")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public async Task<int> Increment()
    {
        state.State.Count++;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Count--;
            throw;
        }

        return state.State.Count;
    }

    public Task<int> Get() => Task.FromResult(state.State.Count);

    public Task<string> WhereAmI() => Task.FromResult(silo.SiloId);
}
