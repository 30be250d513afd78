using FinCore.Runtime;

namespace FinCore.TestGrains;

public sealed record ReminderTick(string Name, string SiloId, DateTime At);

/// <summary>Registers reminders and records every tick it receives (persisted, with the silo that got it).</summary>
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task Schedule(string name, int dueMs, int periodMs);

    /// <summary>Registers a one-shot reminder in the same transaction as the grain's state; each tick registers the
    /// next the same way until it has fired <paramref name="times"/> times, and the last removes it with the state.</summary>
    Task ScheduleWithState(string name, int dueMs, int times);

    /// <summary>Registers a one-shot reminder of another probe in the same transaction as this grain's state.</summary>
    Task HandOff(string otherKey, string name, int dueMs);

    /// <summary>Like <see cref="HandOff"/>, saying the other probe has never stored state (whether or not that is true).</summary>
    Task HandOffToNewGrain(string otherKey, string name, int dueMs);

    /// <summary>Deactivates after this call: the next call or tick starts an activation that loads what is stored.</summary>
    Task Deactivate();

    Task Cancel(string name);

    [Idempotent]
    Task<bool> Exists(string name);

    [Idempotent]
    Task<List<ReminderTick>> Ticks();
}
