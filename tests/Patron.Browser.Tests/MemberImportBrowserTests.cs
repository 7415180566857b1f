using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Patron.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Patron.Browser.Tests;

/// <summary>Head office imports members in a real browser: check the file first, then import its good rows, following the progress.</summary>
public sealed class MemberImportBrowserTests(BrowserFixture browser, ConsoleHost host) : BrowserTest(browser, host), IClassFixture<ConsoleHost>
{
    [Fact]
    public async Task Admin_checks_a_member_file_then_imports_its_good_rows_and_watches_the_progress_reach_done()
    {
        var phones = Enumerable.Range(0, 30).Select(_ => PatronApp.NewPhone()).ToList();
        var csv = "姓名,手机号,积分\r\n" + string.Concat(phones.Select((p, i) => $"导入{i},{p},100\r\n")) + "坏行,12345,100\r\n";
        var before = await Host.MemberCountAsync();
        await SignInAsync("admin");
        await Page.Locator("nav a[href='/import']").ClickAsync();
        await Expect(Page.Locator("h1")).ToHaveTextAsync("会员导入");
        await Expect(Page.Locator("#checkOnly")).ToBeCheckedAsync(); // validation first

        await Page.Locator("#file").SetInputFilesAsync(new FilePayload { Name = "members.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv) });
        await Page.GetByTestId("upload-form").Locator("button[type=submit]").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex(@"/import\?job=\d+$"));
        var checkId = Page.Url.Split("job=")[1];
        var panel = Page.GetByTestId("job-panel");
        await Expect(panel.GetByTestId("job-status")).ToHaveTextAsync("已完成", new() { Timeout = 30_000 });
        await Expect(panel.GetByTestId("job-rows")).ToHaveTextAsync("31");
        await Expect(panel.GetByTestId("job-imported")).ToHaveTextAsync("30");
        await Expect(panel.GetByTestId("job-refused")).ToHaveTextAsync("1");
        await Expect(panel.GetByTestId("job-errors")).ToContainTextAsync("手机号无效");
        await Expect(panel.GetByTestId("error-report")).ToHaveAttributeAsync("href", $"/api/imports/{checkId}/errors.csv");
        Assert.Equal(before, await Host.MemberCountAsync());

        // Import these rows: a new run from the same file; the page follows it until it is done.
        await panel.GetByTestId("import-checked").Locator("button").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex(@"/import\?job=(?!" + checkId + @"$)\d+$"));
        await Expect(panel).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 30_000 });
        await Expect(panel.GetByTestId("job-progress")).ToHaveTextAsync("100%");
        await Expect(panel.GetByTestId("job-imported")).ToHaveTextAsync("30");
        await Expect(panel.GetByTestId("job-refused")).ToHaveTextAsync("1");
        await Expect(panel).Not.ToHaveAttributeAsync("hx-trigger", "every 1s");
        await Expect(Page.GetByTestId("job-row")).ToHaveCountAsync(2);
        Assert.Equal(before + 30, await Host.MemberCountAsync());
        Assert.DoesNotContain(phones[0], await Page.ContentAsync());
    }
}
