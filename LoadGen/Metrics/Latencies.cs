using HdrHistogram;
using HdrHistogram.Utilities;

namespace FinCore.LoadGen.Metrics;

/// <summary>
/// Latencies in microseconds: an HdrHistogram (<see cref="LongConcurrentHistogram"/>, 1 µs to one hour, three
/// significant digits, so any reported value is within 0.1% of a recorded one) plus the exact minimum, maximum and
/// sum, which HdrHistogram only keeps at bucket resolution. Memory is fixed at construction, recording is safe from
/// any thread, and two of them merge by adding counts — also across processes, through <see cref="Encode"/>.
/// </summary>
public sealed class Latencies
{
    /// <summary>The largest value recorded as itself: one hour. Larger values are clamped (and counted).</summary>
    public const long MaxValueMicros = 3_600_000_000;

    /// <summary>Significant decimal digits HdrHistogram keeps: a value is known to within 10^-3 of itself.</summary>
    public const int SignificantDigits = 3;

    /// <summary>Scratch for <see cref="Encode"/> (a copy and its buffer, ~370 KiB), one per thread, not one per call.</summary>
    [ThreadStatic]
    private static (LongHistogram Copy, ByteBuffer Buffer)? encodeScratch;

    /// <summary>Null for a decoded one (<see cref="shipped"/>) until something reads it.</summary>
    private HistogramBase? histogram;

    /// <summary>A decoded one's non-empty buckets; its figures are read-only.</summary>
    private readonly HdrCounts? shipped;
    private readonly long shippedCount;
    private long sum;
    private long min = long.MaxValue;
    private long max;
    private long clamped;

    /// <summary>An empty histogram; <paramref name="concurrent"/>: safe to record into from any thread (else one thread at a time, cheaper to merge into).</summary>
    public Latencies(bool concurrent = true) =>
        histogram = concurrent ? new LongConcurrentHistogram(1, MaxValueMicros, SignificantDigits) : new LongHistogram(1, MaxValueMicros, SignificantDigits);

    private Latencies(HdrCounts decoded, EncodedLatencies exact)
    {
        shipped = decoded;
        shippedCount = exact.Count;
        sum = exact.Sum;
        min = exact.Min;
        max = exact.Max;
        clamped = exact.Clamped;
    }

    public long TotalCount => shipped is null ? Histogram.TotalCount : shippedCount;

    public long Min => TotalCount == 0 ? 0 : Volatile.Read(ref min);

    public long Max => Volatile.Read(ref max);

    public long Clamped => Volatile.Read(ref clamped);

    public double Mean => TotalCount == 0 ? 0 : (double)Volatile.Read(ref sum) / TotalCount;

    /// <summary>Bytes the histogram holds; constant for its life.</summary>
    public int FootprintBytes => Histogram.GetEstimatedFootprintInBytes();

    private HistogramBase Histogram => histogram ??= Expand(shipped!.Value);

    /// <summary>Records one value (microseconds); negative values count as 0. Safe from any thread.</summary>
    public void Record(long micros)
    {
        if (micros < 0)
        {
            micros = 0;
        }
        else if (micros > MaxValueMicros)
        {
            Interlocked.Increment(ref clamped);
            micros = MaxValueMicros;
        }

        if (shipped is not null)
        {
            throw new InvalidOperationException("decoded figures are read-only");
        }

        Histogram.RecordValue(micros);
        Interlocked.Add(ref sum, micros);
        Atomic.Min(ref min, micros);
        Atomic.Max(ref max, micros);
    }

    /// <summary>Adds every count of <paramref name="other"/> into this one.</summary>
    public void Add(Latencies other)
    {
        if (shipped is not null)
        {
            throw new InvalidOperationException("decoded figures are read-only");
        }

        var target = Histogram;
        if (other.shipped is { } buckets)
        {
            for (var i = 0; i < buckets.Length; i++)
            {
                target.RecordValueWithCount(buckets.ValueAt(i), buckets.CountAt(i));
            }
        }
        else if (other.Histogram is LongHistogram settled)
        {
            // A decoded or single-threaded source: only its non-empty buckets (HdrHistogram's Add visits every
            // bucket, ~23,500, each an interlocked add into a concurrent histogram).
            foreach (var v in settled.RecordedValues())
            {
                target.RecordValueWithCount(v.ValueIteratedTo, v.CountAtValueIteratedTo);
            }
        }
        else
        {
            target.Add(other.Histogram);
        }

        AddExact(other.TotalCount, Volatile.Read(ref other.sum), other.Min, other.Max, other.Clamped);
    }

