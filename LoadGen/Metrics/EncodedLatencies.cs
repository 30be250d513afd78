namespace FinCore.LoadGen.Metrics;

/// <summary>
/// <see cref="Latencies"/> as one process ships them to another: <see cref="Hdr"/> is the histogram in
/// HdrHistogram's compressed encoding (base64, readable by any HdrHistogram port), the rest exact figures it
/// does not keep.
/// </summary>
public sealed record EncodedLatencies(string Hdr, long Count, long Sum, long Min, long Max, long Clamped)
{
    public static readonly EncodedLatencies Empty = new("", 0, 0, 0, 0, 0);
}
