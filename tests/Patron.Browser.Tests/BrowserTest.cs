using Microsoft.Playwright;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Browser.Tests;

/// <summary>
/// A fresh browser context per test (its own cookies), on the class's host. The final screen of
/// every test is saved as artifacts/screenshots/{class}.{test}.png at the repository root.
/// </summary>
public abstract class BrowserTest(BrowserFixture browser, ConsoleHost host) : IAsyncLifetime
{
    protected ConsoleHost Host { get; } = host;

    protected IBrowserContext Context { get; private set; } = null!;

    protected IPage Page { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var chromium = browser.Require();
        Context = await chromium.NewContextAsync(new BrowserNewContextOptions { BaseURL = Host.BaseUrl, Locale = "zh-CN", ViewportSize = new() { Width = 1280, Height = 900 } });
        Context.SetDefaultTimeout(15_000);
        Page = await Context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Context is null)
        {
            return;
        }

        try
        {
            var test = TestContext.Current.Test?.TestCase.TestMethod?.MethodName ?? "test";
            var dir = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
            Directory.CreateDirectory(dir);
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, $"{GetType().Name}.{test}.png"), FullPage = true });
        }
        finally
        {
            await Context.CloseAsync();
            GC.SuppressFinalize(this);
        }
    }

    protected async Task SignInAsync(string login)
    {
        await Page.GotoAsync("/login");
        await Page.FillAsync("#login", login);
        await Page.FillAsync("#password", PatronApp.Password);
        await Page.ClickAsync("form:has(#login) button[type=submit]");
        await Assertions.Expect(Page.GetByTestId("whoami")).ToContainTextAsync(login);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Patron.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}
