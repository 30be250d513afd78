using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Operators;

[Collection(PspCollection.Name)]
public sealed partial class TelemetryTests(PspCluster fincore)
{
    [Fact]
    public async Task One_trace_links_the_gateway_the_grain_calls_and_the_psp_call()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var clientSpan = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..16];
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/charges") { Content = new StringContent(Api.Charge(customer: null), System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Authorization", "Bearer " + key);
        request.Headers.Add("traceparent", $"00-{traceId}-{clientSpan}-01");
        using var response = await fincore.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await Poll.UntilAsync(async () => (await fincore.Http.GetAsync("/v1/charges/" + id, key)).Json.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(30), "the charge to succeed");

        // Spans are written by three processes (gateway, two silos) as they end; the attempt ends after its PSP call
        // (it still settles the charge and clears its state), so wait for both.
        List<Span> spans = [];
        await Poll.UntilAsync(() =>
        {
            spans = ReadSpans(fincore.TraceDir).Where(s => s.TraceId == traceId).ToList();
            return spans.Any(s => s.Name == "psp charge") && spans.Any(s => s.Name == "psp attempt");
        }, TimeSpan.FromSeconds(20), "the PSP attempt's and call's spans");

        var byId = spans.ToDictionary(s => s.SpanId);
        var gateway = Assert.Single(spans, s => s.Source == "FinCore.Gateway");
        Assert.True(gateway.Name == "POST /v1/charges", string.Join("\n", spans.Select(s => $"{s.Service} {s.Source} {s.Name} {s.SpanId} <- {s.ParentSpanId}")));
        Assert.Equal(clientSpan, gateway.ParentSpanId);
        Assert.Equal("fincore-gateway", gateway.Service);
        // Orleans' spans of the create call: the client's in the gateway, the grain's in a silo.
        Assert.Contains(spans, s => s.Service == "fincore-gateway" && s.Kind == "Client" && s.Name.Contains("create", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(spans, s => s.Service == "fincore-silo" && s.Kind == "Server" && s.Name.Contains("create", StringComparison.OrdinalIgnoreCase));
        var psp = spans.First(s => s.Name == "psp charge");
        Assert.Equal("Client", psp.Kind);
        Assert.Equal("captured", psp.Tags.GetValueOrDefault("fincore.psp_outcome"));

        // Every span's parent is in the trace, up to the client's: one tree from the API call to the PSP call.
        foreach (var s in spans)
        {
            Assert.True(s.ParentSpanId == clientSpan || byId.ContainsKey(s.ParentSpanId!), $"span '{s.Name}' hangs off an unknown parent");
        }

        var chain = new List<string>();
        for (var s = psp; s is not null; s = s.ParentSpanId is { } p && byId.TryGetValue(p, out var parent) ? parent : null)
        {
            chain.Add(s.Name);
        }

        Assert.Contains("psp attempt", chain);
        Assert.Contains(chain, name => name != "POST /v1/charges" && name.Contains("create", StringComparison.OrdinalIgnoreCase)); // the grain call
        Assert.Equal("POST /v1/charges", chain[^1]);
    }

    [Fact]
    public async Task Metrics_scraped_during_traffic_have_the_operator_counters_with_plausible_values()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        await using var receiver = new WebhookReceiver(FreePort.Next());
        await receiver.StartAsync();
        var hook = await fincore.Http.SendAsync(HttpMethod.Put, "/v1/tenant/webhook", key, $$"""{"url":"{{receiver.Url}}"}""");
        receiver.Secret = hook.Json.GetProperty("secret").GetString()!;
        var before = await ScrapeGatewayAsync();
        var postsBefore = Sum(before, "fincore_http_server_requests_total", "route=\"/v1/charges\"", "method=\"POST\"", "status=\"202\"");

        // Some PSP errors, so that retries happen too.
        await fincore.PspHttp.PutAsync("/admin/faults", new StringContent("""{"error_rate":0.3}""", System.Text.Encoding.UTF8, "application/json"));
        var ids = new List<string>();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                var created = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(customer: null, amount: 500 + i, pm: $"pm_metrics_{i}"));
                Assert.Equal(HttpStatusCode.Accepted, created.Status);
                ids.Add(created.Json.GetProperty("id").GetString()!);
                await fincore.Http.GetAsync("/v1/charges/" + ids[^1], key);
            }

            var statuses = new List<string>();
            var settled = Poll.UntilAsync(async () =>
            {
                statuses.Clear();
                foreach (var id in ids)
                {
                    statuses.Add((await fincore.Http.GetAsync("/v1/charges/" + id, key)).Json.GetProperty("status").GetString()!);
                }

                return statuses.All(s => s == "succeeded");
            }, TimeSpan.FromSeconds(60), "every charge to succeed");
            var error = await Record.ExceptionAsync(() => settled);
            Assert.True(error is null, $"{error?.Message}: {string.Join(", ", statuses)}");
        }
        finally
        {
            await fincore.PspHttp.PutAsync("/admin/faults", new StringContent("""{"error_rate":0}""", System.Text.Encoding.UTF8, "application/json"));
        }

        await Poll.UntilAsync(() => ids.All(id => receiver.Events.Values.Contains(("charge.succeeded", id))), TimeSpan.FromSeconds(30), "webhooks to be delivered");

        // Gateway: requests by route and status, with latency buckets.
        var gateway = await ScrapeGatewayAsync();
        Assert.Equal(30, Sum(gateway, "fincore_http_server_requests_total", "route=\"/v1/charges\"", "method=\"POST\"", "status=\"202\"") - postsBefore);
        Assert.True(Sum(gateway, "fincore_http_server_requests_total", "route=\"/v1/charges/{id}\"", "status=\"200\"") >= 30,
            string.Join("\n", gateway.Split('\n').Where(l => l.StartsWith("fincore_http_server_requests_total", StringComparison.Ordinal))));
        Assert.True(Sum(gateway, "fincore_http_server_duration_milliseconds_bucket", "route=\"/v1/charges\"", "le=\"+Inf\"") >= 30);
        Assert.Contains("# TYPE fincore_http_server_duration_milliseconds histogram", gateway, StringComparison.Ordinal);

        // Silos: grain calls by type, activations, Orleans' reminder ticks, PSP outcomes and latency,
        // retries, dead letters, webhooks.
        var silos = string.Join("\n", await Task.WhenAll(fincore.Cluster.Silos.Select(async s =>
        {
            using var http = new HttpClient();
            return await http.GetStringAsync($"http://127.0.0.1:{s.HttpPort}/metrics");
        })));
        Assert.True(Sum(silos, "fincore_grain_calls_total", "grain_type=\"charge\"", "outcome=\"ok\"") >= 90, "create, get and status changes of 30 charges");
        Assert.True(Sum(silos, "fincore_grain_call_duration_milliseconds_count", "grain_type=\"charge\"") >= 90);
        Assert.True(Sum(silos, "orleans_grains", "grain_type=\"charge\"") >= 1);
        Assert.True(Sum(silos, "orleans_catalog_activations", "grain_type=\"charge\"") >= 1);
        Assert.True(Sum(silos, "orleans_reminders_ticks_delivered_total") >= 1, "the charge sweeper's reminder ticks");
        Assert.True(Sum(silos, "fincore_psp_outcomes_total", "outcome=\"charge.captured\"") >= 30);
        Assert.True(Sum(silos, "fincore_psp_outcomes_total", "outcome=\"charge.retryable\"") >= 1, "30% PSP errors were retried");
        Assert.True(Sum(silos, "fincore_psp_retries_total") >= 1);
        Assert.True(Sum(silos, "fincore_psp_duration_milliseconds_count") >= 30);
        Assert.Contains("fincore_dead_letters_size", silos, StringComparison.Ordinal);
        Assert.True(Sum(silos, "fincore_webhook_deliveries_total", "result=\"delivered\"") >= 60, "processing and succeeded events of 30 charges");

        // Every process also shows the runtime's own: GC, allocation, CPU, memory and the thread pool.
        foreach (var (process, text) in new[] { ("silos", silos), ("gateway", gateway) })
        {
            Assert.True(Sum(text, "dotnet_gc_heap_total_allocated_bytes_total") > 1_000_000, process + " allocated");
            Assert.True(Sum(text, "dotnet_process_cpu_time_seconds_total", "cpu_mode=\"user\"") > 0.1, process + " used CPU");
            Assert.True(Sum(text, "dotnet_process_memory_working_set_bytes") > 10_000_000, process + " has a working set");
            Assert.Matches("dotnet_gc_collections_total\\{[^}]*gc_heap_generation=\"gen0\"", text);
            Assert.Contains("dotnet_thread_pool_queue_length", text, StringComparison.Ordinal);
        }
    }

    private async Task<string> ScrapeGatewayAsync() => await fincore.Http.GetStringAsync("/metrics");

    /// <summary>Sum of the samples of <paramref name="metric"/> whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Sum(string text, string metric, params string[] labels)
    {
        double total = 0;
        foreach (Match m in Sample().Matches(text))
        {
            if (m.Groups["name"].Value == metric && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                total += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_][a-zA-Z0-9_]*)(?<labels>\{(?:[^""}]|""(?:[^""\\]|\\.)*"")*\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    private static IEnumerable<Span> ReadSpans(string dir)
    {
        foreach (var file in Directory.GetFiles(dir, "*.jsonl"))
        {
            string[] lines;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                lines = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
                continue;
            }

            foreach (var line in lines)
            {
                Span? span = null;
                try
                {
                    var e = JsonDocument.Parse(line).RootElement;
                    span = new Span(
                        e.GetProperty("trace_id").GetString()!,
                        e.GetProperty("span_id").GetString()!,
                        e.GetProperty("parent_span_id").GetString(),
                        e.GetProperty("name").GetString()!,
                        e.GetProperty("kind").GetString()!,
                        e.GetProperty("source").GetString()!,
                        e.GetProperty("service").GetString()!,
                        e.GetProperty("tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()));
                }
                catch (JsonException)
                {
                    // a line being written right now
                }

                if (span is not null)
                {
                    yield return span;
                }
            }
        }
    }

    private sealed record Span(string TraceId, string SpanId, string? ParentSpanId, string Name, string Kind, string Source, string Service, Dictionary<string, string?> Tags);
}
