using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Cluster;

/// <summary>What an operator sees of an Orleans cluster on a silo's HTTP port: the Orleans dashboard (operator token
/// only) with every silo on it, and Orleans' meters on /metrics.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OrleansDashboardTests(PostgresServer server)
{
    private const string AdminToken = "operator-token-for-the-dashboard-test";

    [Fact]
    public async Task The_dashboard_shows_both_silos_to_an_operator_and_nothing_to_anyone_else()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 2,
            new Dictionary<string, string> { ["FINCORE_ADMIN_TOKEN"] = AdminToken });
        var silo = cluster.Silos[0];
        var url = $"http://127.0.0.1:{silo.HttpPort}/dashboard/";
        var silosPage = url + "#/silos";
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(url)).StatusCode);
        using (var wrong = new HttpRequestMessage(HttpMethod.Get, url))
        {
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token");
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
        }

        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + AdminToken));
        var silos = cluster.Silos.Select(s => $"127.0.0.1:{s.Port}@").ToArray();
        var ready = string.Join(" && ", silos.Select(s => $"document.body.innerText.includes('{s}')"));
        var png = Path.Combine(Path.GetTempPath(), "fincore-orleans-dashboard.png");
        await Browser.ScreenshotAsync(silosPage, ready, png, async page =>
        {
            var text = await page.InnerTextAsync("body");
            Assert.All(silos, s => Assert.Contains(s, text, StringComparison.Ordinal));
            Assert.Contains("Active Silos", text, StringComparison.OrdinalIgnoreCase);
        }, new Dictionary<string, string> { ["Authorization"] = basic });
    }

    [Fact]
    public async Task Silos_expose_orleans_meters_on_metrics()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 1);
        await cluster.Client.GetGrain<FinCore.Tests.Grains.IProbeGrain>("metrics").Increment();
        using var http = new HttpClient();
        await Poll.UntilAsync(async () =>
        {
            var text = await http.GetStringAsync($"http://127.0.0.1:{cluster.Silos[0].HttpPort}/metrics");
            return text.Contains("orleans_catalog_activations{", StringComparison.Ordinal) && text.Contains("# TYPE", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "Orleans' activation count on /metrics");
    }
}
