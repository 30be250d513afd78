using System.Diagnostics;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.LoadGen;

/// <summary>Progress while running: a live table in a terminal (a pseudo-terminal from util-linux's script), plain lines otherwise.</summary>
[Collection(LoadGenCollection.Name)]
public sealed class LiveViewTests
{
    [Fact]
    public async Task In_a_terminal_progress_is_a_live_table_and_otherwise_plain_lines()
    {
        await using var server = await LoadTestServer.StartAsync();
        string[] args = ["run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping", "--rate", "200", "--duration", "3s"];

        using var plain = await LoadGenProcess.RunAsync(args);
        Assert.True(plain.ExitCode == 0, plain.Stderr + plain.Stdout);
        Assert.Contains("target 200/s |", plain.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("run so far", plain.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", plain.Stderr, StringComparison.Ordinal);

        var outDir = Path.Combine(Path.GetTempPath(), "fincore-loadgen-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var command = string.Join(' ', ["dotnet", Repo.Built("LoadGen", "FinCore.LoadGen.dll"), .. args, "--agents", "2", "--out", outDir]);
            var psi = new ProcessStartInfo("script", ["-qfec", command, "/dev/null"]) { RedirectStandardOutput = true, RedirectStandardInput = true };
            psi.Environment["TERM"] = "xterm-256color";
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await p.WaitForExitAsync(cts.Token);
            var terminal = await output;
            Assert.True(p.ExitCode == 0, terminal);
            Assert.Contains("run so far", terminal, StringComparison.Ordinal);
            Assert.Contains("latency p50", terminal, StringComparison.Ordinal);
            Assert.Contains("agents", terminal, StringComparison.Ordinal);
            Assert.DoesNotContain("target 200/s |", terminal, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(outDir, "report.json")));
        }
        finally
        {
            TestDirs.Remove(outDir);
        }
    }
}
