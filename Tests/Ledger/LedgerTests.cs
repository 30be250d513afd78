using System.Net;
using System.Text;
using System.Text.Json;
using FinCore.Tests.Infrastructure;
using Npgsql;

namespace FinCore.Tests.Ledger;

/// <summary>Customers, accounts, funding and transfers over real HTTP against two silos, the gateway, PostgreSQL and the
/// PSP sandbox (which captures the funding charges).</summary>
[Collection(PspCollection.Name)]
public sealed class LedgerTests(PspCluster fincore) : IAsyncLifetime
{
    private HttpClient Http => fincore.Http;

    public Task InitializeAsync() => SetFaultsAsync(new { });

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task SetFaultsAsync(object faults)
    {
        using var response = await fincore.PspHttp.PutAsync("/admin/faults", new StringContent(JsonSerializer.Serialize(faults), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    // Valid documents (their check digits hold) and one whose last digit is off.
    private const string Cpf = "529.982.247-25";
    private const string BadCpf = "529.982.247-26";
    private const string Cnpj = "11.222.333/0001-81";

    private static string Customer(string name = "Ana Souza", string kind = "individual", string document = Cpf, string email = "ana@example.com", string? phone = "+5511987654321") =>
        JsonSerializer.Serialize(new { kind, name, email, document, phone, metadata = new { crm = "42" } });

    private static string TransferBody(string from, string to, long amount) => JsonSerializer.Serialize(new { from, to, amount, description = "rent" });

    private async Task<(string Customer, string Account)> CreateCustomerAsync(string key, string name = "Ana Souza", string kind = "individual", string? idempotencyKey = null)
    {
        var r = await Http.PostAsync("/v1/customers", key, Customer(name, kind, kind == "merchant" ? Cnpj : Cpf), idempotencyKey);
        Assert.True(r.Status == HttpStatusCode.Created, r.Body);
        return (r.Json.GetProperty("id").GetString()!, r.Json.GetProperty("account").GetString()!);
    }

    private async Task<long> BalanceAsync(string key, string account) =>
        (await Http.GetAsync($"/v1/accounts/{account}", key)).Json.GetProperty("balance").GetInt64();

    /// <summary>Funds an account with a charge (the PSP captures it), and waits for the credit.</summary>
    private async Task FundAsync(string key, string account, long amount)
    {
        var before = await BalanceAsync(key, account);
        var charge = await Http.PostAsync("/v1/charges", key, JsonSerializer.Serialize(new { amount, currency = "BRL", payment_method = "pm_card_visa", account }));
        Assert.True(charge.Status == HttpStatusCode.Accepted, charge.Body);
        Assert.Equal(account, charge.Json.GetProperty("account").GetString());
        await Poll.UntilAsync(async () => await BalanceAsync(key, account) == before + amount, TimeSpan.FromSeconds(30), $"account {account} to be funded");
    }

    [Fact]
    public async Task A_customer_is_created_with_its_account_read_updated_listed_and_replayed_by_key()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var created = await Http.PostAsync("/v1/customers", key, Customer(), idempotencyKey: "signup-1");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var c = created.Json;
        var id = c.GetProperty("id").GetString()!;
        Assert.StartsWith("cus_", id);
        Assert.Equal("customer", c.GetProperty("object").GetString());
        Assert.Equal("52998224725", c.GetProperty("document").GetString());
        Assert.Equal("42", c.GetProperty("metadata").GetProperty("crm").GetString());
        var account = c.GetProperty("account").GetString()!;

        var acct = await Http.GetAsync($"/v1/accounts/{account}", key);
        Assert.Equal(HttpStatusCode.OK, acct.Status);
        Assert.Equal(id, acct.Json.GetProperty("customer").GetString());
        Assert.Equal("BRL", acct.Json.GetProperty("currency").GetString());
        Assert.Equal(0, acct.Json.GetProperty("balance").GetInt64());

        var again = await Http.PostAsync("/v1/customers", key, Customer(), idempotencyKey: "signup-1");
        Assert.Equal(HttpStatusCode.Created, again.Status);
        Assert.Equal(created.Body, again.Body);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        var mismatch = await Http.PostAsync("/v1/customers", key, Customer(name: "Someone Else"), idempotencyKey: "signup-1");
        Assert.Equal(422, mismatch.Code);

        var patched = await Http.SendAsync(HttpMethod.Patch, $"/v1/customers/{id}", key, JsonSerializer.Serialize(new { email = "ana.souza@example.com", phone = "+5521912345678" }));
        Assert.Equal(HttpStatusCode.OK, patched.Status);
        Assert.Equal("ana.souza@example.com", patched.Json.GetProperty("email").GetString());
        Assert.Equal("Ana Souza", patched.Json.GetProperty("name").GetString());
        Assert.Equal(patched.Body, (await Http.GetAsync($"/v1/customers/{id}", key)).Body);

        var (other, _) = await CreateCustomerAsync(key, "Loja Boa", "merchant");
        var list = await Http.GetAsync("/v1/customers?limit=10", key);
        Assert.Equal([other, id], list.Json.GetProperty("data").EnumerateArray().Select(x => x.GetProperty("id").GetString()));
        var byEmail = await Http.GetAsync("/v1/customers?email=ANA.SOUZA@example.com", key);
        Assert.Equal([id], byEmail.Json.GetProperty("data").EnumerateArray().Select(x => x.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Bad_customer_input_is_a_400_problem_and_creates_nothing()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var bodies = new Dictionary<string, string>
        {
            ["document"] = Customer(document: BadCpf),
            ["document "] = Customer(kind: "merchant", document: Cpf), // a CPF is not a CNPJ
            ["document  "] = Customer(document: "111.111.111-11"),
            ["email"] = Customer(email: "ana@"),
            ["phone"] = Customer(phone: "11987654321"),
            ["kind"] = Customer(kind: "robot"),
            ["name"] = JsonSerializer.Serialize(new { kind = "individual", email = "a@example.com", document = Cpf }),
        };
        foreach (var (field, body) in bodies)
        {
            var r = await Http.PostAsync("/v1/customers", key, body);
            Assert.True(r.Code == 400, $"{field}: {r.Code} {r.Body}");
            Assert.Equal("application/problem+json", r.ContentType);
            Assert.True(r.Json.GetProperty("errors").TryGetProperty(field.Trim(), out _), r.Body);
        }

        var (id, _) = await CreateCustomerAsync(key);
        var patch = await Http.SendAsync(HttpMethod.Patch, $"/v1/customers/{id}", key, JsonSerializer.Serialize(new { document = Cpf }));
        Assert.Equal(400, patch.Code);
        Assert.Equal(404, (await Http.GetAsync("/v1/customers/cus_nope", key)).Code);
        Assert.Equal(404, (await Http.GetAsync("/v1/customers/not-an-id", key)).Code);

        await using var db = NpgsqlDataSource.Create(fincore.Database);
        await using var count = db.CreateCommand("SELECT (SELECT count(*) FROM customers WHERE tenant_id = $1), (SELECT count(*) FROM accounts WHERE tenant_id = $1)");
        count.Parameters.AddWithValue(tenant);
        await using var row = await count.ExecuteReaderAsync();
        await row.ReadAsync();
        Assert.Equal((1L, 1L), (row.GetInt64(0), row.GetInt64(1)));
    }

    [Fact]
    public async Task Two_hundred_concurrent_transfers_in_a_ring_conserve_money_and_each_201_is_in_the_ledger_once()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            accounts.Add((await CreateCustomerAsync(key, $"Person {i}")).Account);
        }

        await Task.WhenAll(accounts.Select(a => FundAsync(key, a, 10_000)));
        var random = new Random(23);
        var planned = Enumerable.Range(0, 200).Select(i => (From: accounts[i % 20], To: accounts[(i + 1) % 20], Amount: (long)random.Next(1, 6_000))).ToList();
        var responses = await Task.WhenAll(planned.Select(p => Http.PostAsync("/v1/transfers", key, TransferBody(p.From, p.To, p.Amount))));

        Assert.All(responses, r => Assert.True(r.Code is 201 or 422, r.Body));
        Assert.Contains(responses, r => r.Code == 201);
        Assert.All(responses.Where(r => r.Code == 422), r => Assert.Equal("insufficient_funds", r.Json.GetProperty("code").GetString()));
        var balances = await Task.WhenAll(accounts.Select(a => BalanceAsync(key, a)));
        Assert.All(balances, b => Assert.True(b >= 0));
        Assert.Equal(200_000, balances.Sum());

        // Each balance is what its funding and its succeeded transfers make it.
        var succeeded = responses.Where(r => r.Code == 201).Select(r => r.Json).ToList();
        for (var i = 0; i < 20; i++)
        {
            var expected = 10_000 + succeeded.Where(t => t.GetProperty("to").GetString() == accounts[i]).Sum(t => t.GetProperty("amount").GetInt64())
                - succeeded.Where(t => t.GetProperty("from").GetString() == accounts[i]).Sum(t => t.GetProperty("amount").GetInt64());
            Assert.Equal(expected, balances[i]);
        }

        await using var db = NpgsqlDataSource.Create(fincore.Database);
        // Every succeeded transfer has exactly its four entries, every failed one none; every ledger transaction sums to 0.
        await using (var cmd = db.CreateCommand("""
            SELECT t.id, t.status, count(e.id), coalesce(sum(e.amount), 0) FROM transfers t
            LEFT JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.source = t.id WHERE t.tenant_id = $1 GROUP BY t.id, t.status
            """))
        {
            cmd.Parameters.AddWithValue(tenant);
            await using var r = await cmd.ExecuteReaderAsync();
            var rows = 0;
            while (await r.ReadAsync())
            {
                rows++;
                var ok = succeeded.Any(t => t.GetProperty("id").GetString() == r.GetString(0));
                Assert.Equal(ok ? "succeeded" : "failed", r.GetString(1));
                Assert.Equal(ok ? 4 : 0, r.GetInt64(2));
                Assert.Equal(0, r.GetInt64(3));
            }

            Assert.Equal(200, rows);
        }

        await using (var cmd = db.CreateCommand("SELECT count(*) FROM (SELECT txn_id FROM ledger_entries WHERE tenant_id = $1 GROUP BY txn_id HAVING sum(amount) <> 0) x"))
        {
            cmd.Parameters.AddWithValue(tenant);
            Assert.Equal(0L, await cmd.ExecuteScalarAsync());
        }

        // An account's entries read back newest first, the newest one's balance_after being the balance.
        var entries = await Http.GetAsync($"/v1/accounts/{accounts[0]}/entries?limit=100", key);
        var first = entries.Json.GetProperty("data")[0];
        Assert.Equal(balances[0], first.GetProperty("balance_after").GetInt64());
        Assert.Equal("charge", entries.Json.GetProperty("data").EnumerateArray().Last().GetProperty("type").GetString());
    }

    [Fact]
    public async Task Fifty_concurrent_transfers_with_one_key_make_one_transfer_and_the_same_answer()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (_, from) = await CreateCustomerAsync(key, "Payer");
        var (_, to) = await CreateCustomerAsync(key, "Shop", "merchant");
        await FundAsync(key, from, 5_000);
        var body = TransferBody(from, to, 1_234);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Http.PostAsync("/v1/transfers", key, body, idempotencyKey: "pay-1")));

