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

    private Infrastructure.SmtpServer Smtp => fincore.Smtp!;

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

    [Fact]
    public async Task A_silo_killed_while_its_notifier_sends_costs_at_most_one_duplicate_per_email_and_loses_none()
    {
        var (key, _, anaAccount, anaEmail, _, brunoAccount, brunoEmail) = await TwoCustomersAsync();
        var tenant = (await Http.GetAsync("/v1/tenant", key)).Json.GetProperty("id").GetString()!;
        var before = Smtp.Count;

        // 250 transfers: 500 emails, seconds of sending for this mail server; the notifier's silo is killed while it sends.
        await Parallel.ForAsync(0, 250, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) => await TransferAsync(key, anaAccount, brunoAccount, 10));
        await Poll.UntilAsync(() => Task.FromResult(Smtp.Count - before >= 20), TimeSpan.FromSeconds(60), "sending to be under way", intervalMs: 10);
        var victim = await fincore.Cluster.HostOfAsync(fincore.Cluster.Client.GetGrain<FinCore.Grains.INotificationGrain>(tenant));
        victim.Kill();
        var atKill = Smtp.Count - before;
        Assert.True(atKill < 500, $"the silo was killed after all {atKill} emails were sent");
        fincore.Cluster.Silos.Remove(victim);
        await victim.DisposeAsync();
        await fincore.Cluster.AddSilosAsync(1);

        // Every email is sent in the end: none lost.
        await Poll.UntilAsync(async () => await fincore.ScalarAsync(
                $"SELECT count(*) FROM notifications WHERE tenant_id = '{tenant}' AND channel = 'email' AND status = 'sent'") == 500,
            TimeSpan.FromSeconds(120), "all 500 emails to be sent", intervalMs: 500);
        Assert.Equal(500, await fincore.ScalarAsync($"SELECT count(*) FROM notifications WHERE tenant_id = '{tenant}' AND channel = 'email'"));

        // Each at least once and at most twice (the one a connection had in flight when its silo died), by Message-ID.
        var counts = Smtp.Messages().Where(m => m.To.Mailboxes.Any(a => a.Address == anaEmail || a.Address == brunoEmail))
            .GroupBy(m => m.MessageId ?? "").ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(500, counts.Count);
        Assert.All(counts, c => Assert.InRange(c.Value, 1, 2));
        Assert.True(counts.Values.Count(v => v == 2) <= 8, $"{counts.Values.Count(v => v == 2)} duplicates: at most one per connection in flight (8)");
    }

    [Fact]
    public async Task Security_alerts_reach_the_tenants_contact_when_an_api_key_is_made_or_revoked_or_the_webhook_endpoint_changes()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var contact = Unique("security");
        foreach (var bad in new[] { """{ "email": "not an address" }""", "{}", """{ "email": "a@b.co", "name": "x" }""" })
        {
            Assert.Equal(400, (await Http.SendAsync(HttpMethod.Put, "/v1/tenant/contact", key, bad)).Code);
        }

        var set = await Http.SendAsync(HttpMethod.Put, "/v1/tenant/contact", key, JsonSerializer.Serialize(new { email = contact }));
        Assert.True(set.Status == HttpStatusCode.OK, set.Body);
        Assert.Equal(contact, (await Http.GetAsync("/v1/tenant", key)).Json.GetProperty("contact_email").GetString());

        // A key made and revoked by an operator, and the endpoint changed by the tenant: an alert each, in pt-BR.
        var made = await Http.PostAsync($"/admin/v1/tenants/{tenant}/api-keys", PaymentsCluster.AdminToken, "{}");
        Assert.True(made.Status == HttpStatusCode.Created, made.Body);
        var keyId = made.Json.GetProperty("id").GetString()!;
        Assert.Equal(204, (await Http.SendAsync(HttpMethod.Delete, $"/admin/v1/tenants/{tenant}/api-keys/{keyId}", PaymentsCluster.AdminToken)).Code);
        var hook = await Http.SendAsync(HttpMethod.Put, "/v1/tenant/webhook", key, """{ "url": "http://127.0.0.1:9/hooks" }""");
        Assert.True(hook.Status == HttpStatusCode.OK, hook.Body);

        await Poll.UntilAsync(() => Task.FromResult(Smtp.MessagesTo(contact).Count >= 3), TimeSpan.FromSeconds(60), "three security alerts", intervalMs: 200);
        var alerts = Smtp.MessagesTo(contact);
        Assert.Equal(["Chave de API revogada", "Endpoint de webhook alterado", "Nova chave de API criada"], alerts.Select(m => m.Subject ?? "").Order(StringComparer.Ordinal));
        Assert.All(alerts.Where(m => m.Subject?.Contains("chave", StringComparison.OrdinalIgnoreCase) == true), m => Assert.Contains(keyId, m.TextBody));
        Assert.Contains("http://127.0.0.1:9/hooks", alerts.Single(m => m.Subject?.StartsWith("Endpoint", StringComparison.Ordinal) == true).TextBody);

        // They are in the tenant's audit chain too, which verifies.
        await Poll.UntilAsync(async () =>
        {
            var verify = await Http.GetAsync($"/admin/v1/audit/verify?tenant={tenant}", PaymentsCluster.AdminToken);
            return verify.Json.GetProperty("ok").GetBoolean() && verify.Json.GetProperty("entries").GetInt64() == 3;
        }, TimeSpan.FromSeconds(30), "the three security events in the audit chain");
    }
}
