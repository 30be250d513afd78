using FinCore.LoadGen.Metrics;

namespace FinCore.Tests.LoadGen;

public sealed class HistogramTests
{
    private static readonly double[] Checked = [1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

    /// <summary>The exact value at a percentile by HdrHistogram's rank: the round(p·n/100)-th smallest (at least the first).</summary>
    internal static long Exact(long[] sorted, double p) => sorted[Math.Clamp((long)((p / 100 * sorted.Length) + 0.5), 1, sorted.Length) - 1];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Percentiles_are_within_a_tenth_of_a_percent_of_the_exact_ones(int seed)
    {
        // Latencies spread over seven decades (1 µs to ~10 s), log-normal-ish like real ones, plus a slow tail.
        var random = new Random(seed);
        var samples = new long[200_000];
        for (var i = 0; i < samples.Length; i++)
        {
            var log = (random.NextDouble() * random.NextDouble() * 7) + (i % 997 == 0 ? 3 : 0);
            samples[i] = Math.Max(1, (long)Math.Pow(10, Math.Min(log, 9.5)));
        }

        var h = new Latencies();
        foreach (var s in samples)
        {
            h.Record(s);
        }

        Array.Sort(samples);
        foreach (var p in Checked)
        {
            var exact = Exact(samples, p);
            var reported = h.ValueAtPercentile(p);
            Assert.True(Math.Abs(reported - exact) <= exact * 0.001, $"p{p}: exact {exact} µs, histogram {reported} µs");
        }

        Assert.Equal(samples.Length, h.TotalCount);
        Assert.Equal(samples[0], h.Min);
        Assert.Equal(samples[^1], h.Max);
        Assert.Equal(samples.Average(), h.Mean, 6);
    }

    [Fact]
    public void Merging_two_halves_gives_the_histogram_of_the_whole_in_process_and_through_the_encoding()
    {
        var random = new Random(7);
        var whole = new Latencies();
        var a = new Latencies();
        var b = new Latencies();
        for (var i = 0; i < 100_000; i++)
        {
            var v = (long)Math.Pow(10, random.NextDouble() * 6);
            whole.Record(v);
            (i % 2 == 0 ? a : b).Record(v);
        }

        // As a coordinator merges what two agents shipped: the compressed base64 form only.
        var shipped = new Latencies();
        shipped.Add(a.Encode());
        shipped.Add(b.Encode());
        shipped.Add(new Latencies().Encode());

        a.Add(b);
        foreach (var merged in new[] { a, shipped })
        {
            Assert.Equal(whole.TotalCount, merged.TotalCount);
            Assert.Equal(whole.Max, merged.Max);
            Assert.Equal(whole.Min, merged.Min);
            Assert.Equal(whole.Mean, merged.Mean, 9);
            foreach (var p in Checked)
            {
                Assert.Equal(whole.ValueAtPercentile(p), merged.ValueAtPercentile(p));
            }
        }

        Assert.True(a.Encode().Hdr.Length < 20_000, "the encoding is compressed");
    }

    [Fact]
    public void A_large_wide_histogram_survives_the_encoding()
    {
        // Millions of values over three decades: a compressed payload past the size HdrHistogram 2.5.0's own
        // decoder reads in one go (a whole phase of a long run, as an agent ships it).
        var random = new Random(11);
        var h = new Latencies();
        for (var i = 0; i < 3_000_000; i++)
        {
            h.Record(100 + random.Next(2_000_000));
        }

        var shipped = new Latencies();
        shipped.Add(h.Encode());
        Assert.Equal(h.TotalCount, shipped.TotalCount);
        foreach (var p in Checked)
        {
            Assert.Equal(h.ValueAtPercentile(p), shipped.ValueAtPercentile(p));
        }
    }

    [Fact]
    public void A_decoded_histogram_has_every_recorded_bucket_across_the_whole_range()
    {
        // Values in every power of two from 0 to the hour, including both ends: the coordinator reads the encoding
        // itself, so each bucket must come back as HdrHistogram laid it out, with its count.
        var h = new Latencies();
        var random = new Random(5);
        h.Record(0);
        h.Record(Latencies.MaxValueMicros);
        for (var shift = 0; shift < 32; shift++)
        {
            for (var i = 0; i < 50; i++)
            {
                h.Record((1L << shift) + random.NextInt64(1L << shift));
            }
        }

        var decoded = Latencies.Decode(h.Encode())!;
        Assert.Equal(h.Buckets().ToList(), decoded.Buckets().ToList());
        var merged = new Latencies(concurrent: false);
        merged.Add(decoded);
        merged.Add(decoded);
        Assert.Equal(h.Buckets().Select(b => (b.Value, b.Count * 2)).ToList(), merged.Buckets().ToList());
        Assert.Throws<FormatException>(() => Latencies.Decode(h.Encode() with { Hdr = Convert.ToBase64String(new byte[64]) }));
    }

    [Fact]
    public void Memory_is_fixed_whatever_is_recorded_and_values_past_an_hour_are_clamped()
    {
        var h = new Latencies();
        var before = h.FootprintBytes;
        var random = new Random(3);
        for (var i = 0; i < 1_000_000; i++)
        {
            h.Record(random.NextInt64(Latencies.MaxValueMicros * 2));
        }

        Assert.Equal(before, h.FootprintBytes);
        Assert.True(before < 256 * 1024, $"{before} bytes");
        Assert.True(h.Clamped > 0, "values above an hour are clamped and counted");
        Assert.Equal(Latencies.MaxValueMicros, h.Max);
        Assert.Equal(Latencies.MaxValueMicros, h.ValueAtPercentile(100));
    }

    [Fact]
    public void Concurrent_recording_loses_nothing()
    {
        var h = new Latencies();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 1; i <= 100_000; i++)
            {
                h.Record(i);
            }
        });
        Assert.Equal(800_000, h.TotalCount);
        Assert.InRange(h.ValueAtPercentile(50), 49_950, 50_050);
    }
}
