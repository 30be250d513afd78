using Microsoft.Playwright;

namespace FinCore.Tests.Infrastructure;

/// <summary>Debian's Chromium, headless, driven by Playwright (never a downloaded browser).</summary>
internal static class Browser
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>Opens <paramref name="url"/>, waits for <paramref name="readyExpression"/>, runs the checks, saves a full-page screenshot.</summary>
    public static async Task<string> ScreenshotAsync(string url, string readyExpression, string pngPath, Func<IPage, Task> checks, IDictionary<string, string>? headers = null)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ops/lib/ensure-deps installs Debian's chromium");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            ExtraHTTPHeaders = headers,
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync(url);
        await page.WaitForFunctionAsync(readyExpression, null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        await checks(page);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = pngPath, FullPage = true });
        return pngPath;
    }
}
