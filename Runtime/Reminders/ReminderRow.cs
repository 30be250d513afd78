namespace FinCore.Runtime.Reminders;

/// <summary>A reminder as loaded: <see cref="DueInMs"/> is relative to the database clock at load time.</summary>
internal sealed record ReminderRow(GrainId Grain, string Name, DateTime FirstDueAt, long PeriodMs, long Version, long DueInMs);
