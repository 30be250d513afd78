using System.Diagnostics;
using FinCore.TestGrains;

namespace FinCore.Benchmarks;

/// <summary>Throughput and latency across processes and through PostgreSQL: closed-loop maxima, then an open-loop
/// run at half the maximum with latency measured from each call's scheduled send time.</summary>
internal static class ClusterBenchmarks
{
    public static async Task RunAsync(TimeSpan duration)
    {
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        await using var env = await BenchEnvironment.StartAsync();

        var local = await env.StartInProcessSiloAsync();
        var localGrains = Enumerable.Range(0, Environment.ProcessorCount).Select(i => local.GrainFactory.GetGrain<IEchoGrain>($"local/{i}")).ToArray();
        var localRate = await ClosedLoopAsync(localGrains.Length, duration, (w, _) => localGrains[w].Add(1, 2).AsTask());
        Report("local grain call", localRate, $"{localGrains.Length} callers (one per core), in-process silo");

        var counters = Enumerable.Range(0, 64).Select(i => local.GrainFactory.GetGrain<ICounterGrain>($"state/{i}")).ToArray();
        var writeRate = await ClosedLoopAsync(64, duration, (w, _) => counters[w].Increment());
        Report("state write (group commit)", writeRate, "64 grains writing concurrently, each write durable (fsync on)");

        await env.StartSiloProcessAsync();
        var client = await env.StartClientAsync();
        var remote = Enumerable.Range(0, 64).Select(i => client.GetGrain<IEchoGrain>($"remote/{i}")).ToArray();
        await Task.WhenAll(remote.Select(g => g.Add(0, 0).AsTask()));
        var remoteRate = await ClosedLoopAsync(64, duration, (w, _) => remote[w].Add(1, 2).AsTask());
        Report("remote grain call", remoteRate, "64 concurrent callers, client process -> silo process over loopback TCP");

        var half = remoteRate / 2;
        var (p50, p99, max, achieved) = await OpenLoopAsync(half, duration, i => remote[i % remote.Length].Add(1, 2).AsTask());
        Console.WriteLine($"  at {half:N0} calls/s (half the maximum, open loop): achieved {achieved:N0}/s, p50 {p50:0.00} ms, p99 {p99:0.00} ms, max {max:0.00} ms");
    }

    private static void Report(string what, double rate, string how) => Console.WriteLine($"{what,-28} {rate,12:N0} calls/s   ({how})");

    private static async Task<double> ClosedLoopAsync(int workers, TimeSpan duration, Func<int, long, Task> call)
    {
        // Warm up, then measure.
        await RunFor(workers, TimeSpan.FromSeconds(1), call);
        return await RunFor(workers, duration, call);

        static async Task<double> RunFor(int workers, TimeSpan duration, Func<int, long, Task> call)
        {
            long total = 0;
            var stop = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
            {
                long n = 0;
                while (stop.Elapsed < duration)
                {
                    for (var i = 0; i < 64; i++)
                    {
                        await call(w, n++);
                    }
                }

                Interlocked.Add(ref total, n);
            })));
            return total / stop.Elapsed.TotalSeconds;
        }
    }

    private static async Task<(double P50, double P99, double Max, double Achieved)> OpenLoopAsync(double rate, TimeSpan duration, Func<long, Task> call)
    {
        var latencies = new List<double>((int)(rate * duration.TotalSeconds) + 16);
        var pending = new List<Task>();
        var clock = Stopwatch.StartNew();
        var interval = 1.0 / rate;
        long sent = 0;
        while (clock.Elapsed < duration)
        {
            var due = (long)(clock.Elapsed.TotalSeconds / interval);
            for (; sent < due; sent++)
            {
                var scheduled = sent * interval;
                var n = sent;
                pending.Add(Task.Run(async () =>
                {
                    await call(n);
                    var latency = (clock.Elapsed.TotalSeconds - scheduled) * 1000;
                    lock (latencies)
                    {
                        latencies.Add(latency);
                    }
                }));
            }

            await Task.Delay(1);
        }

        await Task.WhenAll(pending);
        latencies.Sort();
        return (latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)], latencies[^1], sent / duration.TotalSeconds);
    }
}
