using FinCore.Runtime;
using FinCore.Runtime.Hosting;
using FinCore.Runtime.Persistence;

namespace FinCore.TestGrains;

public sealed class ReminderProbeState
{
    public List<ReminderTick> Ticks { get; set; } = [];

    /// <summary>Ticks still to come of the reminders registered with the state.</summary>
    public Dictionary<string, int> Remaining { get; set; } = [];
}

public sealed class ReminderProbeGrain(SiloHost silo, [PersistentState("ticks")] ITransactionalState<ReminderProbeState> state)
    : Grain, IReminderProbeGrain, IRemindable
{
    public async Task Schedule(string name, int dueMs, int periodMs) =>
        await RegisterOrUpdateReminder(name, TimeSpan.FromMilliseconds(dueMs),
            periodMs <= 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(periodMs));

    public async Task ScheduleWithState(string name, int dueMs, int times)
    {
        state.State.Remaining[name] = times;
        await state.WriteStateAsync([ReminderWithState(name, TimeSpan.FromMilliseconds(dueMs), Timeout.InfiniteTimeSpan)]);
    }

    public async Task HandOff(string otherKey, string name, int dueMs) =>
        await state.WriteStateAsync([ReminderWithState<IReminderProbeGrain>(otherKey, name, TimeSpan.FromMilliseconds(dueMs), Timeout.InfiniteTimeSpan)]);

    public async Task HandOffToNewGrain(string otherKey, string name, int dueMs) =>
        await state.WriteStateAsync([ReminderWithState<IReminderProbeGrain>(otherKey, name, TimeSpan.FromMilliseconds(dueMs), Timeout.InfiniteTimeSpan, grainIsNew: true)]);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

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
        if (state.State.Remaining.TryGetValue(reminderName, out var remaining))
        {
            if (remaining > 1)
            {
                state.State.Remaining[reminderName] = remaining - 1;
                await state.WriteStateAsync([ReminderWithState(reminderName, TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan)]);
            }
            else
            {
                state.State.Remaining.Remove(reminderName);
                await state.WriteStateAsync([ReminderRemovalWithState(reminderName)]);
            }

            return;
        }

        await state.WriteStateAsync();
    }
}
