using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Plans;

namespace FinCore.LoadGen.Engine;

/// <summary>A phase as the engine runs it: when it actually started and ended, and its own figures.</summary>
internal sealed class Segment(Phase phase, bool measured)
{
    public Phase Phase { get; } = phase;

    public bool Measured { get; } = measured;

    public Totals Totals { get; } = new();

    public long StartTimestamp { get; set; } = -1;

    public long EndTimestamp { get; set; } = -1;

    public string? EndedBy { get; set; }
}
