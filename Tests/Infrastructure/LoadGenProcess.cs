using System.Diagnostics;
using System.Text.Json;

namespace FinCore.Tests.Infrastructure;

/// <summary>Runs the LoadGen CLI as a user does (a separate process) and reads the report it wrote.</summary>
internal static class LoadGenProcess
{
    /// <summary>A finished run. Disposing it removes the report directory it was given (see <see cref="TestDirs"/>).</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr, string OutDir) : IDisposable
    {
        public JsonElement Report => JsonDocument.Parse(File.ReadAllText(Path.Combine(OutDir, "report.json"))).RootElement;

        public void Dispose() => TestDirs.Remove(OutDir);
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var outDir = Path.Combine(Path.GetTempPath(), "fincore-loadgen-" + Guid.NewGuid().ToString("N")[..8]);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Repo.Built("LoadGen", "FinCore.LoadGen.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (!args.Contains("--out"))
        {
            psi.ArgumentList.Add("--out");
            psi.ArgumentList.Add(outDir);
        }
        else
        {
            outDir = args[Array.IndexOf(args, "--out") + 1];
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr, outDir);
    }
}
