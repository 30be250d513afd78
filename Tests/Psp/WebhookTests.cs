using System.Net;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Psp;

[Collection(PspCollection.Name)]
public sealed class WebhookTests(PspCluster fincore)
{
    [Fact]
    public async Task A_receiver_verifies_every_signature_and_after_a_minute_down_gets_every_event_with_deliveries_recorded()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        await using var receiver = new WebhookReceiver(FreePort.Next());
        await receiver.StartAsync();
        var hook = await fincore.Http.SendAsync(HttpMethod.Put, "/v1/tenant/webhook", key, $$"""{"url":"{{receiver.Url}}"}""");
        Assert.Equal(HttpStatusCode.OK, hook.Status);
        receiver.Secret = hook.Json.GetProperty("secret").GetString()!;

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
}
