using System.Diagnostics;
using FinCore.Chaos;
using FinCore.Runtime.Hosting;
using FinCore.TestGrains;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FinCore.Benchmarks;

/// <summary>A private PostgreSQL (through ops/pg), silo processes and in-process silos or clients, for benchmarks.</summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly string _dir;
    private readonly List<Process> _silos = [];
    private readonly List<IAsyncDisposable> _disposables = [];

    private BenchEnvironment(string dir, string postgres)
    {
        _dir = dir;
        Postgres = postgres;
    }

    public string Postgres { get; }

    public string ClusterId { get; } = "bench-" + Guid.NewGuid().ToString("N")[..6];

    public string Secret { get; } = "bench-secret-" + Guid.NewGuid().ToString("N");

    public static string Root { get; } = FindRoot();

    public static async Task<BenchEnvironment> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"fincore-bench-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ED);
        var postgres = await RunAsync(Path.Combine(Root, "ops", "pg"), "start", Path.Combine(dir, "pg"), FreePort.Next().ToString());
        return new BenchEnvironment(dir, postgres);
    }

    /// <summary>Starts a silo process (the real FinCore.Silo) hosting the test grains; waits until it is ready.</summary>
    public async Task StartSiloProcessAsync()
    {
        var port = FreePort.Next();
        var http = FreePort.Next();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Root, "Silo", "bin", "Release", "net10.0", "FinCore.Silo.dll"));
        psi.Environment["FINCORE_POSTGRES"] = Postgres;
        psi.Environment["FINCORE_CLUSTER_ID"] = ClusterId;
        psi.Environment["FINCORE_CLUSTER_SECRET"] = Secret;
        psi.Environment["FINCORE_SILO_PORT"] = port.ToString();
        psi.Environment["FINCORE_HTTP_PORT"] = http.ToString();
        psi.Environment["FINCORE_GRAIN_ASSEMBLIES"] = typeof(EchoGrain).Assembly.Location;
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("silo: " + e.Data); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _silos.Add(p);
        using var client = new HttpClient();
        for (var i = 0; i < 600; i++)
        {
            try
            {
                if ((await client.GetAsync($"http://127.0.0.1:{http}/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("silo did not become ready");
    }

    /// <summary>An in-process silo (same runtime code as the silo program); its grain factory takes the local path.</summary>
    public async Task<SiloHost> StartInProcessSiloAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FINCORE_POSTGRES"] = Postgres,
            ["FINCORE_CLUSTER_ID"] = ClusterId + "-local",
            ["FINCORE_CLUSTER_SECRET"] = Secret,
            ["FINCORE_SILO_PORT"] = FreePort.Next().ToString(),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddFinCoreSilo(typeof(EchoGrain).Assembly);
        var app = builder.Build();
        await app.StartAsync();
        _disposables.Add(app);
        return app.Services.GetRequiredService<SiloHost>();
    }

    public async Task<ClusterClient> StartClientAsync()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FINCORE_POSTGRES"] = Postgres,
            ["FINCORE_CLUSTER_ID"] = ClusterId,
            ["FINCORE_CLUSTER_SECRET"] = Secret,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddFinCoreClusterClient(config);
        var sp = services.BuildServiceProvider();
        _disposables.Add(sp);
        var client = sp.GetRequiredService<ClusterClient>();
        await client.StartAsync(CancellationToken.None);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        foreach (var p in _silos)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }

        Npgsql.NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(Root, "ops", "pg"), "stop", Path.Combine(_dir, "pg"), "immediate");
        Directory.Delete(_dir, recursive: true);
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        var error = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return p.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"{file} failed: {error}");
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FinCore.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }
}
