using System.Globalization;
using Patron.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Patron.Browser.Tests;

/// <summary>The pharmacist's care list in a real browser: an overdue follow-up recorded with a reading.</summary>
public sealed class CareTests(BrowserFixture browser, ConsoleHost host) : BrowserTest(browser, host), IClassFixture<ConsoleHost>
{
    [Fact]
    public async Task Pharmacist_records_an_overdue_follow_up_with_a_blood_pressure_reading_and_it_leaves_the_open_list()
    {
        using var a1 = Host.Terminal(Host.Org.TerminalA1);
        var phone = PatronApp.NewPhone();
        var member = (await (await a1.PostJson("/api/members", new { name = "孙慢病", mobile = phone })).ReadJson()).GetProperty("id").GetInt64();
        await a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "store" });
        await a1.PutJson($"/api/members/{member}/health", new { conditions = new[] { "高血压" } });
        var yesterday = DateOnly.FromDateTime(Host.Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).DateTime).AddDays(-1);
        var planned = await a1.PostJson($"/api/members/{member}/care-tasks", new { kind = "call", dueOn = yesterday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), note = "询问血压控制" });
        var task = (await planned.ReadJson()).GetProperty("id").GetInt64();
        var next = await a1.PostJson($"/api/members/{member}/care-tasks", new { kind = "visit", dueOn = yesterday.AddDays(8).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) });
        var later = (await next.ReadJson()).GetProperty("id").GetInt64();

        await SignInAsync("cashier-a1");
        await Page.Locator("nav a[href='/care']").ClickAsync();
        await Expect(Page.Locator("h1")).ToContainTextAsync("慢病关怀");
        var row = Page.Locator($"tr[data-testid='task-row'][data-task-id='{task}']");
        await Expect(row.GetByTestId("overdue")).ToHaveTextAsync("逾期");
        await Expect(row.GetByTestId("task-mobile")).ToHaveTextAsync($"{phone[..3]}****{phone[^4..]}");

        await Expect(Page.Locator($"tr[data-testid='task-row'][data-task-id='{later}'] [data-testid='overdue']")).ToHaveCountAsync(0);

        await row.GetByTestId("record").ClickAsync();
        var form = Page.Locator($"#done-{task}");
        await form.Locator($"#done-{task}-outcome").SelectOptionAsync("reached");
        await form.Locator($"#done-{task}-systolic").FillAsync("138");
        await form.Locator($"#done-{task}-diastolic").FillAsync("88");
        await form.Locator($"#done-{task}-note").FillAsync("血压控制尚可");
        await form.GetByTestId("save-follow-up").ClickAsync();

        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("回访已登记");
        await Expect(Page.Locator($"tr[data-task-id='{task}']")).ToHaveCountAsync(0);
        await Expect(Page.Locator($"tr[data-task-id='{later}']")).ToHaveCountAsync(1); // the visit next week is still to do
        var html = await Page.ContentAsync();
        Assert.DoesNotContain(phone, html);
        Assert.DoesNotContain("血压控制尚可", html);
        Assert.DoesNotContain("询问血压控制", html);
    }
}
