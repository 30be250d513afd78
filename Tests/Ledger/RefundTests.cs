using System.Net;
using System.Text;
using System.Text.Json;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Ledger;

/// <summary>Refunds over real HTTP: the gateway, two silos, PostgreSQL and the PSP sandbox, which refunds by its own
/// ledger (idempotent by key, never above the capture) and misbehaves on demand.</summary>
[Collection(PspCollection.Name)]
public sealed class RefundTests(PspCluster fincore) : IAsyncLifetime
{
    private HttpClient Http => fincore.Http;

    public Task InitializeAsync() => SetFaultsAsync(new { });

    public Task DisposeAsync() => SetFaultsAsync(new { });

    private async Task SetFaultsAsync(object faults)
    {
        using var response = await fincore.PspHttp.PutAsync("/admin/faults", new StringContent(JsonSerializer.Serialize(faults), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Amount(long amount) => JsonSerializer.Serialize(new { amount });

    /// <summary>A charge the PSP captured (funding <paramref name="account"/> when given).</summary>
    private async Task<string> SucceededChargeAsync(string key, long amount, string? account = null)
    {
        var created = await Http.PostAsync("/v1/charges", key, JsonSerializer.Serialize(new { amount, currency = "BRL", payment_method = "pm_card_visa", account }));
        Assert.True(created.Status == HttpStatusCode.Accepted, created.Body);
        var id = created.Json.GetProperty("id").GetString()!;
        await Poll.UntilAsync(async () => (await Http.GetAsync($"/v1/charges/{id}", key)).Json.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(30), $"charge {id} to succeed");
        return id;
    }

    private async Task<JsonElement> SettledRefundAsync(string key, string id)
    {
        JsonElement refund = default;
        await Poll.UntilAsync(async () =>
        {
            refund = (await Http.GetAsync($"/v1/refunds/{id}", key)).Json;
            return refund.GetProperty("status").GetString() != "pending";
        }, TimeSpan.FromSeconds(30), $"refund {id} to settle");
        return refund;
    }

    private async Task<long> AmountRefundedAsync(string key, string charge) =>
        (await Http.GetAsync($"/v1/charges/{charge}", key)).Json.GetProperty("amount_refunded").GetInt64();

    private async Task<long> BalanceAsync(string key, string account) =>
        (await Http.GetAsync($"/v1/accounts/{account}", key)).Json.GetProperty("balance").GetInt64();

    /// <summary>The sandbox's refunds of one payment (the charge id is its key).</summary>
    private async Task<List<JsonElement>> PspRefundsAsync(string charge)
    {
        using var doc = JsonDocument.Parse(await fincore.PspHttp.GetStringAsync("/admin/ledger"));
        return doc.RootElement.GetProperty("refunds").EnumerateArray().Where(r => r.GetProperty("payment").GetString() == charge).Select(r => r.Clone()).ToList();
    }

    [Fact]
    public async Task A_partial_then_a_full_refund_go_through_the_PSP_and_a_refund_above_what_is_left_is_422()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var charge = await SucceededChargeAsync(key, 10_000);

        var partial = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(3_000), idempotencyKey: "refund-1");
        Assert.True(partial.Status == HttpStatusCode.Accepted, partial.Body);
        var first = partial.Json;
        var firstId = first.GetProperty("id").GetString()!;
        Assert.StartsWith("re_", firstId);
        Assert.Equal("refund", first.GetProperty("object").GetString());
        Assert.Equal(charge, first.GetProperty("charge").GetString());
        Assert.Equal(3_000, first.GetProperty("amount").GetInt64());
        Assert.Equal("pending", first.GetProperty("status").GetString());
        Assert.Equal(3_000, await AmountRefundedAsync(key, charge)); // reserved at once

        var again = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(3_000), idempotencyKey: "refund-1");
        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        Assert.Equal(partial.Body, again.Body);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        var mismatch = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(2_000), idempotencyKey: "refund-1");
        Assert.Equal(422, mismatch.Code);
        Assert.Equal("idempotency_key_mismatch", mismatch.Json.GetProperty("code").GetString());

        var settled = await SettledRefundAsync(key, firstId);
        Assert.Equal("succeeded", settled.GetProperty("status").GetString());
        Assert.StartsWith("psr_", settled.GetProperty("psp_reference").GetString());