        Assert.All(responses, r => Assert.Equal(201, r.Code));
        Assert.Single(responses.Select(r => r.Body).Distinct());
        Assert.Equal(49, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(5_000 - 1_234, await BalanceAsync(key, from));
        Assert.Equal(1_234, await BalanceAsync(key, to));
        var id = responses[0].Json.GetProperty("id").GetString();
        Assert.Equal("succeeded", (await Http.GetAsync($"/v1/transfers/{id}", key)).Json.GetProperty("status").GetString());
        Assert.Single((await Http.GetAsync($"/v1/transfers?account={to}", key)).Json.GetProperty("data").EnumerateArray());

        // The same key with another body is refused, and moves nothing.
        var other = await Http.PostAsync("/v1/transfers", key, TransferBody(from, to, 99), idempotencyKey: "pay-1");
        Assert.Equal(422, other.Code);
        Assert.Equal("idempotency_key_mismatch", other.Json.GetProperty("code").GetString());
        Assert.Equal(5_000 - 1_234, await BalanceAsync(key, from));

        // Above the balance: 422, nothing moved, and the same answer again under its key.
        var tooMuch = await Http.PostAsync("/v1/transfers", key, TransferBody(from, to, 10_000), idempotencyKey: "pay-2");
        Assert.Equal(422, tooMuch.Code);
        Assert.Equal("insufficient_funds", tooMuch.Json.GetProperty("code").GetString());
        await FundAsync(key, from, 20_000);
        Assert.Equal("insufficient_funds", (await Http.PostAsync("/v1/transfers", key, TransferBody(from, to, 10_000), idempotencyKey: "pay-2")).Json.GetProperty("code").GetString());
        Assert.Equal(1_234, await BalanceAsync(key, to));
    }

