using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace FinCore.Chaos;

/// <summary>One scenario end to end: LoadGen and the probes drive traffic, the faults run, the system settles, the checker counts.</summary>
internal static class ChaosRunner
{
    private static readonly string[] TransportFailures = ["timeout", "connect", "http_error", "io_error"];

    /// <summary>Runs <paramref name="scenario"/> at <paramref name="chargesPerSecond"/> charges created per second (LoadGen sends 75% creates; reads, transfers and refunds).</summary>
    public static async Task<CheckResult> RunAsync(LocalCluster cluster, Scenario scenario, double chargesPerSecond, string outDir, Action<string> log, CancellationToken ct)
    {
        chargesPerSecond = scenario.Rate ?? chargesPerSecond;
        Directory.CreateDirectory(outDir);
        await cluster.SetPspFaultsAsync(Scenarios.Healthy);
        var a = await CreateTenantAsync(cluster);
        var b = await CreateTenantAsync(cluster);
        log($"{scenario.Name}: {scenario.Description}; {chargesPerSecond:0} {(scenario.Mix is null ? "charges" : "requests")}/s for {scenario.Load.TotalSeconds:0} s");

        var accepted = Path.Combine(outDir, "accepted.csv");
        File.Delete(accepted);
        var loadgen = StartLoadGen(cluster, chargesPerSecond, scenario.Load, outDir, scenario.Mix, "--record-accepted", accepted);
        var started = Stopwatch.StartNew();
        while (!File.Exists(accepted) && !loadgen.HasExited && started.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100, ct);
        }

        using var stopProbes = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var probes = new Probes(cluster, a, b);
        var probing = probes.RunAsync(stopProbes.Token);
        await scenario.Faults(cluster, log, ct);
        var lastFaultEnded = DateTime.UtcNow;
        await loadgen.WaitForExitAsync(ct);
        await stopProbes.CancelAsync();
        await probing;
        var loadEnded = DateTime.UtcNow;

        var acknowledged = File.ReadAllLines(accepted).Select(l => l.Split(',')).Where(p => p.Length == 2).Select(p => (p[0], p[1])).ToList();
        lock (probes.Accepted)
        {
            acknowledged.AddRange(probes.Accepted);
        }

        var report = ReadReport(Path.Combine(outDir, "loadgen", "report.json"));
        var codes = report.StatusCodes;
        var deadline = new[] { lastFaultEnded.AddSeconds(60), loadEnded.AddSeconds(20) }.Max();
        log($"  load done: {acknowledged.Count} acknowledged; settling (until {(deadline - DateTime.UtcNow).TotalSeconds:0} s from now at most)");
        var settled = await InvariantChecker.SettleAsync(cluster, acknowledged, lastFaultEnded, deadline);

