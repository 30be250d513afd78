using System.Buffers.Binary;
using System.IO.Compression;
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

    private readonly HistogramBase histogram;
    private long sum;
    private long min = long.MaxValue;
    private long max;
    private long clamped;

    /// <summary>An empty histogram; <paramref name="concurrent"/>: safe to record into from any thread (else one thread at a time, cheaper to merge into).</summary>
    public Latencies(bool concurrent = true) =>
        histogram = concurrent ? new LongConcurrentHistogram(1, MaxValueMicros, SignificantDigits) : new LongHistogram(1, MaxValueMicros, SignificantDigits);

    private Latencies(HistogramBase decoded, EncodedLatencies exact)
    {
        histogram = decoded;
        sum = exact.Sum;
        min = exact.Min;
        max = exact.Max;
        clamped = exact.Clamped;
    }

    public long TotalCount => histogram.TotalCount;

    public long Min => TotalCount == 0 ? 0 : Volatile.Read(ref min);

    public long Max => Volatile.Read(ref max);

    public long Clamped => Volatile.Read(ref clamped);

    public double Mean => TotalCount == 0 ? 0 : (double)Volatile.Read(ref sum) / TotalCount;

    /// <summary>Bytes the histogram holds; constant for its life.</summary>
    public int FootprintBytes => histogram.GetEstimatedFootprintInBytes();

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

        histogram.RecordValue(micros);
        Interlocked.Add(ref sum, micros);
        Atomic.Min(ref min, micros);
        Atomic.Max(ref max, micros);
    }

    /// <summary>Adds every count of <paramref name="other"/> into this one.</summary>
    public void Add(Latencies other)
    {
        if (other.histogram is LongHistogram settled)
        {
            // A decoded or single-threaded source: only its non-empty buckets (HdrHistogram's Add visits every
            // bucket, ~23,500, each an interlocked add into a concurrent histogram).
            foreach (var v in settled.RecordedValues())
            {
                histogram.RecordValueWithCount(v.ValueIteratedTo, v.CountAtValueIteratedTo);
            }
        }
        else
        {
            histogram.Add(other.histogram);
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

    /// <summary>What another process recorded, to read or to add from (decode once, add to several). Null when empty.</summary>
    public static Latencies? Decode(EncodedLatencies encoded)
    {
        if (encoded.Count == 0)
        {
            return null;
        }

        // HdrHistogram's compressed form: a cookie, the compressed length (big-endian ints), then the zlib-compressed
        // plain encoding. HdrHistogram 2.5.0's own decoder reads the zlib stream with a single Read, which stops
        // short once the payload passes a few KiB (millions of values over a wide range): inflate it here, fully,
        // and hand HdrHistogram the plain encoding.
        var bytes = Convert.FromBase64String(encoded.Hdr);
        var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        using var zlib = new ZLibStream(new MemoryStream(bytes, 8, length), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        zlib.CopyTo(plain);
        return new Latencies(HistogramEncoding.DecodeFromByteBuffer(ByteBuffer.Allocate(plain.ToArray()), MaxValueMicros, null), encoded);
    }

    /// <summary>The histogram in HdrHistogram's compressed encoding (base64), with the exact figures beside it.</summary>
    public EncodedLatencies Encode()
    {
        if (TotalCount == 0)
        {
            return EncodedLatencies.Empty;
        }

        // HdrHistogram's encoder enumerates the counts and fails if they change meanwhile (a phase's figures are
        // encoded while its last requests still complete): encode a copy. Add copies index by index, as recording does.
        encodeScratch ??= (new LongHistogram(1, MaxValueMicros, SignificantDigits), ByteBuffer.Allocate(histogram.GetNeededByteBufferCapacity()));
        var (copy, buffer) = encodeScratch.Value;
        copy.Reset();
        copy.Add(histogram);

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
        histogram.Reset();
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
        TotalCount == 0 ? 0 : percentile >= 100 ? Max : Math.Clamp(histogram.MedianEquivalentValue(histogram.GetValueAtPercentile(Math.Clamp(percentile, 0, 100))), Min, Max);

    /// <summary>Non-empty buckets as (lowest value, count), for reports that draw the distribution.</summary>
    public IEnumerable<(long Value, long Count)> Buckets()
    {
        foreach (var v in histogram.RecordedValues())
        {
            yield return (histogram.LowestEquivalentValue(v.ValueIteratedTo), v.CountAtValueIteratedTo);
        }
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
