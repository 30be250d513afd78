namespace FinCore.LoadGen.Metrics;

/// <summary>What happened during one second of the run; reused (reset) once its timeline row is written.</summary>
internal sealed class IntervalSlot
{
    public LatencyHistogram Latency { get; } = new();

    public LatencyHistogram Service { get; } = new();

    public LatencyHistogram Completion { get; } = new();

    public StatusCounter Statuses { get; } = new();

    public long Scheduled;
    public long Sent;
    public long Completed;
    public long Errors;
    public long Dropped;
    public long Late;

    public void Reset()
    {
        Latency.Reset();
        Service.Reset();
        Completion.Reset();
        Statuses.Clear();
        Scheduled = Sent = Completed = Errors = Dropped = Late = 0;
    }
}
