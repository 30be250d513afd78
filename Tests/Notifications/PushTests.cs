using System.Diagnostics;
using System.Net;
using FinCore.Tests.Infrastructure;
using Npgsql;

namespace FinCore.Tests.Notifications;

/// <summary>Push over real processes: customer session tokens, the Server-Sent Events stream on one gateway and on
/// another, a gateway killed and started again, and the demo wallet page in headless Chromium.</summary>
[Collection(PspCollection.Name)]
public sealed class PushTests(PspCluster fincore)
{
    private HttpClient Http => fincore.Http;

    private async Task<(string Id, string Token)> MintAsync(string key, string customer, string? body = null)
    {
        var r = body is null
            ? await Http.SendAsync(HttpMethod.Post, $"/v1/customers/{customer}/session-tokens", key)
            : await Http.PostAsync($"/v1/customers/{customer}/session-tokens", key, body);
        Assert.True(r.Status == HttpStatusCode.Created, r.Body);
        Assert.Equal(customer, r.Json.GetProperty("customer").GetString());
        var token = r.Json.GetProperty("token").GetString()!;
        Assert.StartsWith("cst_", token);
        return (r.Json.GetProperty("id").GetString()!, token);
    }

    private static async Task<EventStream> OpenAsync(HttpClient http, string token, string? lastEventId = null)
    {
        var (stream, status, body) = await EventStream.OpenAsync(http, token, lastEventId);
        Assert.True(stream is not null, $"{status}: {body}");
        return stream;
    }

    private static (string Kind, string Source) Of(ServerSentEvent e) =>
        (e.Json.GetProperty("kind").GetString()!, e.Json.GetProperty("source").GetString()!);

    [Fact]
    public async Task A_session_token_streams_its_own_customers_notifications_and_opens_nothing_else()
    {
        var (key, ana, anaAccount, _, bruno, brunoAccount, _) = await Customers.TwoAsync(fincore);
        var (anaSession, anaToken) = await MintAsync(key, ana);
        var (_, brunoToken) = await MintAsync(key, bruno, """{ "expires_in": 300 }""");
        await using var anaStream = await OpenAsync(Http, anaToken);
        await using var brunoStream = await OpenAsync(Http, brunoToken);

        var first = await Customers.TransferAsync(Http, key, anaAccount, brunoAccount, 1_000);
        await brunoStream.NotificationsAsync(1, TimeSpan.FromSeconds(30), "Bruno's first notification");
        var back = await Customers.TransferAsync(Http, key, brunoAccount, anaAccount, 400);

        // Each stream carries its own customer's side of both transfers, in order, and nothing of the other's.
        var toAna = await anaStream.NotificationsAsync(2, TimeSpan.FromSeconds(30), "Ana's two notifications");
        var toBruno = await brunoStream.NotificationsAsync(2, TimeSpan.FromSeconds(30), "Bruno's two notifications");
        Assert.Equal(new[] { ("transfer.sent", first), ("transfer.received", back) }, toAna.Select(Of));
        Assert.Equal(new[] { ("transfer.received", first), ("transfer.sent", back) }, toBruno.Select(Of));
        Assert.All(toAna, e => Assert.Equal(ana, e.Json.GetProperty("customer").GetString()));
        Assert.Equal(1_000, toAna[0].Json.GetProperty("amount").GetInt64());
        Assert.True(long.Parse(toAna[1].Id!) > long.Parse(toAna[0].Id!));

        // Delivered: the delivery log says so, once, on the push channel.
        var push = (await Http.GetAsync($"/v1/notifications?customer={ana}&channel=push", key)).Json.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(2, push.Count);
        Assert.All(push, n => Assert.Equal("delivered", n.GetProperty("status").GetString()));
        Assert.All(push, n => Assert.Equal(1, n.GetProperty("attempts").GetInt32()));

        // A session token is no API key: every tenant route and operator route refuses it.
        foreach (var path in new[] { $"/v1/customers/{ana}", $"/v1/customers/{bruno}", "/v1/notifications", $"/v1/accounts/{anaAccount}", "/v1/charges",
                     "/admin/v1/cluster" })
        {
            var r = await Http.GetAsync(path, anaToken);
            Assert.True(r.Code == 401, $"{path}: {r.Code} {r.Body}");
        }

        Assert.Equal(401, (await Http.PostAsync($"/v1/customers/{bruno}/session-tokens", anaToken, "{}")).Code);

        // Revoked: refused at once; the other customer's session lives on.
        Assert.Equal(204, (await Http.SendAsync(HttpMethod.Delete, $"/v1/customers/{ana}/session-tokens/{anaSession}", key)).Code);
        var revoked = await EventStream.OpenAsync(Http, anaToken);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.Status);
        Assert.Contains("problem", (await Http.GetAsync("/v1/notifications/stream", anaToken)).ContentType);
        var stillBruno = await EventStream.OpenAsync(Http, brunoToken);
        Assert.Equal(HttpStatusCode.OK, stillBruno.Status);
        await stillBruno.Stream!.DisposeAsync();

