using System.Globalization;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Operators;

[Collection(PspCollection.Name)]
public sealed class DashboardTests(PspCluster fincore)
{
    [Fact]
    public async Task The_dashboard_shows_every_silo_a_rising_request_count_and_the_ledger_volume_while_traffic_flows()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var customer = await fincore.Http.PostAsync("/v1/customers", key,
            System.Text.Json.JsonSerializer.Serialize(new { kind = "individual", name = "Ana Souza", email = "ana@example.com", document = "52998224725" }));
        var account = customer.Json.GetProperty("account").GetString();
        using var stop = new CancellationTokenSource();
        var sent = 0;
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Each charge funds the account when it succeeds: a ledger transaction.
                var created = await fincore.Http.PostAsync("/v1/charges", key, System.Text.Json.JsonSerializer.Serialize(
                    new { amount = 1999, currency = "BRL", payment_method = $"pm_dash_{sent}", account }));
                Interlocked.Increment(ref sent);
                await fincore.Http.GetAsync("/v1/charges/" + created.Json.GetProperty("id").GetString(), key);
                await Task.Delay(20);
            }
        });

        try
        {
            var url = $"{fincore.Http.BaseAddress}dashboard#token={PaymentsCluster.AdminToken}";
            var png = Path.Combine(Path.GetTempPath(), $"fincore-dashboard-{Guid.NewGuid():N}.png");
            await Browser.ScreenshotAsync(url, "window.dashboardUpdates >= 2", png, async page =>
            {
                // Every running silo is listed, Active, with its activations.
                var silos = fincore.Cluster.Silos.Where(s => !s.HasExited).ToList();
                await page.WaitForFunctionAsync($"document.querySelectorAll('#silos tr[data-silo] .pill.active').length === {silos.Count}");
                var rows = await page.Locator("#silos tr[data-silo]").AllInnerTextsAsync();
                foreach (var silo in silos)
                {
                    Assert.Contains(rows, r => r.Contains($"127.0.0.1:{silo.Port}", StringComparison.Ordinal));
                }

                // Each live silo links to the Orleans dashboard on its HTTP port.
                var links = await page.Locator("#silos tr[data-silo] a").EvaluateAllAsync<string[]>("as => as.map(a => a.href)");
                foreach (var silo in silos)
                {
                    Assert.Contains($"http://127.0.0.1:{silo.HttpPort}/dashboard", links);
                }

                // The request count rises while traffic flows, and the charts have points.
                var first = await RequestsAsync(page);
                await page.WaitForFunctionAsync($"Number(document.getElementById('requests-total').textContent.replace(/,/g, '')) > {first + 10}");
                Assert.True(await RequestsAsync(page) > first);
                await page.WaitForFunctionAsync("Number(document.getElementById('rate-chart').dataset.points) > 3");
                Assert.NotEqual("–", await page.InnerTextAsync("#rate"));
                Assert.Contains("charge.", await page.InnerTextAsync("#psp"), StringComparison.Ordinal);

                // The funding credits show as ledger volume.
                await page.WaitForFunctionAsync("document.getElementById('ledger').innerText.includes('charge')");
                Assert.NotEqual("–", await page.InnerTextAsync("#ledger-rate"));
            });
            Assert.True(new FileInfo(png).Length > 20_000);
        }
        finally
        {
            await stop.CancelAsync();
            await traffic;
        }

        Assert.True(sent > 0);
    }

    [Fact]
    public async Task The_dashboard_data_needs_the_operator_token()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        Assert.Equal(401, (await fincore.Http.GetAsync("/admin/v1/dashboard", null)).Code);
        Assert.Equal(403, (await fincore.Http.GetAsync("/admin/v1/dashboard", key)).Code);
        var page = await fincore.Http.GetAsync("/dashboard", null);
        Assert.Equal(200, page.Code);
        Assert.DoesNotContain(PaymentsCluster.AdminToken, page.Body, StringComparison.Ordinal);
    }

    private static async Task<long> RequestsAsync(Microsoft.Playwright.IPage page) =>
        long.Parse((await page.InnerTextAsync("#requests-total")).Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
}
