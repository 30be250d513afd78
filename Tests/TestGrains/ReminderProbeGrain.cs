namespace FinCore.Tests.Grains;

[GenerateSerializer]
[Alias("FinCore.Tests.ReminderProbeState")]
public sealed class ReminderProbeState
{
    [Id(0)]
    public ReminderFired? Fired { get; set; }
}

public sealed class ReminderProbeGrain([PersistentState("reminder-probe")] IPersistentState<ReminderProbeState> state)
    : Grain, IReminderProbeGrain, IRemindable
{
    private const string Name = "probe";

    public async Task Schedule(TimeSpan due, TimeSpan period) => await this.RegisterOrUpdateReminder(Name, due, period);

    public Task<ReminderFired?> Fired() => Task.FromResult(state.State.Fired);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.Fired is null)
        {
            state.State.Fired = new ReminderFired(DateTime.UtcNow, RuntimeIdentity);
            await state.WriteStateAsync();
        }

        var reminder = await this.GetReminder(Name);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }
}
