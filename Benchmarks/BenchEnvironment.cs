using System.Diagnostics;
using FinCore.Chaos;

namespace FinCore.Benchmarks;

/// <summary>A private PostgreSQL (through ops/pg) for a benchmark run, removed with its data afterwards.</summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly string _dir;

    private BenchEnvironment(string dir, string postgres)
    {
        _dir = dir;
        Postgres = postgres;
    }

    public string Postgres { get; }

    public static string Root { get; } = FindRoot();

    public static async Task<BenchEnvironment> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"fincore-bench-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ED);
        var postgres = await RunAsync(Path.Combine(Root, "ops", "pg"), "start", Path.Combine(dir, "pg"), FreePort.Next().ToString());
        return new BenchEnvironment(dir, postgres);
    }

    public async ValueTask DisposeAsync()
    {
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
