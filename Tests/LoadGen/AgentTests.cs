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

    [Fact]
    public async Task Stress_with_agents_judges_each_step_on_the_merged_figures()
    {
        // Two agents with 4 connections each against a server that takes 20 ms: about 400 requests/s at most, so
        // the steps above it queue (a 4 s step at 600/s leaves ~800 waiting, ~2 s) and fail p99 < 1 s; a hiccup of
        // the shared machine (half a second) does not.
        await using var server = await LoadTestServer.StartAsync(delay: TimeSpan.FromMilliseconds(20));
        using var run = await LoadGenProcess.RunAsync("stress", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--start-rate", "100", "--step", "100", "--step-duration", "4s", "--max-rate", "800", "--connections", "4",
            "--threshold", "p99<1s", "--warmup", "2s", "--agents", "2", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var breaking = run.Report.GetProperty("breaking_point");
        var highest = breaking.GetProperty("highest_passing_rate").GetDouble();
        var broke = breaking.GetProperty("broken_at_rate").GetDouble();
        Assert.True(highest is >= 200 and <= 500, run.Stderr);
        Assert.True(broke == highest + 100, run.Stderr);
        Assert.Contains("p99<1s", breaking.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, run.Report.GetProperty("distributed").GetProperty("agents").GetArrayLength());
    }

    [Fact]
    public async Task An_until_condition_is_judged_on_the_merged_seconds_and_ends_every_agent()
    {
        // The same ~400/s server; a ramp to 1,500/s over 20 s breaks p99 well before its end.
        await using var server = await LoadTestServer.StartAsync(delay: TimeSpan.FromMilliseconds(20));
        var plan = Path.Combine(Path.GetTempPath(), "fincore-plan-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        File.WriteAllText(plan, """{ "phases": [ { "name": "climb", "ramp": { "from": 100, "to": 1500 }, "duration": "20s", "until": "p99>300ms" } ] }""");
        try
        {
            using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
                "--plan", plan, "--connections", "4", "--agents", "2", "--quiet");
            Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
            var breaking = run.Report.GetProperty("breaking_point");
            Assert.Contains("p99>300ms", breaking.GetProperty("reason").GetString(), StringComparison.Ordinal);
            var phase = run.Report.GetProperty("phases")[0];
            Assert.True(phase.GetProperty("end_s").GetDouble() < 19, "the ramp ended at its breaking point, before its planned end");
            Assert.Contains("p99>300ms", phase.GetProperty("ended_by").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(plan);
        }
    }

    [Fact]
    public async Task Abort_on_fail_and_completion_tracking_judge_the_merged_figures()
    {
        await using var server = await LoadTestServer.StartAsync();
        using var aborted = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "200", "--duration", "120s", "--threshold", "p50<1us", "--abort-on-fail", "--abort-grace", "2s", "--agents", "2", "--quiet");
        Assert.Equal(1, aborted.ExitCode);
        Assert.Contains("p50<1us", aborted.Report.GetProperty("aborted").GetString(), StringComparison.Ordinal);
        Assert.True(aborted.Report.GetProperty("totals").GetProperty("scheduled").GetInt64() < 6_000);

        using var tracked = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--api-key", "fc_sk_test", "--mix", "create=80,get=20",
            "--rate", "300", "--duration", "3s", "--track-completion", "--poll-interval", "200ms", "--threshold", "completion_p99<1s", "--agents", "2", "--quiet");
        Assert.True(tracked.ExitCode == 0, tracked.Stderr + tracked.Stdout);
        var completion = tracked.Report.GetProperty("completion");
        Assert.True(completion.GetProperty("accepted").GetInt64() > 600);
        Assert.Equal(completion.GetProperty("accepted").GetInt64(), completion.GetProperty("terminal").GetInt64());
        Assert.Equal(250, completion.GetProperty("latency").GetProperty("p99").GetDouble(), 1);
        Assert.True(tracked.Report.GetProperty("thresholds")[0].GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task Agents_named_by_dns_are_every_address_the_name_has()
    {
        await using var server = await LoadTestServer.StartAsync();
        await using var agent = await LoadGenAgent.StartAsync(Token);
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "200", "--duration", "2s", "--agents", $"dns:localhost:{agent.Url.Port}", "--agent-token", Token, "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var agents = run.Report.GetProperty("distributed").GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("agent").GetString()).ToList();
        Assert.Equal([agent.Address], agents);
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
