using System.Text.Json;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.LoadGen;

/// <summary><c>loadgen compare</c> on real runs: a slowed server is a regression, a run against itself is not.</summary>
[Collection(LoadGenCollection.Name)]
public sealed class CompareTests
{
    private static readonly string[] Ping = ["--mix", "ping=1", "--ping-path", "/ping", "--rate", "200", "--duration", "3s", "--warmup", "1s", "--connections", "16", "--quiet"];

    [Fact]
    public async Task A_run_against_a_slowed_server_fails_max_regression_and_a_run_against_itself_passes()
    {
        // The slowed server first: whatever a cold test process costs lands on the slow run, not on the base.
        LoadGenProcess.Result fast, slow;
        await using (var slowed = await LoadTestServer.StartAsync(delay: TimeSpan.FromMilliseconds(20)))
        {
            slow = await LoadGenProcess.RunAsync(["run", "--target", slowed.Url, .. Ping]);
        }

        await using (var server = await LoadTestServer.StartAsync())
        {
            fast = await LoadGenProcess.RunAsync(["run", "--target", server.Url, .. Ping]);
        }

        using (fast)
        using (slow)
        {
            Assert.True(fast.ExitCode == 0, fast.Stderr + fast.Stdout);
            Assert.True(slow.ExitCode == 0, slow.Stderr + slow.Stdout);

            // Directories or report files: either names a run.
            using var regressed = await LoadGenProcess.RunAsync("compare", fast.OutDir, Path.Combine(slow.OutDir, "report.json"), "--max-regression", "10%", "--out", slow.OutDir);
            Assert.True(regressed.ExitCode == 1, regressed.Stderr + regressed.Stdout);
            Assert.Contains("REGRESSED", regressed.Stdout, StringComparison.Ordinal);
            var compare = JsonDocument.Parse(File.ReadAllText(Path.Combine(slow.OutDir, "compare.json"))).RootElement;
            Assert.False(compare.GetProperty("passed").GetBoolean());
            var names = compare.GetProperty("regressed").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Contains("p50", names);
            var p50 = compare.GetProperty("figures").EnumerateArray().Single(f => f.GetProperty("figure").GetString() == "p50");
            Assert.True(p50.GetProperty("new").GetDouble() >= 20, "the slowed server's p50 includes its 20 ms");
            Assert.True(File.ReadAllText(Path.Combine(slow.OutDir, "compare.txt")).Contains("FAILED", StringComparison.Ordinal));

            // A limit on one figure judges only that figure; errors stayed at zero.
            using var errorsOnly = await LoadGenProcess.RunAsync("compare", fast.OutDir, slow.OutDir, "--max-regression", "errors=0.5%", "--out", slow.OutDir);
            Assert.True(errorsOnly.ExitCode == 0, errorsOnly.Stderr + errorsOnly.Stdout);

            using var same = await LoadGenProcess.RunAsync("compare", fast.OutDir, fast.OutDir, "--max-regression", "10%", "--out", fast.OutDir);
            Assert.True(same.ExitCode == 0, same.Stderr + same.Stdout);
            Assert.Contains("PASSED", same.Stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("compare", "/nonexistent/base", "/nonexistent/new")]
    [InlineData("compare", "/", "/", "--max-regression", "ten")]
    public async Task Bad_input_exits_2(params string[] args)
    {
        using var run = await LoadGenProcess.RunAsync(args);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("loadgen: ", run.Stderr, StringComparison.Ordinal);
    }
}
