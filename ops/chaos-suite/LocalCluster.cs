using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace FinCore.Chaos;

/// <summary>
/// The cluster the scenarios break: a private PostgreSQL (ops/pg), the PSP sandbox, N silos and a gateway, started
/// from the built binaries as ops/up does, with handles to kill, restart and stop each part.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly string dir;
    private readonly List<Process> silos = [];
    private readonly Dictionary<string, string> common;
    private readonly int gatewayPort;
    private readonly int pgPort;
    private Process? gateway;
    private Process? psp;
    private int siloCount;

    private LocalCluster(string dir, int pgPort, string postgres, string certificate)
    {
        this.dir = dir;
        this.pgPort = pgPort;
        Postgres = postgres;
        gatewayPort = FreePort.Next();
        PspPort = FreePort.Next();
        AdminToken = "fc_admin_" + Token();
        common = new Dictionary<string, string>
        {
            ["FINCORE_POSTGRES"] = postgres,
            ["FINCORE_CLUSTER_ID"] = "chaos",
            ["FINCORE_CLUSTER_CERT"] = certificate,
            ["FINCORE_MASTER_KEY"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["FINCORE_PSP_SECRET"] = Token(),
            ["FINCORE_PSP_URL"] = $"http://127.0.0.1:{PspPort}",
            ["FINCORE_ADMIN_TOKEN"] = AdminToken,
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        };
    }

    public string Postgres { get; }

    public string AdminToken { get; }

    public int PspPort { get; }

    public string GatewayUrl => $"http://127.0.0.1:{gatewayPort}";

    public string PspUrl => $"http://127.0.0.1:{PspPort}";

    public IReadOnlyList<Process> Silos => silos;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(15) };

    public static async Task<LocalCluster> StartAsync(string dir, int silos, Action<string> log)
    {
        Directory.CreateDirectory(Path.Combine(dir, "logs"));
        var pgPort = FreePort.Next();
        log($"postgres on port {pgPort}");
        var postgres = await Processes.RunAsync(Path.Combine(Processes.RepoRoot, "ops", "pg"), "start", Path.Combine(dir, "pg"), pgPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The cluster certificate, made as ops/up makes it: silos and gateway present it and accept only it.
        var certificate = Path.Combine(dir, "cluster.pfx");
        await Processes.RunAsync("dotnet", Processes.Built("Silo", "FinCore.Silo.dll"), "--make-cluster-cert", certificate);
        var cluster = new LocalCluster(dir, pgPort, postgres, certificate);
        cluster.psp = Processes.Start(Processes.Built("PspSandbox", "FinCore.PspSandbox.dll"), new Dictionary<string, string>(cluster.common)
        {
            ["FINCORE_HTTP_PORT"] = cluster.PspPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FINCORE_PSP_CALLBACK_URL"] = cluster.GatewayUrl + "/v1/psp/webhook",
        }, Path.Combine(dir, "logs", "psp.log"));
        await cluster.WaitAsync(cluster.PspUrl + "/health/live", "the PSP sandbox");
        for (var i = 0; i < silos; i++)
        {
            await cluster.StartSiloAsync(wait: i == 0);
        }

        await cluster.StartGatewayAsync();
        log($"cluster up: {silos} silos, gateway {cluster.GatewayUrl}, PSP sandbox {cluster.PspUrl}");
        return cluster;
    }

    public async Task StartSiloAsync(bool wait = true)
    {
        var http = FreePort.Next();
        var n = Interlocked.Increment(ref siloCount);
        var p = Processes.Start(Processes.Built("Silo", "FinCore.Silo.dll"), new Dictionary<string, string>(common)
        {
            ["FINCORE_SILO_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FINCORE_GATEWAY_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FINCORE_HTTP_PORT"] = http.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FINCORE_SILO_NAME"] = $"silo-{n}",
        }, Path.Combine(dir, "logs", $"silo-{n}.log"));
        silos.Add(p);
        if (wait)
        {
            await WaitAsync($"http://127.0.0.1:{http}/health/ready", $"silo {n}", p);
        }
    }

    /// <summary>kill -9 of a random running silo; returns it.</summary>
    public Process KillRandomSilo()
    {
        var running = silos.Where(s => !s.HasExited).ToList();
        var victim = running[Random.Shared.Next(running.Count)];
        Processes.Kill(victim);
        return victim;
    }

    public async Task StartGatewayAsync()
    {
        gateway = Processes.Start(Processes.Built("Gateway", "FinCore.Gateway.dll"), new Dictionary<string, string>(common)
        {
            ["FINCORE_HTTP_PORT"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, Path.Combine(dir, "logs", "gateway.log"));
        await WaitAsync(GatewayUrl + "/health/ready", "the gateway", gateway);
    }

    /// <summary>SIGTERM the gateway and start it again (as a deployment would).</summary>
    public async Task RestartGatewayAsync()
    {
        await Processes.TerminateAsync(gateway!, TimeSpan.FromSeconds(20));
        await StartGatewayAsync();
    }

    public Task StopDatabaseAsync() => Processes.RunAsync(Path.Combine(Processes.RepoRoot, "ops", "pg"), "stop", Path.Combine(dir, "pg"), "fast");

    public Task StartDatabaseAsync() => Processes.RunAsync(Path.Combine(Processes.RepoRoot, "ops", "pg"), "start", Path.Combine(dir, "pg"), pgPort.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task SetPspFaultsAsync(string json)
    {
        using var response = await Http.PutAsync(PspUrl + "/admin/faults", new StringContent(json, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        var all = silos.Append(gateway).Append(psp).OfType<Process>().Where(p => !p.HasExited).ToList();
        await Task.WhenAll(all.Select(p => Processes.TerminateAsync(p, TimeSpan.FromSeconds(15))));
        try
        {
            await Processes.RunAsync(Path.Combine(Processes.RepoRoot, "ops", "pg"), "stop", Path.Combine(dir, "pg"), "fast");
        }
        catch (InvalidOperationException)
        {
        }

        Http.Dispose();
    }

    private async Task WaitAsync(string url, string what, Process? process = null)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException($"{what} exited during start; see {dir}/logs");
            }

            try
            {
                using var r = await Http.GetAsync(url);
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{what} did not become ready; see {dir}/logs");
    }

    private static string Token() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
