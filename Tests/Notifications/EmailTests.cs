using System.Net;
using System.Text.Json;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Notifications;

/// <summary>Email notifications over real processes: two silos, the gateway, PostgreSQL, the PSP sandbox and a real SMTP
/// server (aiosmtpd), which the silos reach over SMTP with MailKit.</summary>
[Collection(PspCollection.Name)]
public sealed class EmailTests(PspCluster fincore)
{
    private HttpClient Http => fincore.Http;

    private SmtpServer Smtp => fincore.Smtp!;

    private static string Unique(string name) => Customers.Unique(name);

    private Task<(string Customer, string Account)> CustomerAsync(string key, string name, string email) => Customers.CreateAsync(Http, key, name, email);

    private Task<Customers.Pair> TwoCustomersAsync() => Customers.TwoAsync(fincore);

    private Task<string> TransferAsync(string key, string from, string to, long amount) => Customers.TransferAsync(Http, key, from, to, amount);

    private async Task<List<JsonElement>> NotificationsAsync(string key, string customer)
    {
        var r = await Http.GetAsync($"/v1/notifications?customer={customer}&channel=email", key);
        Assert.True(r.Status == HttpStatusCode.OK, r.Body);
        return r.Json.GetProperty("data").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private async Task<JsonElement> SentAsync(string key, string customer, string kind)
    {
        JsonElement found = default;
        await Poll.UntilAsync(async () =>
        {
            var n = (await NotificationsAsync(key, customer)).Where(e => e.GetProperty("kind").GetString() == kind).ToList();
            if (n.Count == 1 && n[0].GetProperty("status").GetString() == "sent")
            {
                found = n[0];
                return true;
            }

            return false;
        }, TimeSpan.FromSeconds(60), $"the {kind} notification of {customer} to be sent", intervalMs: 200);
        return found;
    }

    [Fact]
    public async Task A_transfer_emails_its_payer_and_its_payee_once_each_with_the_amount_in_the_tenants_language()
    {
        var (key, ana, anaAccount, anaEmail, bruno, brunoAccount, brunoEmail) = await TwoCustomersAsync();

        var transfer = await TransferAsync(key, anaAccount, brunoAccount, 2_468);

        var sent = await SentAsync(key, ana, "transfer.sent");
        var received = await SentAsync(key, bruno, "transfer.received");
        Assert.Equal(transfer, sent.GetProperty("source").GetString());
        Assert.Equal(1, sent.GetProperty("attempts").GetInt32());
        Assert.True(sent.GetProperty("delivery_log")[0].GetProperty("ok").GetBoolean());
        Assert.Equal("email", received.GetProperty("channel").GetString());

        var toAna = Assert.Single(Smtp.MessagesTo(anaEmail));
        var toBruno = Assert.Single(Smtp.MessagesTo(brunoEmail));
        Assert.Equal("Você enviou R$ 24,68", toAna.Subject);
        Assert.Equal("Você recebeu R$ 24,68", toBruno.Subject);
        Assert.Contains("Ana Souza", toAna.TextBody);
        Assert.Contains(transfer, toAna.TextBody);
        Assert.Contains("R$ 24,68", toBruno.HtmlBody);
        Assert.Equal(sent.GetProperty("id").GetString() + "@fincore", toAna.MessageId);

        // The funding charge names no customer: nobody is told about it; and nothing went out twice.
        Assert.Single(await NotificationsAsync(key, ana));
        Assert.Single(Smtp.MessagesTo(anaEmail));
    }

    [Fact]
    public async Task Email_waits_out_an_SMTP_server_that_is_down_for_30_s_and_is_then_delivered_once()
    {
        var (key, ana, anaAccount, anaEmail, bruno, brunoAccount, brunoEmail) = await TwoCustomersAsync();

        await Smtp.StopAsync();
        var down = DateTime.UtcNow;
        try
        {
            await TransferAsync(key, anaAccount, brunoAccount, 700);
            await Poll.UntilAsync(async () => (await NotificationsAsync(key, ana)).Any(n =>
                    n.GetProperty("delivery_log").EnumerateArray().Any(a => !a.GetProperty("ok").GetBoolean())),
                TimeSpan.FromSeconds(30), "a failed attempt in the delivery log", intervalMs: 200);
            var pending = Assert.Single(await NotificationsAsync(key, ana));
            Assert.Equal("pending", pending.GetProperty("status").GetString());
            Assert.Empty(Smtp.MessagesTo(anaEmail));
            var left = TimeSpan.FromSeconds(30) - (DateTime.UtcNow - down);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left); // the outage itself: the server stays down for 30 s
            }
        }
        finally
        {
            await Smtp.StartAsync();
        }

