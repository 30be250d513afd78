using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.LoadGen;

/// <summary>The HTML report opens in headless Chromium (Debian's) with every chart drawn.</summary>
[Collection(LoadGenCollection.Name)]
public sealed class ReportBrowserTests
{
    [Fact]
    public async Task The_html_report_draws_its_charts_in_headless_chromium()
    {
        await using var server = await LoadTestServer.StartAsync();
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--api-key", "fc_sk_test", "--mix", "create=80,get=20",
            "--rate", "200", "--duration", "4s", "--warmup", "1s", "--track-completion", "--poll-interval", "200ms",
            "--threshold", "p99<5s", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var html = Path.Combine(run.OutDir, "report.html");

        var screenshot = await Browser.ScreenshotAsync(new Uri(html).AbsoluteUri, "window.chartsDrawn === true", Path.Combine(run.OutDir, "report.png"), async page =>
        {
            // Every chart has data points and visible ink (not a blank canvas).
            foreach (var id in new[] { "throughput", "latency", "statuses", "completion", "distribution", "generator" })
            {
                var drawn = await page.GetAttributeAsync("#" + id, "data-drawn");
                Assert.True(int.Parse(drawn!, System.Globalization.CultureInfo.InvariantCulture) > 0, $"chart {id} has no points");
                var ink = await page.EvaluateAsync<int>($$"""
                    () => { const c = document.getElementById('{{id}}'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                            let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) n++; return n; }
                    """);
                Assert.True(ink > 500, $"chart {id} shows only {ink} coloured pixels");
            }

            Assert.Equal("PASSED", await page.InnerTextAsync("#verdict"));
            Assert.Contains("warmup", await page.InnerTextAsync("#phases"), StringComparison.Ordinal);
            Assert.True(await page.IsHiddenAsync("#agents-section"), "a single generator's report has no agents table");
        });
        Assert.True(new FileInfo(screenshot).Length > 20_000, "the screenshot shows a rendered page");
    }

    [Fact]
    public async Task A_coordinated_runs_html_report_has_the_agents_table()
    {
        await using var server = await LoadTestServer.StartAsync();
        using var run = await LoadGenProcess.RunAsync("run", "--target", server.Url, "--mix", "ping=1", "--ping-path", "/ping",
            "--rate", "200", "--duration", "3s", "--agents", "2", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var html = Path.Combine(run.OutDir, "report.html");
        await Browser.ScreenshotAsync(new Uri(html).AbsoluteUri, "window.chartsDrawn === true", Path.Combine(run.OutDir, "report.png"), async page =>
        {
            Assert.False(await page.IsHiddenAsync("#agents-section"));
            Assert.Equal(3, await page.Locator("#agents tr").CountAsync());
            Assert.Contains("Coordinator CPU", await page.InnerTextAsync("#agents-note"), StringComparison.Ordinal);
        });
    }
}
