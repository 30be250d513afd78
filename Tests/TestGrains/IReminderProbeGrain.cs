namespace FinCore.Tests.Grains;

/// <summary>A grain with one Orleans reminder: it records the first tick in its state and then drops the reminder.</summary>
[Alias("FinCore.Tests.IReminderProbeGrain")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    /// <summary>Registers the reminder, first due after <paramref name="due"/>, then every <paramref name="period"/>.</summary>
    [Alias("Schedule")]
    Task Schedule(TimeSpan due, TimeSpan period);

    /// <summary>When the reminder first ticked (UTC) and on which silo; null before it has.</summary>
    [Alias("Fired")]
    Task<ReminderFired?> Fired();
}

[GenerateSerializer]
[Alias("FinCore.Tests.ReminderFired")]
public sealed record ReminderFired([property: Id(0)] DateTime At, [property: Id(1)] string Silo);