        var tooLarge = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(7_001));
        Assert.Equal(422, tooLarge.Code);
        Assert.Equal("amount_too_large", tooLarge.Json.GetProperty("code").GetString());
        Assert.Equal(3_000, await AmountRefundedAsync(key, charge));

        // No body: the rest of the charge.
        var rest = await Http.SendAsync(HttpMethod.Post, $"/v1/charges/{charge}/refunds", key, headers: new Dictionary<string, string> { ["Idempotency-Key"] = "refund-2" });
        Assert.True(rest.Status == HttpStatusCode.Accepted, rest.Body);
        Assert.Equal(7_000, rest.Json.GetProperty("amount").GetInt64());
        var restId = rest.Json.GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await SettledRefundAsync(key, restId)).GetProperty("status").GetString());
        Assert.Equal(10_000, await AmountRefundedAsync(key, charge));
        var nothingLeft = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(1));
        Assert.Equal("amount_too_large", nothingLeft.Json.GetProperty("code").GetString());

        var list = await Http.GetAsync($"/v1/charges/{charge}/refunds", key);
        Assert.Equal([restId, firstId], list.Json.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        var events = await Http.GetAsync($"/v1/charges/{charge}/events", key);
        Assert.Equal(2, events.Json.GetProperty("data").EnumerateArray().Count(e => e.GetProperty("type").GetString() == "refund.succeeded"));

        var refunds = (await SummaryAsync(key)).GetProperty("refunds");
        Assert.Equal(2, refunds.GetProperty("count").GetInt64());
        Assert.Equal(10_000, refunds.GetProperty("amount").GetInt64());

        var psp = await PspRefundsAsync(charge);
        Assert.Equal(2, psp.Count);
        Assert.All(psp, r => Assert.Equal("refunded", r.GetProperty("status").GetString()));
        Assert.Equal(10_000, psp.Sum(r => r.GetProperty("amount").GetInt64()));
    }

    [Fact]
    public async Task A_refund_whose_PSP_answer_is_lost_is_asked_again_and_refunded_once()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var charge = await SucceededChargeAsync(key, 5_000);
        // Every first request is decided and recorded, and its answer never comes: the refund grain times out, not
        // knowing, and asks again under the same key.
        await SetFaultsAsync(new { timeout_rate = 1.0 });
        var refund = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(5_000));
        Assert.True(refund.Status == HttpStatusCode.Accepted, refund.Body);
        var settled = await SettledRefundAsync(key, refund.Json.GetProperty("id").GetString()!);
        Assert.Equal("succeeded", settled.GetProperty("status").GetString());

        var psp = Assert.Single(await PspRefundsAsync(charge));
        Assert.Equal(5_000, psp.GetProperty("amount").GetInt64());
        Assert.True(psp.GetProperty("duplicates").GetInt32() >= 1, psp.ToString()); // it was asked again, and refunded once
        Assert.Equal(5_000, await AmountRefundedAsync(key, charge));
        using var totals = JsonDocument.Parse(await fincore.PspHttp.GetStringAsync("/admin/ledger"));
        Assert.Equal(0, totals.RootElement.GetProperty("totals").GetProperty("over_refunded").GetInt32());
    }

    [Fact]
    public async Task A_refund_of_a_funding_charge_debits_its_account_and_gives_it_back_when_the_PSP_fails_it()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var account = await AccountAsync(key, "Ana Souza", "individual", "529.982.247-25");
        var other = await AccountAsync(key, "Loja Boa", "merchant", "11.222.333/0001-81");
        var charge = await SucceededChargeAsync(key, 5_000, account);
        await Poll.UntilAsync(async () => await BalanceAsync(key, account) == 5_000, TimeSpan.FromSeconds(30), "the funding credit");
        var spent = await Http.PostAsync("/v1/transfers", key, JsonSerializer.Serialize(new { from = account, to = other, amount = 4_000 }));
        Assert.Equal(HttpStatusCode.Created, spent.Status);

        // The account holds 1,000 of the 5,000 it was funded with: a refund of 2,000 would take it below zero.
        var uncovered = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(2_000));
        Assert.Equal(422, uncovered.Code);
        Assert.Equal("insufficient_funds", uncovered.Json.GetProperty("code").GetString());
        Assert.Equal(1_000, await BalanceAsync(key, account));
        Assert.Equal(0, await AmountRefundedAsync(key, charge));
        Assert.Empty(await PspRefundsAsync(charge));

        var covered = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(600));
        Assert.Equal(HttpStatusCode.Accepted, covered.Status);
        Assert.Equal(account, covered.Json.GetProperty("account").GetString());
        Assert.Equal(400, await BalanceAsync(key, account)); // debited with the refund, before the PSP call
        var coveredId = covered.Json.GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await SettledRefundAsync(key, coveredId)).GetProperty("status").GetString());
        Assert.Equal(400, await BalanceAsync(key, account));
        var entries = (await Http.GetAsync($"/v1/accounts/{account}/entries", key)).Json.GetProperty("data").EnumerateArray().ToList();
        var debit = entries.Single(e => e.GetProperty("type").GetString() == "refund");
        Assert.Equal(-600, debit.GetProperty("amount").GetInt64());
        Assert.Equal(coveredId, debit.GetProperty("source").GetString());
        Assert.Equal(400, debit.GetProperty("balance_after").GetInt64());

        // The PSP refuses the next one: the account gets its money back, and the charge can be refunded by that much again.
        await SetFaultsAsync(new { decline_rate = 1.0 });
        var refused = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(300));
        Assert.Equal(HttpStatusCode.Accepted, refused.Status);
        var failed = await SettledRefundAsync(key, refused.Json.GetProperty("id").GetString()!);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("refund_declined", failed.GetProperty("failure_code").GetString());
        Assert.Equal(400, await BalanceAsync(key, account));
        Assert.Equal(600, await AmountRefundedAsync(key, charge));
        var types = (await Http.GetAsync($"/v1/charges/{charge}/events", key)).Json.GetProperty("data").EnumerateArray()
            .Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Contains("refund.succeeded", types);
        Assert.Contains("refund.failed", types);

        var report = await SummaryAsync(key);
        Assert.Equal(1, report.GetProperty("transfers").GetProperty("count").GetInt64());
        Assert.Equal(4_000, report.GetProperty("transfers").GetProperty("amount").GetInt64());
        var byStatus = report.GetProperty("refunds").GetProperty("by_status").EnumerateArray().ToDictionary(r => r.GetProperty("status").GetString()!, r => r.GetProperty("amount").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["failed"] = 300, ["succeeded"] = 600 }, byStatus);
    }

    /// <summary>The tenant's summary report from yesterday to tomorrow (UTC): everything this test made.</summary>
    private async Task<JsonElement> SummaryAsync(string key)
    {
        var today = DateTime.UtcNow.Date;
        var r = await Http.GetAsync($"/v1/reports/summary?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(2):yyyy-MM-dd}", key);
        Assert.True(r.Status == HttpStatusCode.OK, r.Body);
        return r.Json;
    }

    private async Task<string> AccountAsync(string key, string name, string kind, string document)
    {
        var r = await Http.PostAsync("/v1/customers", key, JsonSerializer.Serialize(new { kind, name, email = "someone@example.com", document }));
        Assert.True(r.Status == HttpStatusCode.Created, r.Body);
        return r.Json.GetProperty("account").GetString()!;
    }

    [Fact]
    public async Task Bad_refunds_and_another_tenants_charges_get_problems_and_change_nothing()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (_, otherKey) = await fincore.CreateTenantAsync();
        var charge = await SucceededChargeAsync(key, 2_000);
        var refund = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, Amount(500));
        var refundId = refund.Json.GetProperty("id").GetString()!;
        await SettledRefundAsync(key, refundId);

        // Another tenant's charge and refund are unknown to this one, in every route.
        Assert.Equal(404, (await Http.PostAsync($"/v1/charges/{charge}/refunds", otherKey, Amount(100))).Code);
        Assert.Equal(404, (await Http.GetAsync($"/v1/charges/{charge}/refunds", otherKey)).Code);
        Assert.Equal(404, (await Http.GetAsync($"/v1/refunds/{refundId}", otherKey)).Code);
        Assert.Empty((await Http.GetAsync($"/v1/refunds?charge={charge}", otherKey)).Json.GetProperty("data").EnumerateArray());

        foreach (var body in new[] { Amount(0), Amount(-5), Amount(100_000_000_000), """{"amount":"100"}""", """{"amount":1.5}""", "[1]", "{" })
        {
            var r = await Http.PostAsync($"/v1/charges/{charge}/refunds", key, body);
            Assert.True(r.Code == 400, $"{body}: {r.Code} {r.Body}");
            Assert.Equal("application/problem+json", r.ContentType);
        }

        Assert.Equal(415, (await Http.SendAsync(HttpMethod.Post, $"/v1/charges/{charge}/refunds", key, "amount=1", contentType: "text/plain")).Code);
        Assert.Equal(404, (await Http.PostAsync("/v1/charges/not-a-charge/refunds", key, Amount(100))).Code);
        Assert.Equal(404, (await Http.PostAsync("/v1/charges/ch_00000000000000000000000000/refunds", key, Amount(100))).Code);
        Assert.Equal(404, (await Http.GetAsync("/v1/refunds/re_nope", key)).Code);
        Assert.Equal(400, (await Http.GetAsync("/v1/refunds?charge=nope", key)).Code);

        // Only a succeeded charge is refunded.
        await SetFaultsAsync(new { decline_rate = 1.0 });
        var declined = await Http.PostAsync("/v1/charges", key, JsonSerializer.Serialize(new { amount = 900, currency = "BRL", payment_method = "pm_card_visa" }));
        var declinedId = declined.Json.GetProperty("id").GetString()!;
        await Poll.UntilAsync(async () => (await Http.GetAsync($"/v1/charges/{declinedId}", key)).Json.GetProperty("status").GetString() == "failed",
            TimeSpan.FromSeconds(30), "the charge to be declined");
        var notSucceeded = await Http.PostAsync($"/v1/charges/{declinedId}/refunds", key, Amount(100));
        Assert.Equal(409, notSucceeded.Code);
        Assert.Equal("invalid_state", notSucceeded.Json.GetProperty("code").GetString());

        Assert.Equal(500, await AmountRefundedAsync(key, charge));
        Assert.Single(await PspRefundsAsync(charge));
        Assert.Single((await Http.GetAsync("/v1/refunds", key)).Json.GetProperty("data").EnumerateArray());
    }
}
