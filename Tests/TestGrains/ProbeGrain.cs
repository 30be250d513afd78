namespace FinCore.Tests.Grains;

public sealed class ProbeGrain([PersistentState("probe")] IPersistentState<ProbeState> state) : ProbeGrainBase, IProbeGrain
{
    protected override int Count => state.State.Count;

    protected override async Task SaveAsync(int value)
    {
        var before = state.State.Count;
        state.State.Count = value;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Count = before;
            throw;
        }
    }
}
