using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.LoadGen;

/// <summary>The LoadGen CLI run as a separate process against a test server of its own.</summary>
[Collection(LoadGenCollection.Name)]
public sealed class LoadGenRunTests
{
    [Fact]
    public async Task A_one_second_stall_shows_in_latency_but_not_in_service_time()
    {
        await using var server = await LoadTestServer.StartAsync();

        // 1,000 requests/s for 10 s; about four seconds in, the server stops answering for one second.
        server.StallOnce(afterRequests: 4_000, TimeSpan.FromSeconds(1));
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "1000", "--duration", "10s", "--connections", "16", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        var latency = run.Report.GetProperty("latency");
        var service = run.Report.GetProperty("service_time");
        var p99 = latency.GetProperty("p99").GetDouble();
        var serviceP99 = service.GetProperty("p99").GetDouble();

        // About 1,000 arrivals fall in the stall and wait up to a second: measured from their intended send time
        // that is ~10% of the run, so p99 is most of the stall (wrk2's behaviour). Only the 16 requests already
        // on the wire waited inside the server, so service time's p99 stays small.
        Assert.True(p99 >= 700, $"latency p99 {p99} ms should reflect the 1 s stall");
        Assert.True(latency.GetProperty("max").GetDouble() >= 900, "max latency is about the stall");
        Assert.True(serviceP99 < 100, $"service time p99 {serviceP99} ms should not reflect the stall");
        Assert.Equal(0, run.Report.GetProperty("totals").GetProperty("dropped").GetInt64());
    }

    [Fact]
    public async Task At_2000_requests_per_second_for_10_seconds_sent_is_within_one_percent_of_scheduled()
    {
        await using var server = await LoadTestServer.StartAsync();
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "2000", "--duration", "10s", "--connections", "32", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        var totals = run.Report.GetProperty("totals");
        var scheduled = totals.GetProperty("scheduled").GetInt64();
        var sent = totals.GetProperty("sent").GetInt64();
        Assert.InRange(scheduled, 19_800, 20_200);
        Assert.True(Math.Abs(sent - scheduled) <= scheduled * 0.01, $"sent {sent} of {scheduled} scheduled");
        Assert.Equal(sent, server.Requests);

        // One row per second, and the rows add up to the totals.
        var rows = run.Report.GetProperty("timeline").EnumerateArray().ToList();
        Assert.InRange(rows.Count, 10, 13);
        Assert.Equal(sent, rows.Sum(r => r.GetProperty("sent").GetInt64()));
        var csv = File.ReadAllLines(Path.Combine(run.OutDir, "timeline.csv"));
        Assert.StartsWith("t_s,phase,", csv[0], StringComparison.Ordinal);
        Assert.Equal(rows.Count + 1, csv.Length);
    }

