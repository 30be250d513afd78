using FinCore.Runtime;

namespace FinCore.TestGrains;

public sealed record ReminderTick(string Name, string SiloId, DateTime At);

/// <summary>Registers reminders and records every tick it receives (persisted, with the silo that got it).</summary>
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task Schedule(string name, int dueMs, int periodMs);

    Task Cancel(string name);

    [Idempotent]
    Task<bool> Exists(string name);

    [Idempotent]
    Task<List<ReminderTick>> Ticks();
}