        var result = new CheckResult
        {
            Scenario = scenario.Name,
            Faults = scenario.Description,
            Rate = chargesPerSecond,
            RateOf = scenario.Mix is null ? "charges" : "requests",
            LoadSeconds = scenario.Load.TotalSeconds,
            Scheduled = report.Scheduled,
            Sent = report.Sent,
            Unexpected5xx = codes.Where(kv => kv.Key.StartsWith('5') && kv.Key != "503").Sum(kv => kv.Value) + probes.Unexpected5xx,
            Responses503 = codes.GetValueOrDefault("503"),
            TransportErrors = codes.Where(kv => TransportFailures.Contains(kv.Key)).Sum(kv => kv.Value),
            IdempotencyViolations = probes.IdempotencyViolations,
            IdempotencyChecks = probes.IdempotencyChecks,
            CrossTenantReads = probes.CrossTenantViolations,
            CrossTenantChecks = probes.CrossTenantChecks,
            SettledSecondsAfterLastFault = Math.Round(settled, 1),
            Notes = [.. probes.Notes, .. codes.Where(kv => kv.Key.StartsWith('5') && kv.Key != "503").Select(kv => $"LoadGen got {kv.Value} × {kv.Key}")],
        };
        var tenants = acknowledged.Select(x => x.Item1).Append(a.Id).Append(b.Id).Distinct();
        result = await InvariantChecker.CheckAsync(cluster, result, acknowledged, tenants);
        await File.WriteAllTextAsync(Path.Combine(outDir, "result.json"), JsonSerializer.Serialize(result, Json), ct);
        log($"  {(result.Passed ? "PASSED" : "FAILED")}: {Summary(result)}");
        return result;
    }

    /// <summary>Traffic without faults before the first scenario, so that the scenarios meet a cluster past its JIT
    /// warm-up, as a staging cluster is (a replacement silo still starts cold: that is part of the fault). Not checked.</summary>
    public static async Task WarmUpAsync(LocalCluster cluster, double chargesPerSecond, TimeSpan span, string outDir, Action<string> log, CancellationToken ct)
    {
        await cluster.SetPspFaultsAsync(Scenarios.Healthy);
        log($"warm-up: {chargesPerSecond:0} charges/s for {span.TotalSeconds:0} s, no faults");
        var loadgen = StartLoadGen(cluster, chargesPerSecond, span, outDir, mix: null);
        await loadgen.WaitForExitAsync(ct);
        var report = ReadReport(Path.Combine(outDir, "loadgen", "report.json"));
        log($"  warm-up done: {report.Sent} of {report.Scheduled} requests sent ({report.Throughput:0}/s)");
    }

    /// <summary>LoadGen at <paramref name="chargesPerSecond"/> creates a second (75% of its requests; 10% read, 10%
    /// transfers between 20 funded accounts per tenant and a merchant, 5% partial refunds of those accounts' funding
    /// charges) over 64 connections, requests dropped once 10 s behind schedule.</summary>
    private static Process StartLoadGen(LocalCluster cluster, double chargesPerSecond, TimeSpan load, string outDir, string? mix, params string[] extra)
    {
        var requestsPerSecond = mix is null ? chargesPerSecond / 0.75 : chargesPerSecond;
        string[] args =
        [
            "run", "--target", cluster.GatewayUrl, "--admin-token", cluster.AdminToken, "--tenants", "3",
            "--rate", requestsPerSecond.ToString("0.#", CultureInfo.InvariantCulture), "--duration", $"{load.TotalSeconds:0}s",
            "--mix", mix ?? "create=75,get=10,transfer=10,refund=5", "--accounts", "20", "--connections", "64", "--timeout", "10s", "--drop-after", "10s",
            "--out", Path.Combine(outDir, "loadgen"), "--quiet", .. extra,
        ];
        Directory.CreateDirectory(outDir);
        return Processes.Start(Processes.Built("LoadGen", "FinCore.LoadGen.dll"), new Dictionary<string, string>(), Path.Combine(outDir, "loadgen.log"), args);
    }

    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static string Summary(CheckResult r) =>
        $"sent {Sent(r)}, acknowledged {r.Acknowledged} (succeeded {r.Succeeded}, failed {r.Failed}, dead-lettered {r.DeadLettered}), stuck {r.Stuck}, lost {r.Lost}, " +
        $"double-captured {r.DoubleCaptured}, ledger mismatches {r.LedgerMismatches}, backwards {r.BackwardsTransitions}, idempotency violations {r.IdempotencyViolations}/{r.IdempotencyChecks}, " +
        $"cross-tenant reads {r.CrossTenantReads}/{r.CrossTenantChecks}, audit breaks {r.AuditChainBreaks}, transfers {r.Transfers}, refunds {r.Refunds}, money violations {r.MoneyViolations}, " +
        $"5xx other than 503 {r.Unexpected5xx}, 503 {r.Responses503}, " +
        $"no response {r.TransportErrors}, settled {r.SettledSecondsAfterLastFault} s after the last fault";

    /// <summary>The results as a Markdown table (for the README).</summary>
    public static string Table(IEnumerable<CheckResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| scenario | faults | load | LoadGen sent (dropped) | acknowledged | succeeded / failed / dead-lettered | stuck | lost | double-captured | ledger mismatches | backwards | idempotency | cross-tenant | audit | transfers / refunds (money violations) | 5xx ≠ 503 | 503 | settled after last fault |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Faults} | {r.Rate:0} {r.RateOf}/s, {r.LoadSeconds:0} s | {Sent(r)} | {r.Acknowledged} | {r.Succeeded} / {r.Failed} / {r.DeadLettered} | {r.Stuck} | {r.Lost} | {r.DoubleCaptured} | {r.LedgerMismatches} | {r.BackwardsTransitions} | {r.IdempotencyViolations} of {r.IdempotencyChecks} | {r.CrossTenantReads} of {r.CrossTenantChecks} | {(r.AuditChainBreaks == 0 ? "verifies" : r.AuditChainBreaks + " breaks")} | {r.Transfers} / {r.Refunds} ({r.MoneyViolations}) | {r.Unexpected5xx} | {r.Responses503} | {r.SettledSecondsAfterLastFault} s |");
        }

        return sb.ToString();
    }

    private static string Sent(CheckResult r) =>
        r.Sent >= r.Scheduled ? $"all {r.Sent:N0}" : $"{r.Sent:N0} of {r.Scheduled:N0} ({(double)(r.Scheduled - r.Sent) / r.Scheduled:0%} dropped)";

    private sealed record LoadReport(long Scheduled, long Sent, double Throughput, Dictionary<string, long> StatusCodes);

    private static LoadReport ReadReport(string report)
    {
        if (!File.Exists(report))
        {
            return new(0, 0, 0, []);
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var totals = doc.RootElement.GetProperty("totals");
        return new(totals.GetProperty("scheduled").GetInt64(), totals.GetProperty("sent").GetInt64(), totals.GetProperty("throughput").GetDouble(),
            doc.RootElement.GetProperty("status_codes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
    }

    private static async Task<(string Id, string Key)> CreateTenantAsync(LocalCluster cluster)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, cluster.GatewayUrl + "/admin/v1/tenants")
        {
            Content = new StringContent(
                """{"name":"chaos probe","currency":"EUR","limits":{"max_amount":99999999,"requests_per_second":100000,"velocity_per_customer":1000000,"velocity_per_payment_method":1000000}}""",
                Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cluster.AdminToken);
        using var response = await cluster.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.GetProperty("id").GetString()!, doc.RootElement.GetProperty("api_key").GetString()!);
    }
}
