using FinCore.Runtime;
using FinCore.Runtime.Hosting;

namespace FinCore.TestGrains;

public sealed class ReminderProbeState
{
    public List<ReminderTick> Ticks { get; set; } = [];
}

public sealed class ReminderProbeGrain(SiloHost silo, [PersistentState("ticks")] IPersistentState<ReminderProbeState> state)
    : Grain, IReminderProbeGrain, IRemindable
{
    public async Task Schedule(string name, int dueMs, int periodMs) =>
        await RegisterOrUpdateReminder(name, TimeSpan.FromMilliseconds(dueMs),
            periodMs <= 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(periodMs));

    public async Task Cancel(string name)
    {
        if (await GetReminder(name) is { } reminder)
        {
            await UnregisterReminder(reminder);
        }
    }

    public async Task<bool> Exists(string name) => await GetReminder(name) is not null;

    public Task<List<ReminderTick>> Ticks() => Task.FromResult(state.State.Ticks);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Ticks.Add(new ReminderTick(reminderName, silo.SiloId, status.CurrentTickTime));
        await state.WriteStateAsync();
    }
}
