using System.Net;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Psp;

[Collection(PspCollection.Name)]
public sealed class WebhookTests(PspCluster fincore)
{
    [Fact]
    public async Task A_receiver_verifies_every_signature_and_after_a_minute_down_gets_every_event_with_deliveries_recorded()
    {
        var (key, receiver) = await TenantWithEndpointAsync();
        await using var _ = receiver;

        var first = (await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(customer: null))).Json.GetProperty("id").GetString()!;
        await Poll.UntilAsync(() => receiver.Events.Values.Any(e => e == ("charge.succeeded", first)), TimeSpan.FromSeconds(30), "charge.succeeded to be delivered");
        Assert.Contains(("charge.processing", first), receiver.Events.Values);

        // Down for a minute while charges keep settling.
        await receiver.StopAsync();
        var later = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            later.Add((await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(customer: null, amount: 100 + i))).Json.GetProperty("id").GetString()!);
        }

        await Task.Delay(TimeSpan.FromMinutes(1)); // the outage itself, not a wait for a result
        await receiver.StartAsync();
        await Poll.UntilAsync(() => later.All(id => receiver.Events.Values.Contains(("charge.succeeded", id))), TimeSpan.FromSeconds(60),
            "every event of the outage to arrive after it");
        Assert.All(later, id => Assert.Contains(("charge.processing", id), receiver.Events.Values));
        Assert.Equal(0, receiver.BadSignatures);

        var deliveries = (await fincore.Http.GetAsync("/v1/webhook-deliveries?limit=100", key)).Json.GetProperty("data").EnumerateArray().ToList();
        Assert.Contains(deliveries, d => !d.GetProperty("delivered").GetBoolean()); // the failed attempts of the outage
        Assert.Contains(deliveries, d => d.GetProperty("delivered").GetBoolean() && d.GetProperty("status_code").GetInt32() == 200);
        Assert.All(deliveries, d => Assert.Equal(receiver.Url, d.GetProperty("url").GetString()));
    }

    private async Task<(string Key, WebhookReceiver Receiver)> TenantWithEndpointAsync(Func<string, Task>? before = null)
    {
        var (_, key) = await fincore.CreateTenantAsync();
        if (before is not null)
        {
            await before(key);
        }

        var receiver = new WebhookReceiver(FreePort.Next());
        await receiver.StartAsync();
        var hook = await fincore.Http.SendAsync(HttpMethod.Put, "/v1/tenant/webhook", key, $$"""{"url":"{{receiver.Url}}"}""");
        Assert.Equal(HttpStatusCode.OK, hook.Status);
        receiver.Secret = hook.Json.GetProperty("secret").GetString()!;
        return (key, receiver);
    }

    private async Task<string> ChargeAsync(string key, long amount = 1999) =>
        (await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(customer: null, amount: amount))).Json.GetProperty("id").GetString()!;

    [Fact]
    public async Task A_slow_endpoint_gets_several_charges_events_at_once_and_each_charges_events_in_order_and_none_from_before_it_was_set()
    {
        var earlier = new List<string>();
        var (key, receiver) = await TenantWithEndpointAsync(async k =>
        {
            for (var i = 0; i < 5; i++)
            {
                earlier.Add(await ChargeAsync(k, 50 + i));
            }

            await Poll.UntilAsync(async () => (await fincore.Http.GetAsync($"/v1/charges/{earlier[^1]}/events", k)).Json.GetProperty("data").GetArrayLength() >= 3,
                TimeSpan.FromSeconds(30), "the earlier charges to settle");
            await Task.Delay(TimeSpan.FromSeconds(2)); // and their events to be sealed into the chain
        });
        await using var _ = receiver;
        receiver.Hold = TimeSpan.FromMilliseconds(300);
        var charges = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            charges.Add(await ChargeAsync(key, 100 + i));
        }

        await Poll.UntilAsync(() => charges.All(id => receiver.Events.Values.Contains(("charge.succeeded", id))), TimeSpan.FromSeconds(60),
            "every charge's charge.succeeded to arrive");

        // One at a time, 24 deliveries of 300 ms would take 7 s; side by side they overlap.
        Assert.True(receiver.MaxInFlight > 1, $"deliveries in flight at once: {receiver.MaxInFlight}");
        Assert.DoesNotContain(receiver.Arrivals, a => earlier.Contains(a.ChargeId));
        var order = receiver.Arrivals.ToList();
        foreach (var id in charges)
        {
            var processing = order.FindIndex(a => a.ChargeId == id && a.Type == "charge.processing");
            var succeeded = order.FindIndex(a => a.ChargeId == id && a.Type == "charge.succeeded");
            Assert.True(processing >= 0 && processing < succeeded, $"{id}: charge.processing arrived at {processing}, charge.succeeded at {succeeded}");
        }

        Assert.Equal(0, receiver.BadSignatures);
    }

    [Fact]
    public async Task An_event_the_endpoint_refuses_is_retried_while_the_other_charges_events_go_ahead_and_its_charge_keeps_its_order()
    {
        var (key, receiver) = await TenantWithEndpointAsync();
        await using var _ = receiver;
        string? refused = null;
        var refusals = 0;
        receiver.Reject = (_, charge) => charge == Volatile.Read(ref refused) && Interlocked.Increment(ref refusals) <= 5;
        var first = await ChargeAsync(key);
        Volatile.Write(ref refused, first);
        var others = new List<string>();
        await Poll.UntilAsync(async () =>
        {
            others.Add(await ChargeAsync(key, 200 + others.Count));
            await Task.Delay(200);
            return receiver.Events.Values.Contains(("charge.succeeded", others[0]));
        }, TimeSpan.FromSeconds(30), "a later charge's events to arrive");

        await Poll.UntilAsync(() => receiver.Events.Values.Contains(("charge.succeeded", first)), TimeSpan.FromSeconds(60), "the refused charge's events after its retries");
        var order = receiver.Arrivals.ToList();
        Assert.True(order.FindIndex(a => a.ChargeId == first && a.Type == "charge.processing") < order.FindIndex(a => a.ChargeId == first && a.Type == "charge.succeeded"));
        Assert.True(order.FindIndex(a => a.ChargeId == others[0]) < order.FindIndex(a => a.ChargeId == first), "the later charge arrived first");
        Assert.Equal(5, receiver.Rejected);

        var deliveries = (await fincore.Http.GetAsync("/v1/webhook-deliveries?limit=100", key)).Json.GetProperty("data").EnumerateArray().ToList();
        var eventsOfFirst = receiver.Events.Where(e => e.Value.ChargeId == first).Select(e => e.Key).ToHashSet();
        var attempts = deliveries.Where(d => eventsOfFirst.Contains(d.GetProperty("event_id").GetString()!) && !d.GetProperty("delivered").GetBoolean())
            .Select(d => d.GetProperty("attempt").GetInt32()).Order().ToList();
        Assert.Equal([1, 2, 3, 4, 5], attempts);
    }

    [Fact]
    public async Task Tenants_whose_endpoints_never_answer_hold_up_no_other_tenants_webhooks()
    {
        // Eight tenants with one endpoint that accepts connections and never answers, each creating charges as the
        // test runs: their deliverers wait out a timeout (3 s here) on every attempt.
        await using var hanging = new WebhookReceiver(FreePort.Next()) { Hang = true };
        await hanging.StartAsync();
        var stuck = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var (_, key) = await fincore.CreateTenantAsync();
            var hook = await fincore.Http.SendAsync(HttpMethod.Put, "/v1/tenant/webhook", key, $$"""{"url":"{{hanging.Url}}"}""");
            Assert.Equal(HttpStatusCode.OK, hook.Status);
            stuck.Add(key);
        }

        using var stop = new CancellationTokenSource();
        var traffic = stuck.Select(key => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await ChargeAsync(key, 100 + (i % 500));
                await Task.Delay(250);
            }
        })).ToList();

        var others = new List<(WebhookReceiver Receiver, string Charge)>();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(4)); // their deliverers are waiting on the endpoint by now
            for (var i = 0; i < 4; i++)
            {
                var (key, receiver) = await TenantWithEndpointAsync();
                others.Add((receiver, await ChargeAsync(key)));
            }

            // Each silo seals its tenants' chains every second and tells their deliverers; a tell that waited for a
            // deliverer stuck on its endpoint held every tenant after it back by the timeout.
            await Poll.UntilAsync(() => others.All(o => o.Receiver.Events.Values.Contains(("charge.succeeded", o.Charge))), TimeSpan.FromSeconds(10),
                "every other tenant's charge.succeeded while eight endpoints hang");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(traffic);
            foreach (var (receiver, _) in others)
            {
                await receiver.DisposeAsync();
            }
        }

        Assert.True(hanging.Received > 0, "the hanging endpoint was tried");
        Assert.Empty(hanging.Events);
    }

    [Fact]
    public async Task LoadGen_serves_its_tenants_webhooks_and_reports_every_event_once_with_its_lag()
    {
        using var run = await LoadGenProcess.RunAsync("run", "--target", fincore.Http.BaseAddress!.ToString().TrimEnd('/'),
            "--admin-token", PaymentsCluster.AdminToken, "--tenants", "2", "--mix", "create=1", "--rate", "40", "--duration", "4s",
            "--webhook-sink", "--webhook-latency", "20ms", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        // Each charge settles (the sandbox answers every one) and its charge.processing and final event reach the sink.
        var accepted = run.Report.GetProperty("status_codes").GetProperty("202").GetInt64();
        var webhooks = run.Report.GetProperty("webhooks");
        Assert.True(accepted > 100, $"{accepted} acknowledged");
        Assert.Equal(2 * accepted, webhooks.GetProperty("events").GetInt64());
        Assert.Equal(0, webhooks.GetProperty("bad_signatures").GetInt64());
        Assert.Equal(webhooks.GetProperty("events").GetInt64(), webhooks.GetProperty("lag").GetProperty("count").GetInt64());
        Assert.InRange(webhooks.GetProperty("lag").GetProperty("p50").GetDouble(), 20, 60_000);
        Assert.Contains("webhook lag", run.Stdout);
    }
}