    [Fact]
    public async Task A_failing_threshold_exits_non_zero_and_a_holding_one_exits_zero()
    {
        await using var server = await LoadTestServer.StartAsync();
        string[] common = ["run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping", "--rate", "200", "--duration", "2s", "--quiet"];

        using var failing = await LoadGenProcess.RunAsync([.. common, "--threshold", "p50<1us", "--threshold", "errors<0.1%"]);
        Assert.Equal(1, failing.ExitCode);
        var results = failing.Report.GetProperty("thresholds").EnumerateArray().ToList();
        Assert.False(results[0].GetProperty("passed").GetBoolean());
        Assert.True(results[1].GetProperty("passed").GetBoolean());
        Assert.Contains("FAILED", failing.Stdout, StringComparison.Ordinal);

        using var holding = await LoadGenProcess.RunAsync([.. common, "--threshold", "p99<5s", "--threshold", "errors<0.1%", "--threshold", "dropped<0.1%"]);
        Assert.True(holding.ExitCode == 0, holding.Stderr + holding.Stdout);
        Assert.True(holding.Report.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task Abort_on_fail_stops_a_failing_run_early()
    {
        await using var server = await LoadTestServer.StartAsync();
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "200", "--duration", "120s", "--threshold", "p50<1us", "--abort-on-fail", "--abort-grace", "2s", "--quiet");
        Assert.Equal(1, run.ExitCode);
        var aborted = run.Report.GetProperty("aborted").GetString();
        Assert.Contains("p50<1us", aborted, StringComparison.Ordinal);

        // Planned: 24,000 arrivals over two minutes; it stopped a few seconds in.
        Assert.True(run.Report.GetProperty("totals").GetProperty("scheduled").GetInt64() < 6_000);
        Assert.True(run.Report.GetProperty("duration_s").GetDouble() < 30);
    }

    [Fact]
    public async Task The_charge_mix_reads_back_charges_it_created_and_tracks_completion()
    {
        await using var server = await LoadTestServer.StartAsync();
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--api-key", "fc_sk_test", "--mix", "create=80,get=20",
            "--rate", "300", "--duration", "3s", "--track-completion", "--poll-interval", "200ms", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        var codes = run.Report.GetProperty("status_codes");
        Assert.True(codes.GetProperty("202").GetInt64() > 600);
        Assert.True(codes.GetProperty("200").GetInt64() > 100);
        Assert.True(server.ChargesRead > 100, "get reads the ids create returned");
        var completion = run.Report.GetProperty("completion");
        Assert.Equal(completion.GetProperty("accepted").GetInt64(), completion.GetProperty("terminal").GetInt64());
        Assert.Equal(0, completion.GetProperty("incomplete").GetInt64());

        // The fake server says every charge took 250 ms from created_at to updated_at.
        Assert.Equal(250, completion.GetProperty("latency").GetProperty("p99").GetDouble(), 1);
    }

    [Fact]
    public async Task Completion_tracking_lists_charges_by_the_hundred_and_reads_by_id_only_those_still_open()
    {
        // Every tenth charge stays processing for 2 s; the others are succeeded by the time the sweep lists them.
        await using var server = await LoadTestServer.StartAsync(slowEvery: 10);
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--api-key", "fc_sk_test", "--mix", "create=1",
            "--rate", "400", "--duration", "5s", "--track-completion", "--poll-interval", "500ms", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        var completion = run.Report.GetProperty("completion");
        var accepted = completion.GetProperty("accepted").GetInt64();
        Assert.True(accepted > 1_500, $"{accepted} acknowledged");
        Assert.Equal(accepted, completion.GetProperty("terminal").GetInt64());
        Assert.Equal(0, completion.GetProperty("incomplete").GetInt64());
        Assert.Equal(250, completion.GetProperty("latency").GetProperty("p50").GetDouble(), 1);
        Assert.Equal(2000, completion.GetProperty("latency").GetProperty("max").GetDouble(), 1);

        // A list page covers up to a hundred charges: tracking asked far less than once per charge. What it read by
        // id were the slow tenth (each a few times, until done), not the charges the sweep found finished.
        var requests = completion.GetProperty("requests");
        Assert.Equal(server.ListRequests, requests.GetProperty("list").GetInt64());
        Assert.Equal(server.ReadsById, requests.GetProperty("get").GetInt64());
        Assert.True(server.ListRequests < accepted / 20, $"{server.ListRequests} list requests for {accepted} charges");
        var slow = accepted / 10;
        Assert.InRange(server.ReadsById, slow * 0.9, slow * 5);
    }

    [Fact]
    public async Task Http2_multiplexes_requests_over_the_given_connections()
    {
        await using var server = await LoadTestServer.StartAsync(http2Only: true);
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "500", "--duration", "2s", "--http2", "--connections", "2", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.Equal("2", run.Report.GetProperty("http_version").GetString());
        Assert.Equal(["HTTP/2"], server.Protocols.Keys);
        Assert.Equal(2, server.Connections.Count);
        Assert.Equal(0, run.Report.GetProperty("totals").GetProperty("errors").GetInt64());
    }

    [Theory]
    [InlineData("run", "--target", "http://127.0.0.1:1", "--rate", "10", "--duration", "1s")]
    [InlineData("run", "--target", "http://127.0.0.1:1", "--api-key", "k", "--rate", "10")]
    [InlineData("run", "--target", "http://127.0.0.1:1", "--api-key", "k", "--rate", "10", "--duration", "1s", "--threshold", "p99<fast")]
    [InlineData("run", "--target", "not a url", "--api-key", "k", "--profile", "seed")]
    [InlineData("run", "--target", "http://127.0.0.1:1", "--api-key", "k", "--profile", "nightly")]
    public async Task Bad_arguments_exit_2_with_a_message(params string[] args)
    {
        using var run = await LoadGenProcess.RunAsync(args);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("loadgen: ", run.Stderr, StringComparison.Ordinal);
    }
}

[CollectionDefinition(Name)]
public sealed class LoadGenCollection
{
    public const string Name = "loadgen";
}