    /// <summary>Adds what another process recorded, as <see cref="Encode"/> wrote it.</summary>
    public void Add(EncodedLatencies other)
    {
        if (other.Count > 0)
        {
            Add(Decode(other)!);
        }
    }

    /// <summary>
    /// What another process recorded, to read or to add from (decode once, add to several); null when empty. It holds
    /// only the non-empty buckets: adding it records those, and a full histogram is built only if it is read.
    /// </summary>
    /// <exception cref="FormatException">The encoding is not HdrHistogram's.</exception>
    public static Latencies? Decode(EncodedLatencies encoded) =>
        encoded.Count == 0 ? null : new Latencies(HdrCounts.Read(encoded.Hdr), encoded);

    /// <summary>The histogram in HdrHistogram's compressed encoding (base64), with the exact figures beside it.</summary>
    public EncodedLatencies Encode()
    {
        if (TotalCount == 0)
        {
            return EncodedLatencies.Empty;
        }

        // HdrHistogram's encoder enumerates the counts and fails if they change meanwhile (a phase's figures are
        // encoded while its last requests still complete): encode a copy. Add copies index by index, as recording does.
        encodeScratch ??= (new LongHistogram(1, MaxValueMicros, SignificantDigits), ByteBuffer.Allocate(Histogram.GetNeededByteBufferCapacity()));
        var (copy, buffer) = encodeScratch.Value;
        copy.Reset();
        copy.Add(Histogram);

        // ByteBuffer copies in and out; the encoding is read back byte by byte (a few KiB at most).
        buffer.Position = 0;
        var length = copy.EncodeIntoCompressedByteBuffer(buffer);
        var bytes = new byte[length];
        buffer.Position = 0;
        for (var i = 0; i < length; i++)
        {
            bytes[i] = buffer.Get();
        }

        return new EncodedLatencies(Convert.ToBase64String(bytes), copy.TotalCount, Volatile.Read(ref sum), Min, Max, Clamped);
    }

    public void Reset()
    {
        if (shipped is not null)
        {
            throw new InvalidOperationException("decoded figures are read-only");
        }

        Histogram.Reset();
        sum = 0;
        min = long.MaxValue;
        max = 0;
        clamped = 0;
    }

    /// <summary>
    /// The value at percentile <paramref name="percentile"/> (0–100): HdrHistogram's value at rank round(p·n/100),
    /// reported as the middle of its bucket (HdrHistogram's "median equivalent value": at most half a bucket, 0.05%,
    /// from the value recorded, where the bucket's top would be up to 0.1% above it), kept within the recorded min
    /// and max; p100 is the max. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile) =>
        TotalCount == 0 ? 0 : percentile >= 100 ? Max : Math.Clamp(Histogram.MedianEquivalentValue(Histogram.GetValueAtPercentile(Math.Clamp(percentile, 0, 100))), Min, Max);

    /// <summary>Non-empty buckets as (lowest value, count), for reports that draw the distribution.</summary>
    public IEnumerable<(long Value, long Count)> Buckets()
    {
        var h = Histogram;
        foreach (var v in h.RecordedValues())
        {
            yield return (h.LowestEquivalentValue(v.ValueIteratedTo), v.CountAtValueIteratedTo);
        }
    }

    private static LongHistogram Expand(HdrCounts buckets)
    {
        var h = new LongHistogram(1, MaxValueMicros, SignificantDigits);
        for (var i = 0; i < buckets.Length; i++)
        {
            h.RecordValueWithCount(buckets.ValueAt(i), buckets.CountAt(i));
        }

        return h;
    }

    private void AddExact(long count, long otherSum, long otherMin, long otherMax, long otherClamped)
    {
        Interlocked.Add(ref sum, otherSum);
        Interlocked.Add(ref clamped, otherClamped);
        if (count > 0)
        {
            Atomic.Min(ref min, otherMin);
            Atomic.Max(ref max, otherMax);
        }
    }
}
