namespace FinCore.Runtime.Reminders;

/// <summary>A reminder as loaded: <see cref="DueInMs"/> is relative to the database clock at load time.
/// <see cref="GrainIsNew"/>: registered for a grain that had never stored state, and the grain has not written since
/// (any state write of its own replaces the row), so an activation it starts need not read the state.</summary>
internal sealed record ReminderRow(GrainId Grain, string Name, DateTime FirstDueAt, long PeriodMs, long Version, long DueInMs, bool GrainIsNew = false);
