using System.Net;
using System.Text.Json;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Notifications;

/// <summary>Customers' personal data as LGPD asks, over real processes: stored only encrypted (a <c>pg_dump</c> of the
/// whole database holds none of it), found by email through a keyed hash, and never in any process's log or span.</summary>
[Collection(PspCollection.Name)]
public sealed class PersonalDataTests(PspCluster fincore)
{
    private HttpClient Http => fincore.Http;

    /// <summary>A valid CPF no other test uses: nine random digits and their two check digits.</summary>
    private static string NewCpf()
    {
        var d = Enumerable.Range(0, 9).Select(_ => Random.Shared.Next(10)).ToList();
        for (var n = 9; n <= 10; n++)
        {
            var sum = d.Select((x, i) => x * (n + 1 - i)).Sum();
            var r = sum % 11;
            d.Add(r < 2 ? 0 : 11 - r);
        }

        return string.Concat(d);
    }

    /// <summary>A person whose every field is unique to this run, so finding any of it anywhere means it leaked.</summary>
    private static (string Name, string Email, string Document, string Phone) Person()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        return ($"Zelia Quarenta {tag}", $"zelia.{tag}@example.com", NewCpf(), "+55119" + Random.Shared.Next(10_000_000, 99_999_999));
    }

    /// <summary>Fails if any value is in <paramref name="text"/>: as text, or as the hex of its UTF-8 bytes (how a dump
    /// shows binary columns, such as the grains' serialized state).</summary>
    private static void AssertNowhere(string text, string where, params string[] values)
    {
        foreach (var v in values)
        {
            Assert.False(text.Contains(v, StringComparison.OrdinalIgnoreCase), $"'{v}' is in {where}");
            Assert.False(text.Contains(Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(v)), StringComparison.Ordinal), $"'{v}' is in {where}, as bytes");
        }
    }

    /// <summary>Every log line of the silos and the gateway so far, and every span they wrote.</summary>
    private string LogsAndSpans() =>
        string.Join('\n', fincore.Cluster.Silos.Select(s => s.Log).Append(fincore.Gateway.Log)
            .Concat(Directory.GetFiles(fincore.TraceDir).Select(File.ReadAllText)));

    [Fact]
    public async Task Personal_data_is_stored_only_encrypted_is_found_by_email_and_appears_in_no_log_or_span()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (name, email, document, phone) = Person();
        var created = await Http.PostAsync("/v1/customers", key, JsonSerializer.Serialize(new { kind = "individual", name, email, document, phone }));
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
        var id = created.Json.GetProperty("id").GetString()!;

        // The API shows it to the tenant as it was given.
        var read = await Http.GetAsync($"/v1/customers/{id}", key);
        Assert.Equal(name, read.Json.GetProperty("name").GetString());
        Assert.Equal(email, read.Json.GetProperty("email").GetString());
        Assert.Equal(document, read.Json.GetProperty("document").GetString());
        Assert.Equal(phone, read.Json.GetProperty("phone").GetString());

        // Found by email, whatever its case; after a change of address, by the new one only.
        var found = await Http.GetAsync($"/v1/customers?email={Uri.EscapeDataString(email.ToUpperInvariant())}", key);
        Assert.Equal(id, Assert.Single(found.Json.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(name, found.Json.GetProperty("data")[0].GetProperty("name").GetString());
        var newEmail = "new." + email;
        var patched = await Http.SendAsync(HttpMethod.Patch, $"/v1/customers/{id}", key, JsonSerializer.Serialize(new { email = newEmail }));
        Assert.True(patched.Status == HttpStatusCode.OK, patched.Body);
        Assert.Single((await Http.GetAsync($"/v1/customers?email={Uri.EscapeDataString(newEmail)}", key)).Json.GetProperty("data").EnumerateArray());
        Assert.Empty((await Http.GetAsync($"/v1/customers?email={Uri.EscapeDataString(email)}", key)).Json.GetProperty("data").EnumerateArray());

        // The tenant's data key rotated: what was sealed before still reads, and the next write seals under the new key.
        var tenantId = (await Http.GetAsync("/v1/tenant", key)).Json.GetProperty("id").GetString()!;
        Assert.Equal(404, (await Http.SendAsync(HttpMethod.Post, "/admin/v1/tenants/ten_nobody/data-keys/rotate", PaymentsCluster.AdminToken)).Code);
        var rotated = await Http.SendAsync(HttpMethod.Post, $"/admin/v1/tenants/{tenantId}/data-keys/rotate", PaymentsCluster.AdminToken);
        Assert.True(rotated.Status == HttpStatusCode.OK, rotated.Body);
        Assert.Equal(2, rotated.Json.GetProperty("version").GetInt32());
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT sealed_version FROM customers WHERE id = '{id}'"));
        Assert.Equal(newEmail, (await Http.GetAsync($"/v1/customers?email={Uri.EscapeDataString(newEmail)}", key)).Json.GetProperty("data")[0].GetProperty("email").GetString());
        var writes = 0;
        await Poll.UntilAsync(async () =>
        {
            // Every process picks the new key up within its cache's 30 s; until then a write seals under the old one.
            var r = await Http.SendAsync(HttpMethod.Patch, $"/v1/customers/{id}", key, JsonSerializer.Serialize(new { phone = phone + (++writes % 10) }));
            Assert.True(r.Status == HttpStatusCode.OK, r.Body);
            return await fincore.ScalarAsync($"SELECT sealed_version FROM customers WHERE id = '{id}'") == 2;
        }, TimeSpan.FromSeconds(45), "the customer to be sealed under the new data key", intervalMs: 2000);
        Assert.Equal(name, (await Http.GetAsync($"/v1/customers/{id}", key)).Json.GetProperty("name").GetString());

        // Nowhere in PostgreSQL in plaintext: not the rows, not the grains' state, not an index.
        var dump = await PostgresServer.DumpAsync(fincore.Database);
        Assert.Contains(id, dump); // the dump is of the right database
        AssertNowhere(dump, "pg_dump", name, email, newEmail, document, phone, "Quarenta");

        // Nor in any log line or span of the run (the search above put the address in a URL).
        AssertNowhere(LogsAndSpans(), "the logs and spans", name, email, newEmail, document, phone);
    }

    [Fact]
    public async Task Erasure_leaves_no_trace_of_the_person_keeps_the_ledger_pseudonymous_and_the_audit_chain_verifies()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var admin = PaymentsCluster.AdminToken;
        var (name, email, document, phone) = Person();
        var created = await Http.PostAsync("/v1/customers", key, JsonSerializer.Serialize(new { kind = "individual", name, email, document, phone }));
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
        var (ana, anaAccount) = (created.Json.GetProperty("id").GetString()!, created.Json.GetProperty("account").GetString()!);
        var (_, brunoAccount) = await Customers.CreateAsync(Http, key, "Bruno Lima", Customers.Unique("bruno"));

        // Ana pays with a card into her account, sends it all to Bruno, and opens the app once.
        var charge = await Http.PostAsync("/v1/charges", key,
            JsonSerializer.Serialize(new { amount = 1_000, currency = "BRL", payment_method = "pm_card_visa", account = anaAccount, customer = ana }));
        Assert.True(charge.Status == HttpStatusCode.Accepted, charge.Body);
        await Poll.UntilAsync(async () => (await Http.GetAsync($"/v1/accounts/{anaAccount}", key)).Json.GetProperty("balance").GetInt64() == 1_000,
            TimeSpan.FromSeconds(30), "Ana's account to be funded");
        var transfer = await Customers.TransferAsync(Http, key, anaAccount, brunoAccount, 1_000);
        var token = (await Http.SendAsync(HttpMethod.Post, $"/v1/customers/{ana}/session-tokens", key)).Json.GetProperty("token").GetString()!;
        await Poll.UntilAsync(async () => (await Http.GetAsync($"/v1/notifications?customer={ana}&channel=email", key)).Json.GetProperty("data")
            .EnumerateArray().Count(n => n.GetProperty("status").GetString() == "sent") == 2, TimeSpan.FromSeconds(60), "Ana's two emails to be sent");

        // The export holds everything about her.
        var export = await Http.GetAsync($"/v1/customers/{ana}/export", key);
        Assert.True(export.Status == HttpStatusCode.OK, export.Body);
        var person = export.Json.GetProperty("customer");
        Assert.Equal([name, email, document, phone], new[] { "name", "email", "document", "phone" }.Select(f => person.GetProperty(f).GetString()));
        foreach (var value in new[] { transfer, charge.Json.GetProperty("id").GetString()!, anaAccount })
        {
            Assert.Contains(value, export.Body);
        }

        Assert.Equal(2, export.Json.GetProperty("ledger_entries").GetArrayLength());
        Assert.Single(export.Json.GetProperty("transfers").EnumerateArray());
        Assert.Single(export.Json.GetProperty("charges").EnumerateArray());
        Assert.Single(export.Json.GetProperty("session_tokens").EnumerateArray());
        Assert.True(export.Json.GetProperty("notifications").GetArrayLength() >= 2);

        // An operator reads her only with a reason, and the read is logged with it (as the export was).
        Assert.Equal(400, (await Http.GetAsync($"/admin/v1/tenants/{tenant}/customers/{ana}", admin)).Code);
        Assert.Equal(403, (await Http.GetAsync($"/admin/v1/tenants/{tenant}/customers/{ana}?reason=support%20ticket", key)).Code);
        var read = await Http.GetAsync($"/admin/v1/tenants/{tenant}/customers/{ana}?reason=support%20ticket%20771", admin);
        Assert.True(read.Status == HttpStatusCode.OK, read.Body);
        Assert.Equal(email, read.Json.GetProperty("email").GetString());
        var log = (await Http.GetAsync($"/admin/v1/personal-data-access?tenant={tenant}&customer={ana}", admin)).Json.GetProperty("data");
        Assert.Equal(["read", "export"], log.EnumerateArray().Select(a => a.GetProperty("action").GetString()));
        Assert.Equal("support ticket 771", log[0].GetProperty("reason").GetString());
        Assert.Equal("operator", log[0].GetProperty("actor").GetString());

        // Money in the account: erasure is refused and changes nothing.
        var (carla, carlaAccount) = await Customers.CreateAsync(Http, key, "Carla Dias", Customers.Unique("carla"));
        await Customers.FundAsync(Http, key, carlaAccount, 500);
        var refused = await Http.SendAsync(HttpMethod.Delete, $"/v1/customers/{carla}", key);
        Assert.True(refused.Code == 409, refused.Body);
        Assert.Equal("invalid_state", refused.Json.GetProperty("code").GetString());
        Assert.Equal("Carla Dias", (await Http.GetAsync($"/v1/customers/{carla}", key)).Json.GetProperty("name").GetString());

        // Erased: gone from the API, her session with it; asked again, the same answer.
        var erased = await Http.SendAsync(HttpMethod.Delete, $"/v1/customers/{ana}", key);
        Assert.True(erased.Status == HttpStatusCode.OK, erased.Body);
        Assert.True(erased.Json.GetProperty("deleted").GetBoolean());
        Assert.Equal(200, (await Http.SendAsync(HttpMethod.Delete, $"/v1/customers/{ana}", key)).Code);
        Assert.Equal(404, (await Http.GetAsync($"/v1/customers/{ana}", key)).Code);
        Assert.Equal(404, (await Http.GetAsync($"/v1/customers/{ana}/export", key)).Code);
        Assert.Equal(404, (await Http.GetAsync($"/admin/v1/tenants/{tenant}/customers/{ana}?reason=support%20ticket%20772", admin)).Code);
        Assert.Empty((await Http.GetAsync($"/v1/customers?email={Uri.EscapeDataString(email)}", key)).Json.GetProperty("data").EnumerateArray());
        Assert.Equal(HttpStatusCode.Unauthorized, (await EventStream.OpenAsync(Http, token)).Status);
        Assert.Equal(404, (await Http.SendAsync(HttpMethod.Post, $"/v1/customers/{ana}/session-tokens", key)).Code);

        // The ledger keeps her account's history, pseudonymous.
        var account = await Http.GetAsync($"/v1/accounts/{anaAccount}", key);
        Assert.Equal(ana, account.Json.GetProperty("customer").GetString());
        Assert.Equal(0, account.Json.GetProperty("balance").GetInt64());
        Assert.Equal(2, (await Http.GetAsync($"/v1/accounts/{anaAccount}/entries", key)).Json.GetProperty("data").GetArrayLength());

        // Nothing is sent to her any more: a later charge naming her makes no email.
        var later = await Http.PostAsync("/v1/charges", key, JsonSerializer.Serialize(new { amount = 300, currency = "BRL", payment_method = "pm_card_visa", customer = ana }));
        Assert.True(later.Status == HttpStatusCode.Accepted, later.Body);
        await Poll.UntilAsync(async () => (await Http.GetAsync($"/v1/notifications?customer={ana}&channel=email", key)).Json.GetProperty("data")
            .EnumerateArray().Any(n => n.GetProperty("source").GetString() == later.Json.GetProperty("id").GetString()), TimeSpan.FromSeconds(30),
            "the later charge's notification to be made");
        var last = (await Http.GetAsync($"/v1/notifications?customer={ana}&channel=email&limit=1", key)).Json.GetProperty("data")[0];
        Assert.Equal("skipped", last.GetProperty("status").GetString());
        Assert.Equal(2, fincore.Smtp!.MessagesTo(email).Count);

        // No plaintext of her anywhere in PostgreSQL or in any log or span; the audit chain still verifies.
        AssertNowhere(await PostgresServer.DumpAsync(fincore.Database), "pg_dump", name, email, document, phone, "Quarenta");
        AssertNowhere(LogsAndSpans(), "the logs and spans", name, email, document, phone);
        await Poll.UntilAsync(async () =>
        {
            var verify = await Http.GetAsync($"/admin/v1/audit/verify?tenant={tenant}", admin);
            return verify.Status == HttpStatusCode.OK && verify.Json.GetProperty("ok").GetBoolean() && verify.Json.GetProperty("entries").GetInt64() >= 4;
        }, TimeSpan.FromSeconds(30), "the audit chain to verify");
    }
}
