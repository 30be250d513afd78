using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.LoadGen;

/// <summary><c>--otlp</c>: the run's metrics arrive at an OTLP/HTTP collector while it runs, from one generator or a coordinator.</summary>
[Collection(LoadGenCollection.Name)]
public sealed class OtlpTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_runs_metrics_are_pushed_over_otlp(bool agents)
    {
        await using var server = await LoadTestServer.StartAsync();
        await using var collector = await OtlpReceiver.StartAsync();
        string[] args = ["run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping", "--rate", "200", "--duration", "4s", "--otlp", collector.Url, "--quiet"];
        using var run = await LoadGenProcess.RunAsync(agents ? [.. args, "--agents", "2"] : args);
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        // Exported once a second while running (and flushed at the end), as protobuf.
        Assert.True(collector.Exports.Count >= 2, $"{collector.Exports.Count} exports");
        Assert.All(collector.Exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
        var text = collector.Text;
        foreach (var name in new[] { "loadgen.latency", "loadgen.requests", "loadgen.errors", "loadgen.dropped", "loadgen.target_rate", "fincore-loadgen", server.Url })
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }
    }
}
