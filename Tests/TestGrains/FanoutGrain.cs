namespace FinCore.Tests.Grains;

public sealed class FanoutGrain : Grain, IFanoutGrain
{
    public async Task<int> Fanout(int calls, int parallel, int grains)
    {
        var answered = 0;
        var perLoop = calls / parallel;
        var loops = Enumerable.Range(0, parallel).Select(async loop =>
        {
            for (var i = 0; i < perLoop; i++)
            {
                await GrainFactory.GetGrain<IProbeGrain>($"fanout/{(loop * perLoop + i) % grains}").WhereAmI();
                Interlocked.Increment(ref answered);
            }
        });
        await Task.WhenAll(loops);
        return answered;
    }
}
