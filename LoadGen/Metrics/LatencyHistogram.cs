using System.Numerics;

namespace FinCore.LoadGen.Metrics;

/// <summary>
/// A log-linear histogram of latencies in microseconds (the layout HdrHistogram made popular, written here):
/// values below 2^k are counted exactly; above, each power-of-two range is split into 2^(k-1) equal sub-buckets,
/// so a bucket is never wider than 1/2^(k-1) of its lowest value. With k = 11 that is 1/1024 (three significant
/// digits). Memory is fixed at construction, recording is lock-free, and two histograms of one layout merge by
/// adding counts.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>The largest value recorded as itself: one hour. Larger values are clamped (and counted).</summary>
    public const long MaxValueMicros = 3_600_000_000;

    private readonly int subBucketBits;
    private readonly long subBucketCount;
    private readonly long subBucketHalfCount;
    private readonly long[] counts;
    private long totalCount;
    private long sum;
    private long min = long.MaxValue;
    private long max;
    private long clamped;

    public LatencyHistogram(int significantDigits = 3)
    {
        if (significantDigits is < 1 or > 5)
        {
            throw new ArgumentOutOfRangeException(nameof(significantDigits), "between 1 and 5");
        }

        // Smallest power of two that holds 2 * 10^digits distinct values at full resolution.
        var needed = 2 * (long)Math.Pow(10, significantDigits);
        subBucketBits = 64 - BitOperations.LeadingZeroCount((ulong)(needed - 1));
        subBucketCount = 1L << subBucketBits;
        subBucketHalfCount = subBucketCount / 2;
        counts = new long[IndexOf(MaxValueMicros) + 1];
    }

    public long TotalCount => Volatile.Read(ref totalCount);

    public long Min => TotalCount == 0 ? 0 : Volatile.Read(ref min);

    public long Max => Volatile.Read(ref max);

    public long Clamped => Volatile.Read(ref clamped);

    public double Mean => TotalCount == 0 ? 0 : (double)Volatile.Read(ref sum) / TotalCount;

    /// <summary>Bytes of counts held; constant for the histogram's life.</summary>
    public int FootprintBytes => counts.Length * sizeof(long);

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

        Interlocked.Increment(ref counts[IndexOf(micros)]);
        Interlocked.Increment(ref totalCount);
        Interlocked.Add(ref sum, micros);
        Atomic.Min(ref min, micros);
        Atomic.Max(ref max, micros);
    }

    /// <summary>Adds every count of <paramref name="other"/> (same precision) into this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        if (other.counts.Length != counts.Length)
        {
            throw new ArgumentException("histograms of different precision cannot be merged", nameof(other));
        }

        for (var i = 0; i < counts.Length; i++)
        {
            var c = Volatile.Read(ref other.counts[i]);
            if (c != 0)
            {
                Interlocked.Add(ref counts[i], c);
            }
        }

        Interlocked.Add(ref totalCount, other.TotalCount);
        Interlocked.Add(ref sum, Volatile.Read(ref other.sum));
        Interlocked.Add(ref clamped, other.Clamped);
        if (other.TotalCount > 0)
        {
            Atomic.Min(ref min, other.Min);
            Atomic.Max(ref max, other.Max);
        }
    }

    public void Reset()
    {
        Array.Clear(counts);
        totalCount = 0;
        sum = 0;
        min = long.MaxValue;
        max = 0;
        clamped = 0;
    }

    /// <summary>
    /// The value at percentile <paramref name="percentile"/> (0–100) by nearest rank: the middle of the bucket
    /// holding the ⌈p·n/100⌉-th smallest value, kept within the recorded min and max. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        var n = TotalCount;
        if (n == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * n);
        rank = Math.Clamp(rank, 1, n);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += Volatile.Read(ref counts[i]);
            if (seen >= rank)
            {
                var (low, width) = BucketOf(i);
                var middle = low + ((width - 1) / 2);
                return Math.Clamp(middle, Min, Max);
            }
        }

        return Max;
    }

    /// <summary>Fraction of recorded values above <paramref name="micros"/>, at bucket resolution.</summary>
    public double FractionAbove(long micros)
    {
        var n = TotalCount;
        if (n == 0)
        {
            return 0;
        }

        long above = 0;
        for (var i = IndexOf(Math.Clamp(micros, 0, MaxValueMicros)) + 1; i < counts.Length; i++)
        {
            above += Volatile.Read(ref counts[i]);
        }

        return (double)above / n;
    }

    /// <summary>Non-empty buckets as (lowest value, count), for reports that draw the distribution.</summary>
    public IEnumerable<(long Value, long Count)> Buckets()
    {
        for (var i = 0; i < counts.Length; i++)
        {
            var c = Volatile.Read(ref counts[i]);
            if (c != 0)
            {
                yield return (BucketOf(i).Low, c);
            }
        }
    }

    private int IndexOf(long value)
    {
        if (value < subBucketCount)
        {
            return (int)value;
        }

        // Power-of-two range above the linear part; sub = value >> shift lies in [half, full).
        var shift = 64 - BitOperations.LeadingZeroCount((ulong)value) - subBucketBits;
        var sub = value >> shift;
        return (int)(subBucketCount + ((shift - 1) * subBucketHalfCount) + (sub - subBucketHalfCount));
    }

    private (long Low, long Width) BucketOf(int index)
    {
        if (index < subBucketCount)
        {
            return (index, 1);
        }

        var offset = index - subBucketCount;
        var shift = (int)(offset / subBucketHalfCount) + 1;
        var sub = (offset % subBucketHalfCount) + subBucketHalfCount;
        return (sub << shift, 1L << shift);
    }
}
