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

        foreach (var writers in new[] { 64, 256 })
        {
            var counters = Enumerable.Range(0, writers).Select(i => local.GrainFactory.GetGrain<ICounterGrain>($"state{writers}/{i}")).ToArray();
            var writeRate = await ClosedLoopAsync(writers, duration, (w, _) => counters[w].Increment());
            Report("state write (group commit)", writeRate, $"{writers} grains writing concurrently, each write durable (fsync on)");
        }

        await env.StartSiloProcessAsync();
        var client = await env.StartClientAsync();
        var remote = Enumerable.Range(0, 64).Select(i => client.GetGrain<IEchoGrain>($"remote/{i}")).ToArray();
        await Task.WhenAll(remote.Select(g => g.Add(0, 0).AsTask()));
        var remoteRate = await ClosedLoopAsync(64, duration, (w, _) => remote[w].Add(1, 2).AsTask());
        Report("remote grain call", remoteRate, "64 concurrent callers, client process -> silo process over loopback TCP");

        foreach (var rate in new[] { 25_000.0, remoteRate / 2 })
        {
            var (p50, p99, max, achieved) = await OpenLoopAsync(rate, duration, i => remote[i % remote.Length].Add(1, 2).AsTask());
            Console.WriteLine($"  open loop at {rate:N0} calls/s: achieved {achieved:N0}/s, latency from scheduled send: p50 {p50:0.00} ms, p99 {p99:0.00} ms, max {max:0.00} ms");
        }
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
        var total = (long)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var done = new CountdownEvent(1);
        var clock = Stopwatch.StartNew();
        var ticksPerCall = Stopwatch.Frequency / rate;
        // One thread sends on schedule; latency counts from when each call was due (coordinated-omission-correct).
        var sender = new Thread(() =>
        {
            for (long n = 0; n < total; n++)
            {
                var due = (long)(n * ticksPerCall);
                // Sleep rather than spin: a spinning sender would take one of the machine's two cores from the system
                // under test. Calls that came due during a sleep go out together; their wait counts as latency.
                while (clock.ElapsedTicks < due)
                {
                    Thread.Sleep(1);
                }

                done.AddCount();
                var index = n;
                call(n).ContinueWith(_ =>
                {
                    latencies[index] = (clock.ElapsedTicks - due) * 1000.0 / Stopwatch.Frequency;
                    done.Signal();
                }, TaskContinuationOptions.ExecuteSynchronously);
            }

            done.Signal();
        }) { IsBackground = true };
        sender.Start();
        await Task.Run(done.Wait);
        var elapsed = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return (latencies[total / 2], latencies[(long)(total * 0.99)], latencies[^1], total / elapsed);
    }
}