        // Expired: the token's minutes are up (set in the store, as the clock would).
        var (_, later) = await MintAsync(key, ana);
        await using (var conn = new NpgsqlConnection(fincore.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "UPDATE customer_session_tokens SET expires_at = now() - interval '1 second' WHERE tenant_id = (SELECT tenant_id FROM customers WHERE id = $1) AND customer_id = $1",
                conn);
            cmd.Parameters.AddWithValue(ana);
            await cmd.ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await EventStream.OpenAsync(Http, later)).Status);

        // Bad input is refused and mints nothing.
        var (_, otherKey) = await fincore.CreateTenantAsync();
        Assert.Equal(404, (await Http.SendAsync(HttpMethod.Post, $"/v1/customers/{ana}/session-tokens", otherKey)).Code);
        Assert.Equal(404, (await Http.SendAsync(HttpMethod.Post, "/v1/customers/cus_nobody/session-tokens", key)).Code);
        foreach (var body in new[] { """{ "expires_in": 5 }""", """{ "expires_in": 86400 }""", """{ "expires_in": "600" }""", """{ "scope": "all" }""" })
        {
            var r = await Http.PostAsync($"/v1/customers/{ana}/session-tokens", key, body);
            Assert.True(r.Code == 400, $"{body}: {r.Code} {r.Body}");
        }

        var live = (await Http.GetAsync($"/v1/customers/{ana}/session-tokens", key)).Json.GetProperty("data");
        Assert.Equal(0, live.GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await EventStream.OpenAsync(Http, brunoToken, "not-a-number")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await EventStream.OpenAsync(Http, "cst_" + new string('x', 43))).Status);
    }

    [Fact]
    public async Task The_wallet_page_shows_a_transfer_within_a_second_and_resumes_after_its_gateway_is_killed_with_nothing_lost_or_shown_twice()
    {
        var (key, _, anaAccount, _, bruno, brunoAccount, _) = await Customers.TwoAsync(fincore);
        var (_, token) = await MintAsync(key, bruno);
        var (other, otherHttp) = await fincore.StartAnotherGatewayAsync();
        try
        {
            Assert.True(File.Exists(Browser.Chromium), $"{Browser.Chromium} is missing: ops/lib/ensure-deps installs Debian's chromium");
            using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Browser.Chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            });
            var page = await browser.NewPageAsync();
            await page.GotoAsync($"{Http.BaseAddress}demo/wallet#token={token}");
            await page.WaitForFunctionAsync("document.body.dataset.state === 'live'", null, new() { Timeout = 30_000 });

            // Shown within a second of the transfer's answer.
            var clock = Stopwatch.StartNew();
            var first = await Customers.TransferAsync(Http, key, anaAccount, brunoAccount, 250);
            var answered = clock.Elapsed;
            await page.WaitForSelectorAsync($"li[data-source='{first}']", new() { Timeout = 30_000 });
            var shown = clock.Elapsed - answered;
            Assert.True(shown <= TimeSpan.FromSeconds(1), $"shown {shown.TotalMilliseconds:F0} ms after the transfer's answer");
            Assert.Contains("R$", await page.InnerTextAsync($"li[data-source='{first}']"));

            // The page's gateway is killed; money moves through the other one meanwhile; then the gateway is back.
            await fincore.Gateway.DisposeAsync();
            var whileDown = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                whileDown.Add(await Customers.TransferAsync(otherHttp, key, anaAccount, brunoAccount, 100 + i));
            }

            await fincore.StartGatewayAsync();
            var after = await Customers.TransferAsync(Http, key, anaAccount, brunoAccount, 50);
            await page.WaitForSelectorAsync($"li[data-source='{after}']", new() { Timeout = 60_000 });
            await page.WaitForFunctionAsync("document.body.dataset.state === 'live'", null, new() { Timeout = 30_000 });

            // Every transfer exactly once, newest first.
            var shownSources = await page.EvalOnSelectorAllAsync<string[]>("#feed li", "els => els.map(e => e.dataset.source)");
            Assert.Equal(new[] { after }.Concat(Enumerable.Reverse(whileDown)).Append(first), shownSources);

            // Any gateway resumes any customer's stream: the other one, from the first event, sends exactly the rest.
            var firstId = await page.EvaluateAsync<string>("lastEventId"); // the page's place: the newest it showed
            await using var resumed = await OpenAsync(otherHttp, token, "0");
            var replay = await resumed.NotificationsAsync(5, TimeSpan.FromSeconds(30), "the whole history from the other gateway");
            Assert.Equal(new[] { first }.Concat(whileDown).Append(after), replay.Select(e => Of(e).Source));
            Assert.Equal(firstId, replay[^1].Id);
            await using var tail = await OpenAsync(otherHttp, token, replay[0].Id);
            var rest = await tail.NotificationsAsync(4, TimeSpan.FromSeconds(30), "the rest after the first");
            Assert.Equal(whileDown.Append(after), rest.Select(e => Of(e).Source));
        }
        finally
        {
            otherHttp.Dispose();
            await other.DisposeAsync();
            if (fincore.Gateway.HasExited)
            {
                await fincore.StartGatewayAsync(); // the next test needs it
            }
        }
    }

    [Fact]
    public async Task LoadGen_holds_every_customers_stream_open_and_reports_each_transfers_two_notifications_once_with_their_lag()
    {
        using var run = await LoadGenProcess.RunAsync("run", "--target", Http.BaseAddress!.ToString().TrimEnd('/'),
            "--admin-token", PaymentsCluster.AdminToken, "--tenants", "1", "--mix", "transfer=1", "--accounts", "5", "--hot-share", "0.2",
            "--rate", "20", "--duration", "3s", "--push-streams", "100", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        // Five payers and the merchant: every customer has a stream, so each transfer arrives twice (payer and payee).
        var transfers = run.Report.GetProperty("status_codes").GetProperty("201").GetInt64();
        var push = run.Report.GetProperty("push");
        Assert.True(transfers >= 40, $"{transfers} transfers");
        Assert.Equal(6, push.GetProperty("streams").GetInt32());
        Assert.Equal(2 * transfers, push.GetProperty("expected").GetInt64());
        Assert.Equal(2 * transfers, push.GetProperty("notifications").GetInt64());
        Assert.Equal(0, push.GetProperty("duplicates").GetInt64());
        Assert.Equal(2 * transfers, push.GetProperty("lag").GetProperty("count").GetInt64());
        Assert.Contains("push lag", run.Stdout);
    }
}