    [Fact]
    public async Task Another_tenants_accounts_customers_and_transfers_are_404_on_every_route()
    {
        var (_, a) = await fincore.CreateTenantAsync();
        var (_, b) = await fincore.CreateTenantAsync();
        var (customerA, accountA) = await CreateCustomerAsync(a, "Alice");
        var (_, accountA2) = await CreateCustomerAsync(a, "Alice's shop", "merchant");
        var (_, accountB) = await CreateCustomerAsync(b, "Bob");
        await FundAsync(a, accountA, 1_000);
        var transfer = await Http.PostAsync("/v1/transfers", a, TransferBody(accountA, accountA2, 100));
        Assert.Equal(201, transfer.Code);
        var transferA = transfer.Json.GetProperty("id").GetString();

        foreach (var path in new[]
        {
            $"/v1/accounts/{accountA}", $"/v1/accounts/{accountA}/entries", $"/v1/accounts/{accountA}/statement?from=2026-01-01&to=2026-12-31",
            $"/v1/customers/{customerA}", $"/v1/transfers/{transferA}",
        })
        {
            Assert.True((await Http.GetAsync(path, b)).Code == 404, path);
        }

        Assert.Empty((await Http.GetAsync($"/v1/transfers?account={accountA}", b)).Json.GetProperty("data").EnumerateArray());
        Assert.Equal(404, (await Http.SendAsync(HttpMethod.Patch, $"/v1/customers/{customerA}", b, """{"name":"Mallory"}""")).Code);
        Assert.Equal(404, (await Http.PostAsync("/v1/transfers", b, TransferBody(accountA, accountB, 10))).Code);
        Assert.Equal(404, (await Http.PostAsync("/v1/transfers", b, TransferBody(accountB, accountA, 10))).Code);
        Assert.Equal(404, (await Http.PostAsync("/v1/charges", b, JsonSerializer.Serialize(new { amount = 10, currency = "BRL", payment_method = "pm_card_visa", account = accountA }))).Code);
        Assert.Equal(900, await BalanceAsync(a, accountA));
        Assert.Equal(0, await BalanceAsync(b, accountB));
    }

