using Orleans.Storage;

namespace FinCore.Tests.Grains;

/// <summary>What every probe does, whatever storage keeps its counter: a subclass says how the counter is read and
/// saved.</summary>
public abstract class ProbeGrainBase : Grain, IProbe
{
    /// <summary>The counter as this activation holds it.</summary>
    protected abstract int Count { get; }

    /// <summary>Stores <paramref name="value"/> as the counter (the in-memory state is unchanged when it fails).</summary>
    protected abstract Task SaveAsync(int value);

    public Task<string> WhereAmI() => Task.FromResult(RuntimeIdentity);

    public async Task<int> Increment()
    {
        await SaveAsync(Count + 1);
        return Count;
    }

    public Task Set(int value) => SaveAsync(value);

    public Task<int> Get() => Task.FromResult(Count);

    public Task ArmLateWrite(TimeSpan delay, int value)
    {
        this.RegisterGrainTimer(async _ =>
        {
            try
            {
                await SaveAsync(value);
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
