namespace FinCore.Runtime;

/// <summary>When a reminder tick was due and when it was delivered.</summary>
/// <param name="FirstTickTime">When the reminder was first due.</param>
/// <param name="Period">The period; <see cref="Timeout.InfiniteTimeSpan"/> for a one-shot reminder.</param>
/// <param name="CurrentTickTime">When this tick is delivered.</param>
public readonly record struct TickStatus(DateTime FirstTickTime, TimeSpan Period, DateTime CurrentTickTime);
