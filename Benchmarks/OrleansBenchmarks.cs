using System.Diagnostics;
using FinCore.Chaos;
using FinCore.Cluster;
using FinCore.Tests.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FinCore.Benchmarks;

/// <summary>Orleans on this machine: grain calls from a client process and inside a silo, and state writes through
/// Orleans' ADO.NET storage and through FinCore's group-commit storage. Two silo processes (FinCore.Silo, TLS
/// between all members) over a private PostgreSQL, and an Orleans client in this process; closed loops with latency
/// per call.</summary>
internal static class OrleansBenchmarks
{
    public static async Task RunAsync(TimeSpan duration)
    {
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {duration.TotalSeconds:0} s per figure");
        await using var env = await BenchEnvironment.StartAsync();
        var cert = Path.Combine(Path.GetTempPath(), $"fincore-bench-cert-{Guid.NewGuid():N}.pfx");
        ClusterCertificates.Create(cert);
        var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..6];
        var silos = new List<Process>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                silos.Add(await StartSiloAsync(env.Postgres, clusterId, cert));
            }

            await using (var conn = new NpgsqlConnection(env.Postgres))
            {
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS probe_outbox (grain text NOT NULL, count integer NOT NULL)", conn);
                await cmd.ExecuteNonQueryAsync();
            }

            using var host = new HostBuilder()
                .UseOrleansClient(c => c.UseFinCoreCluster(ClusterSettings.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["FINCORE_POSTGRES"] = env.Postgres,
                    ["FINCORE_CLUSTER_ID"] = clusterId,
                    ["FINCORE_CLUSTER_CERT"] = cert,
                }).Build())))
                .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
                .Build();
            await host.StartAsync();
            var client = host.Services.GetRequiredService<IClusterClient>();

            foreach (var callers in new[] { 64, 256 })
            {
                var grains = Enumerable.Range(0, callers).Select(i => client.GetGrain<IProbeGrain>($"call/{i}")).ToArray();
                await Task.WhenAll(grains.Select(g => g.WhereAmI()));
                Report("client -> silo grain call", await ClosedLoopAsync(callers, duration, w => grains[w].WhereAmI()),
                    $"{callers} callers, trivial method, 2 silos");
            }

            var fanout = client.GetGrain<IFanoutGrain>("bench");
            await fanout.Fanout(10_000, 64, 256); // warm-up: activates the targets
            var clock = Stopwatch.StartNew();
            var answered = 0L;
            while (clock.Elapsed < duration)
            {
                answered += await fanout.Fanout(20_000, 64, 256);
            }

            Console.WriteLine($"{"in-silo grain call",-34} {answered / clock.Elapsed.TotalSeconds,10:N0} /s   (one grain, 64 calls in flight, 256 targets on both silos)");

            foreach (var writers in new[] { 64, 256 })
            {
                var adonet = Enumerable.Range(0, writers).Select(i => client.GetGrain<IProbeGrain>($"write{writers}/{i}")).ToArray();
                Report("state write, Orleans ADO.NET", await ClosedLoopAsync(writers, duration, w => adonet[w].Increment()),
                    $"{writers} grains writing, one commit each");
                var grouped = Enumerable.Range(0, writers).Select(i => client.GetGrain<IGroupCommitProbeGrain>($"write{writers}/{i}")).ToArray();
                Report("state write, FinCore group commit", await ClosedLoopAsync(writers, duration, w => grouped[w].Increment()),
                    $"{writers} grains writing, each with one outbox row");
            }

            await host.StopAsync();
        }
        finally
        {
            foreach (var silo in silos)
            {
                silo.Kill();
                await silo.WaitForExitAsync();
            }

            File.Delete(cert);
        }
    }

    private static async Task<Process> StartSiloAsync(string postgres, string clusterId, string cert)
    {
        var http = FreePort.Next();
        var psi = new ProcessStartInfo("dotnet", Path.Combine(BenchEnvironment.Root, "Silo", "bin", "Release", "net10.0", "FinCore.Silo.dll"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["FINCORE_POSTGRES"] = postgres;
        psi.Environment["FINCORE_CLUSTER_ID"] = clusterId;
        psi.Environment["FINCORE_CLUSTER_CERT"] = cert;
        psi.Environment["FINCORE_MASTER_KEY"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        psi.Environment["FINCORE_SILO_PORT"] = FreePort.Next().ToString();
        psi.Environment["FINCORE_GATEWAY_PORT"] = FreePort.Next().ToString();
        psi.Environment["FINCORE_HTTP_PORT"] = http.ToString();
        psi.Environment["FINCORE_GRAIN_ASSEMBLIES"] = Path.Combine(AppContext.BaseDirectory, "FinCore.TestGrains.dll");
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await probe.GetAsync($"http://127.0.0.1:{http}/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException("an Orleans silo did not become ready within 60 s");
    }

    private static void Report(string what, (double Rate, double P50, double P99) r, string how) =>
        Console.WriteLine($"{what,-34} {r.Rate,10:N0} /s   p50 {r.P50:0.00} ms  p99 {r.P99:0.00} ms   ({how})");

    /// <summary>Each worker calls in a loop for the duration (after a 1 s warm-up); the rate and the latency of every call.</summary>
    private static async Task<(double Rate, double P50, double P99)> ClosedLoopAsync<T>(int workers, TimeSpan duration, Func<int, Task<T>> call)
    {
        await Run(TimeSpan.FromSeconds(1));
        return await Run(duration);

        async Task<(double, double, double)> Run(TimeSpan length)
        {
            var latencies = new List<double>[workers];
            var stop = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
            {
                var mine = latencies[w] = new List<double>(4096);
                while (stop.Elapsed < length)
                {
                    var start = Stopwatch.GetTimestamp();
                    await call(w);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            })));
            var all = latencies.SelectMany(l => l).Order().ToArray();
            return (all.Length / stop.Elapsed.TotalSeconds, all[all.Length / 2], all[(int)(all.Length * 0.99)]);
        }
    }
}
