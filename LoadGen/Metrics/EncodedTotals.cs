namespace FinCore.LoadGen.Metrics;

/// <summary><see cref="Totals"/> as an agent ships them to its coordinator: counts, statuses and encoded histograms.</summary>
public sealed record EncodedTotals(
    long Scheduled,
    long Sent,
    long Completed,
    long Errors,
    long Dropped,
    long Late,
    long Accepted,
    long Incomplete,
    long TrackingLists,
    long TrackingReads,
    EncodedLatencies Latency,
    EncodedLatencies Service,
    EncodedLatencies Completion,
    IReadOnlyDictionary<string, long> Statuses,
    IReadOnlyDictionary<string, long> FinalStatuses);
