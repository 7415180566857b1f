using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(Patron.Browser.Tests.BrowserFixture))]

namespace Patron.Browser.Tests;

/// <summary>
/// One headless Chromium for the run: Debian's /usr/bin/chromium (or PATRON_CHROMIUM) driven by
/// Playwright. Without a browser the tests skip, unless PATRON_REQUIRE_BROWSER=1 (CI) makes that
/// a failure.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public static string ExecutablePath => Environment.GetEnvironmentVariable("PATRON_CHROMIUM") ?? "/usr/bin/chromium";

    public static bool Required => Environment.GetEnvironmentVariable("PATRON_REQUIRE_BROWSER") == "1";

    public IBrowser? Browser { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath) && !Required)
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }

    public IBrowser Require()
    {
        if (Browser is null)
        {
            Assert.Skip($"No browser at {ExecutablePath} (install Debian's chromium, or set PATRON_CHROMIUM).");
        }

        return Browser;
    }
}
