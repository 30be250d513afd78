using System.Net;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Payments;

[Collection(PaymentsCollection.Name)]
public sealed class ChargesApiTests(PaymentsCluster fincore)
{
    private HttpClient Http => fincore.Http;

    [Fact]
    public async Task A_charge_is_created_read_listed_canceled_and_its_audit_trail_shown()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var created = await Http.PostAsync("/v1/charges", key, Api.Charge(amount: 1999, currency: "brl"));
        Assert.Equal(HttpStatusCode.Accepted, created.Status);
        var charge = created.Json;
        var id = charge.GetProperty("id").GetString()!;
        Assert.StartsWith("ch_", id);
        Assert.Equal($"/v1/charges/{id}", created.Headers.Location!.ToString());
        Assert.Equal("charge", charge.GetProperty("object").GetString());
        Assert.Equal(1999, charge.GetProperty("amount").GetInt64());
        Assert.Equal("BRL", charge.GetProperty("currency").GetString());
        Assert.Equal("created", charge.GetProperty("status").GetString());
        Assert.Equal("pm_card_visa", charge.GetProperty("payment_method").GetString());
        Assert.Equal("42", charge.GetProperty("metadata").GetProperty("order_id").GetString());
        Assert.Equal(0, charge.GetProperty("attempts").GetInt32());
        Assert.Equal("allow", charge.GetProperty("risk").GetProperty("decision").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", charge.GetProperty("created_at").GetString());
        Assert.True(created.Headers.Contains("Request-Id"));

        var read = await Http.GetAsync($"/v1/charges/{id}", key);
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal(created.Body, read.Body);

        var list = await Http.GetAsync("/v1/charges?limit=5", key);
        Assert.Equal("list", list.Json.GetProperty("object").GetString());
        Assert.Contains(list.Json.GetProperty("data").EnumerateArray(), c => c.GetProperty("id").GetString() == id);

        var canceled = await Http.PostAsync($"/v1/charges/{id}/cancel", key, "{}");
        Assert.Equal(HttpStatusCode.OK, canceled.Status);
        Assert.Equal("canceled", canceled.Json.GetProperty("status").GetString());
        Assert.Equal("canceled", (await Http.GetAsync($"/v1/charges?status=canceled", key)).Json.GetProperty("data")[0].GetProperty("status").GetString());

        var events = await Http.GetAsync($"/v1/charges/{id}/events", key);
        Assert.Equal(HttpStatusCode.OK, events.Status);
        Assert.Equal(["charge.created", "charge.canceled"], events.Json.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(id, events.Json.GetProperty("data")[1].GetProperty("data").GetProperty("object").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Cancel_after_a_charge_left_created_is_409_and_a_risk_block_fails_the_charge()
    {
        var (_, key) = await fincore.CreateTenantAsync(limits: new { max_amount = 5000 });
        var blocked = await Http.PostAsync("/v1/charges", key, Api.Charge(amount: 6000));
        Assert.Equal(HttpStatusCode.Accepted, blocked.Status);
        Assert.Equal("block", blocked.Json.GetProperty("risk").GetProperty("decision").GetString());
        var id = blocked.Json.GetProperty("id").GetString();

        var now = await Http.GetAsync($"/v1/charges/{id}", key);
        Assert.Equal("failed", now.Json.GetProperty("status").GetString());
        Assert.Equal("risk_blocked", now.Json.GetProperty("failure_code").GetString());

        var cancel = await Http.PostAsync($"/v1/charges/{id}/cancel", key, "{}");
        Assert.Equal(HttpStatusCode.Conflict, cancel.Status);
        Assert.Equal("invalid_state", cancel.Json.GetProperty("code").GetString());
        Assert.Equal("application/problem+json", cancel.ContentType);
    }

    [Fact]
    public async Task Velocity_rules_block_the_charge_past_the_per_customer_limit()
    {
        var (_, key) = await fincore.CreateTenantAsync(limits: new { velocity_per_customer = 3 });
        var decisions = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            decisions.Add((await Http.PostAsync("/v1/charges", key, Api.Charge(customer: "cus_fast"))).Json.GetProperty("risk").GetProperty("decision").GetString()!);
        }

        Assert.Equal(["allow", "allow", "allow", "block", "block"], decisions.Select(d => d == "review" ? "allow" : d));
    }

    [Fact]
    public async Task Fifty_concurrent_posts_with_one_key_make_one_charge_and_fifty_identical_bodies()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var body = Api.Charge(amount: 4242);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Http.PostAsync("/v1/charges", key, body, idempotencyKey: "order-4242")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.Status));
        Assert.Single(responses.Select(r => r.Body).Distinct());
        Assert.Equal(49, responses.Count(r => r.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true"));
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM charges WHERE tenant_id = '{tenant}'"));

        // The replay survives a gateway restart (nothing about it lives in the gateway) …
        await fincore.RestartGatewayAsync();
        var again = await fincore.Http.PostAsync("/v1/charges", key, body, idempotencyKey: "order-4242");
        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        Assert.Equal(responses[0].Body, again.Body);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());

        // … and the same key with another body is refused, changing nothing.
        var other = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 4243), idempotencyKey: "order-4242");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Status);
        Assert.Equal("idempotency_key_mismatch", other.Json.GetProperty("code").GetString());
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM charges WHERE tenant_id = '{tenant}'"));
    }

    [Fact]
    public async Task Another_tenant_never_sees_or_touches_a_charge()
    {
        var (tenantA, keyA) = await fincore.CreateTenantAsync();
        var (_, keyB) = await fincore.CreateTenantAsync();
        var a = (await Http.PostAsync("/v1/charges", keyA, Api.Charge(customer: "cus_secret"), idempotencyKey: "shared-key")).Json.GetProperty("id").GetString();
        var b = (await Http.PostAsync("/v1/charges", keyB, Api.Charge(amount: 7), idempotencyKey: "shared-key")).Json.GetProperty("id").GetString();
        Assert.NotEqual(a, b); // the same Idempotency-Key in two tenants makes two charges

        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/v1/charges/{a}", keyB)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.PostAsync($"/v1/charges/{a}/cancel", keyB, "{}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/v1/charges/{a}/events", keyB)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.GetAsync($"/v1/charges?starting_after={a}", keyB)).Status);
        Assert.Equal("created", (await Http.GetAsync($"/v1/charges/{a}", keyA)).Json.GetProperty("status").GetString());

        var listB = await Http.GetAsync("/v1/charges?limit=100", keyB);
        Assert.DoesNotContain(a!, listB.Body, StringComparison.Ordinal);
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd");
        var statementB = await Http.SendAsync(HttpMethod.Get, $"/v1/reports/statement?from={today}&to={tomorrow}", keyB, headers: new Dictionary<string, string> { ["Accept"] = "text/csv" });
        Assert.DoesNotContain(a!, statementB.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("cus_secret", statementB.Body, StringComparison.Ordinal);
        var summaryB = await Http.GetAsync($"/v1/reports/summary?from={today}&to={tomorrow}", keyB);
        Assert.Equal(1, summaryB.Json.GetProperty("by_status")[0].GetProperty("count").GetInt64());
        Assert.Equal(7, summaryB.Json.GetProperty("by_status")[0].GetProperty("amount").GetInt64());
        Assert.NotEqual(tenantA, (await Http.GetAsync("/v1/tenant", keyB)).Json.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Listing_pages_newest_first_with_cursor_and_filters_and_reports_add_up()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var ids = new List<string>();
        for (var i = 1; i <= 7; i++)
        {
            ids.Add((await Http.PostAsync("/v1/charges", key, Api.Charge(amount: i * 100))).Json.GetProperty("id").GetString()!);
        }

        await Http.PostAsync($"/v1/charges/{ids[0]}/cancel", key, "{}");
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await Http.GetAsync("/v1/charges?limit=3" + (after is null ? "" : $"&starting_after={after}"), key);
            var data = page.Json.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToList();
            seen.AddRange(data);
            after = page.Json.GetProperty("has_more").GetBoolean() ? data[^1] : null;
        }
        while (after is not null);

        Assert.Equal(Enumerable.Reverse(ids), seen);
        var canceled = await Http.GetAsync("/v1/charges?status=canceled", key);
        Assert.Equal([ids[0]], canceled.Json.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        var future = await Http.GetAsync($"/v1/charges?created_gte={DateTime.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}", key);
        Assert.Empty(future.Json.GetProperty("data").EnumerateArray());

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd");
        var summary = (await Http.GetAsync($"/v1/reports/summary?from={today}&to={tomorrow}", key)).Json;
        Assert.Equal(7, summary.GetProperty("by_status").EnumerateArray().Sum(s => s.GetProperty("count").GetInt64()));
        Assert.Equal(2800, summary.GetProperty("by_status").EnumerateArray().Sum(s => s.GetProperty("amount").GetInt64()));
        Assert.Equal(100, summary.GetProperty("by_status").EnumerateArray().Single(s => s.GetProperty("status").GetString() == "canceled").GetProperty("amount").GetInt64());

        var csv = await Http.SendAsync(HttpMethod.Get, $"/v1/reports/statement?from={today}&to={tomorrow}", key, headers: new Dictionary<string, string> { ["Accept"] = "text/csv" });
        Assert.Equal("text/csv", csv.ContentType);
        var lines = csv.Body.TrimEnd('\n').Split('\n');
        Assert.StartsWith("id,created_at,amount", lines[0]);
        Assert.Equal(8, lines.Length);
        Assert.All(ids, id => Assert.Contains(lines, l => l.StartsWith(id + ",", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Tenant_self_service_and_key_management_work_and_a_revoked_key_is_refused()
    {
        var (tenant, key) = await fincore.CreateTenantAsync("usd");
        var me = await Http.GetAsync("/v1/tenant", key);
        Assert.Equal(tenant, me.Json.GetProperty("id").GetString());
        Assert.Equal("USD", me.Json.GetProperty("currency").GetString());

        var hook = await Http.SendAsync(HttpMethod.Put, "/v1/tenant/webhook", key, """{"url":"https://example.test/hooks"}""");
        Assert.Equal(HttpStatusCode.OK, hook.Status);
        Assert.StartsWith("whsec_", hook.Json.GetProperty("secret").GetString());
        Assert.Equal("https://example.test/hooks", (await Http.GetAsync("/v1/tenant", key)).Json.GetProperty("webhook").GetProperty("url").GetString());

        var second = await Http.SendAsync(HttpMethod.Post, $"/admin/v1/tenants/{tenant}/api-keys", PaymentsCluster.AdminToken);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        var secondKey = second.Json.GetProperty("api_key").GetString()!;
        var keyId = second.Json.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/v1/tenant", secondKey)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await Http.SendAsync(HttpMethod.Delete, $"/admin/v1/tenants/{tenant}/api-keys/{keyId}", PaymentsCluster.AdminToken)).Status);
        var refused = await Http.GetAsync("/v1/tenant", secondKey);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("unauthorized", refused.Json.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/v1/tenant", key)).Status);

        Assert.Equal(HttpStatusCode.Forbidden, (await Http.GetAsync("/admin/v1/cluster", key)).Status);
        var cluster = await Http.GetAsync("/admin/v1/cluster", PaymentsCluster.AdminToken);
        Assert.Equal(2, cluster.Json.GetProperty("silos").EnumerateArray().Count(s => s.GetProperty("status").GetString() == "active"));
        Assert.True(cluster.Json.GetProperty("membership_version").GetInt64() > 0);
    }

    [Fact]
    public async Task Openapi_and_health_are_served()
    {
        var openapi = await Http.GetAsync("/openapi/v1.json", null);
        Assert.Equal(HttpStatusCode.OK, openapi.Status);
        Assert.True(openapi.Json.GetProperty("paths").TryGetProperty("/v1/charges", out _));
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/health/live", null)).Status);
        Assert.Equal("ready", (await Http.GetAsync("/health/ready", null)).Json.GetProperty("status").GetString());
    }
}