        var sent = await SentAsync(key, ana, "transfer.sent");
        await SentAsync(key, bruno, "transfer.received");
        var log = sent.GetProperty("delivery_log").EnumerateArray().ToList();
        Assert.True(log.Count >= 2, sent.ToString());
        Assert.False(log[0].GetProperty("ok").GetBoolean());
        Assert.True(log[^1].GetProperty("ok").GetBoolean());
        Assert.DoesNotContain(anaEmail, sent.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("Você enviou R$ 7,00", Assert.Single(Smtp.MessagesTo(anaEmail)).Subject);
        Assert.Single(Smtp.MessagesTo(brunoEmail));
    }

    [Fact]
    public async Task A_customer_who_turns_email_off_gets_none_and_the_log_says_so()
    {
        var (key, ana, anaAccount, anaEmail, bruno, brunoAccount, brunoEmail) = await TwoCustomersAsync();

        var off = await Http.SendAsync(HttpMethod.Put, $"/v1/customers/{bruno}/notification-preferences", key, """{ "email": false }""");
        Assert.True(off.Status == HttpStatusCode.OK, off.Body);
        Assert.False(off.Json.GetProperty("email").GetBoolean());
        Assert.True(off.Json.GetProperty("push").GetBoolean());
        Assert.False((await Http.GetAsync($"/v1/customers/{bruno}/notification-preferences", key)).Json.GetProperty("email").GetBoolean());

        await TransferAsync(key, anaAccount, brunoAccount, 500);
        await SentAsync(key, ana, "transfer.sent");
        await Poll.UntilAsync(async () => (await NotificationsAsync(key, bruno)).Any(n => n.GetProperty("status").GetString() == "skipped"),
            TimeSpan.FromSeconds(30), "Bruno's notification to be skipped", intervalMs: 200);
        Assert.Empty(Smtp.MessagesTo(brunoEmail));
        Assert.Single(Smtp.MessagesTo(anaEmail));
    }

    [Fact]
    public async Task Bad_preferences_and_other_tenants_customers_are_refused_and_change_nothing()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (_, otherKey) = await fincore.CreateTenantAsync();
        var (ana, _) = await CustomerAsync(key, "Ana Souza", Unique("ana"));

        foreach (var body in new[] { """{ "email": "yes" }""", """{ "sms": true }""", "{}", "[]", "not json" })
        {
            var r = await Http.SendAsync(HttpMethod.Put, $"/v1/customers/{ana}/notification-preferences", key, body);
            Assert.True(r.Code == 400, $"{body}: {r.Code} {r.Body}");
            Assert.Equal("application/problem+json", r.ContentType);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await Http.SendAsync(HttpMethod.Put, $"/v1/customers/{ana}/notification-preferences", otherKey, """{ "email": false }""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/v1/customers/{ana}/notification-preferences", otherKey)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.SendAsync(HttpMethod.Put, "/v1/customers/nope/notification-preferences", key, """{ "email": false }""")).Status);
        Assert.Equal(400, (await Http.GetAsync("/v1/notifications?customer=bogus", key)).Code);
        Assert.Equal(400, (await Http.GetAsync("/v1/notifications?limit=0", key)).Code);
        Assert.Equal(400, (await Http.GetAsync("/v1/notifications?channel=sms", key)).Code);
        Assert.True((await Http.GetAsync($"/v1/customers/{ana}/notification-preferences", key)).Json.GetProperty("email").GetBoolean());
        Assert.Equal(401, (await Http.GetAsync("/v1/notifications", null)).Code);
    }
}
