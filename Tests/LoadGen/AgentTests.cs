using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.LoadGen;

/// <summary>Agents under a coordinator, all real processes on loopback, against LoadGen's test server.</summary>
[Collection(LoadGenCollection.Name)]
public sealed class AgentTests
{
    private const string Token = "test-token-0123456789";

    [Fact]
    public async Task Two_agents_at_2000_per_second_send_the_whole_plan_and_merge_to_the_exact_percentiles()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fincore-agents-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using var server = await LoadTestServer.StartAsync();
            var dumps = new[] { Path.Combine(dir, "a.bin"), Path.Combine(dir, "b.bin") };
            await using var a = await LoadGenAgent.StartAsync(Token, dumps[0]);
            await using var b = await LoadGenAgent.StartAsync(Token, dumps[1]);
            using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
                "--rate", "2000", "--duration", "30s", "--connections", "16", "--agents", $"{a.Address},{b.Address}", "--agent-token", Token, "--quiet");
            Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

            // Every arrival of the plan was scheduled by exactly one agent and sent.
            var report = run.Report;
            var totals = report.GetProperty("totals");
            Assert.Equal(60_000, totals.GetProperty("scheduled").GetInt64());
            Assert.Equal(totals.GetProperty("scheduled").GetInt64(), totals.GetProperty("sent").GetInt64());
            Assert.Equal(60_000, server.Requests);
            var agents = report.GetProperty("distributed").GetProperty("agents").EnumerateArray().ToList();
            Assert.Equal(2, agents.Count);
            Assert.All(agents, x => Assert.Equal(30_000, x.GetProperty("sent").GetInt64()));
            Assert.Empty(report.GetProperty("distributed").GetProperty("lost").EnumerateArray());

            // The merged histogram against the raw latencies both agents logged: within HdrHistogram's precision.
            var raw = dumps.SelectMany(Read).ToArray();
            Array.Sort(raw);
            Assert.Equal(60_000, raw.Length);
            var latency = report.GetProperty("latency");
            Assert.Equal(raw.Length, latency.GetProperty("count").GetInt64());
            foreach (var (field, p) in new[] { ("p50", 50.0), ("p99", 99.0), ("p999", 99.9) })
            {
                var exact = HistogramTests.Exact(raw, p);
                var merged = latency.GetProperty(field).GetDouble() * 1000;
                Assert.True(Math.Abs(merged - exact) <= (exact * 0.001) + 1, $"{field}: exact {exact} µs, merged {merged} µs");
            }

            Assert.Equal(raw[^1] / 1000.0, latency.GetProperty("max").GetDouble(), 3);

            // The single-node report's shape, plus the agents' table.
            using var single = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
                "--rate", "100", "--duration", "1s", "--quiet");
            Assert.True(single.ExitCode == 0, single.Stderr + single.Stdout);
            Assert.Equal([.. Keys(single.Report), "distributed"], Keys(report));
            Assert.Equal(Keys(single.Report.GetProperty("timeline")[0]), Keys(report.GetProperty("timeline")[0]));
            var rows = report.GetProperty("timeline").EnumerateArray().ToList();
            Assert.InRange(rows.Count, 30, 34);
            Assert.Equal(60_000, rows.Sum(r => r.GetProperty("sent").GetInt64()));
            Assert.Equal(rows.Count + 1, File.ReadAllLines(Path.Combine(run.OutDir, "timeline.csv")).Length);
            Assert.True(File.Exists(Path.Combine(run.OutDir, "report.html")));
        }
        finally
        {
            TestDirs.Remove(dir);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_agent_killed_mid_run_is_named_and_fails_the_run_unless_tolerated(bool tolerate)
    {
        await using var server = await LoadTestServer.StartAsync();
        await using var a = await LoadGenAgent.StartAsync(Token);
        await using var b = await LoadGenAgent.StartAsync(Token);
        string[] args = ["run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping", "--rate", "400", "--duration", "10s",
            "--agents", $"{a.Address},{b.Address}", "--agent-token", Token, "--agent-timeout", "2s", "--quiet"];
        var coordinator = LoadGenProcess.RunAsync(tolerate ? [.. args, "--tolerate-agent-loss"] : args);

        using var http = new HttpClient { BaseAddress = b.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        await Poll.UntilAsync(async () =>
        {
            var status = JsonDocument.Parse(await http.GetStringAsync("/v1/agent")).RootElement;
            return status.GetProperty("state").GetString() == "running" && status.GetProperty("seconds").GetInt32() >= 3;
        }, TimeSpan.FromSeconds(60), "agent b has finished three seconds");
        b.Kill();

        using var run = await coordinator;
        Assert.True(run.ExitCode == (tolerate ? 0 : 1), run.Stderr + run.Stdout);
        var distributed = run.Report.GetProperty("distributed");
        Assert.Equal([b.Address], distributed.GetProperty("lost").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(tolerate, distributed.GetProperty("loss_tolerated").GetBoolean());
        Assert.Equal(tolerate, run.Report.GetProperty("passed").GetBoolean());
        var lostRow = distributed.GetProperty("agents").EnumerateArray().Single(x => x.GetProperty("agent").GetString() == b.Address);
        Assert.Equal("lost", lostRow.GetProperty("state").GetString());
        Assert.True(lostRow.GetProperty("sent").GetInt64() > 0, "what the lost agent sent before it died is in the report");
        Assert.Contains(b.Address, run.Stdout, StringComparison.Ordinal);

        // The surviving agent sent its whole share.
        var kept = distributed.GetProperty("agents").EnumerateArray().Single(x => x.GetProperty("agent").GetString() == a.Address);
        Assert.Equal(2_000, kept.GetProperty("sent").GetInt64());
    }

    [Fact]
    public async Task An_agent_refuses_requests_without_its_token()
    {
        await using var agent = await LoadGenAgent.StartAsync(Token);
        using var http = new HttpClient { BaseAddress = agent.Url };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/agent")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-000000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/agent")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/v1/agent/prepare", new StringContent("{}"))).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/agent")).StatusCode);

        // A coordinator with the wrong token is refused before anything is sent: bad input, exit 2.
        using var run = await LoadGenProcess.RunAsync("run", "--target", "http://127.0.0.1:1", "--mix", "ping=1", "--rate", "10", "--duration", "1s",
            "--agents", agent.Address, "--agent-token", "wrong-token-000000", "--quiet");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("401", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agents_n_starts_local_agent_processes()
    {
        await using var server = await LoadTestServer.StartAsync();
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "300", "--duration", "3s", "--agents", "2", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.Equal(2, run.Report.GetProperty("distributed").GetProperty("agents").GetArrayLength());
        Assert.Equal(900, run.Report.GetProperty("totals").GetProperty("sent").GetInt64());
        Assert.Equal(900, server.Requests);
    }

    private static List<string> Keys(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToList();

    private static IEnumerable<long> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        for (var i = 0; i + 8 <= bytes.Length; i += 8)
        {
            yield return BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i, 8));
        }
    }
}