    [Fact]
    public async Task Bad_transfers_are_4xx_problems_and_move_nothing()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (_, from) = await CreateCustomerAsync(key, "Payer");
        var (_, to) = await CreateCustomerAsync(key, "Payee");
        await FundAsync(key, from, 1_000);
        var cases = new (string Body, int Code)[]
        {
            (TransferBody(from, from, 10), 400),
            (TransferBody(from, to, -5), 400),
            (TransferBody(from, to, 0), 400),
            (TransferBody(from, to, 999_999_999_999_999), 400),
            (JsonSerializer.Serialize(new { from, to, amount = 10.5 }), 400),
            (JsonSerializer.Serialize(new { from, to, amount = 10, currency = "USD" }), 400),
            (JsonSerializer.Serialize(new { from, to, amount = 10, currency = "XXZ" }), 400),
            (TransferBody("acct_", to, 10), 400),
            (TransferBody("acct_x!y", to, 10), 400),
            (TransferBody(from, "ch_notanaccount", 10), 400),
            (JsonSerializer.Serialize(new { from, amount = 10 }), 400),
            ("[1,2]", 400),
            ("{\"from\":", 400),
            (TransferBody(from, "acct_doesnotexist", 10), 404),
            (TransferBody("acct_doesnotexist", to, 10), 404),
        };
        foreach (var (body, code) in cases)
        {
            var r = await Http.PostAsync("/v1/transfers", key, body);
            Assert.True(r.Code == code, $"{body}: {r.Code} {r.Body}");
            Assert.Equal("application/problem+json", r.ContentType);
        }

