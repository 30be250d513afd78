using System.Diagnostics;

namespace FinCore.LoadGen.Engine;

/// <summary>Monotonic time in Stopwatch ticks, relative to the run's start.</summary>
internal static class Clock
{
    public static readonly double TicksPerMicro = Stopwatch.Frequency / 1e6;

    public static long Now => Stopwatch.GetTimestamp();

    public static long FromSpan(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static long Micros(long ticks) => (long)(ticks / TicksPerMicro);

    public static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
}