        Assert.Equal(1_000, await BalanceAsync(key, from));
        Assert.Equal(0, await BalanceAsync(key, to));
        Assert.Empty((await Http.GetAsync($"/v1/transfers?account={from}", key)).Json.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task An_accounts_statement_has_its_opening_balance_every_entry_and_its_closing_balance()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (_, from) = await CreateCustomerAsync(key, "Payer");
        var (_, to) = await CreateCustomerAsync(key, "Payee");
        await FundAsync(key, from, 3_000);
        Assert.Equal(201, (await Http.PostAsync("/v1/transfers", key, TransferBody(from, to, 700))).Code);
        Assert.Equal(201, (await Http.PostAsync("/v1/transfers", key, TransferBody(to, from, 200))).Code);

        var today = DateTime.UtcNow.Date;
        var range = $"from={today:yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var csv = await Http.SendAsync(HttpMethod.Get, $"/v1/accounts/{from}/statement?{range}", key, headers: new Dictionary<string, string> { ["Accept"] = "text/csv" });
        Assert.Equal(200, csv.Code);
        Assert.Equal("text/csv", csv.ContentType);
        var lines = csv.Body.TrimEnd('\n').Split('\n');
        Assert.Equal("id,created_at,type,source,amount,balance_after", lines[0]);
        Assert.EndsWith(",0", lines[1]);
        Assert.StartsWith("opening_balance,", lines[1]);
        Assert.Equal(["3000", "-700", "200"], lines[2..^1].Select(l => l.Split(',')[4]));
        Assert.Equal(["3000", "2300", "2500"], lines[2..^1].Select(l => l.Split(',')[5]));
        Assert.Equal("closing_balance", lines[^1].Split(',')[0]);
        Assert.EndsWith(",2500", lines[^1]);

        // A later period opens with the balance this one closed with, and has no entries.
        var later = await Http.GetAsync($"/v1/accounts/{from}/statement?from={today.AddDays(1):yyyy-MM-dd}&to={today.AddDays(2):yyyy-MM-dd}", key);
        Assert.Equal(["opening_balance", "closing_balance"], later.Body.TrimEnd('\n').Split('\n')[1..].Select(l => l.Split(',')[0]));
        Assert.All(later.Body.TrimEnd('\n').Split('\n')[1..], l => Assert.EndsWith(",2500", l));
        Assert.Equal(400, (await Http.GetAsync($"/v1/accounts/{from}/statement?from=2026-13-01&to=2027-01-01", key)).Code);
    }
}
