using Patron.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Patron.Browser.Tests;

/// <summary>Head office changes the program in a real browser: draft from the rules in force, a tier threshold, simulation, publication.</summary>
public sealed class ProgramSettingsBrowserTests(BrowserFixture browser, ConsoleHost host) : BrowserTest(browser, host), IClassFixture<ConsoleHost>
{
    private const string Program = """
        {
          "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01",
          "tiers": [
            { "code": "standard", "name": "普通" },
            { "code": "silver", "name": "银卡", "qualification": { "kind": "cumulative_points", "threshold": 100000 }, "percentOff": 10 }
          ],
          "pricing": { "discounts": [ { "id": "lunar", "name": "农历会员日", "percentOff": 5, "when": { "lunarDaysOfMonth": [8, 18, 28] } } ] }
        }
        """;

    [Fact]
    public async Task Head_office_makes_a_draft_from_the_rules_in_force_lowers_a_tier_threshold_simulates_and_publishes()
    {
        await Host.WithDbAsync(async db =>
        {
            // Version 1 in force since a minute ago.
            var now = Host.Clock.GetUtcNow().UtcDateTime.AddMinutes(-1);
            var version = new Patron.Domain.Programs.ProgramVersion(Host.Org.ProgramA, 1, Patron.Domain.Programs.ProgramFile.Parse(Program), null, now, publishedBefore: 0);
            version.Publish(null, now, order: 1);
            db.ProgramVersions.Add(version);
            return await db.SaveChangesAsync();
        });
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Patron.Server.Features.Programs.ProgramRules.PublishedCache>(Host.Services).Programs.Clear();
        using var a1 = Host.Terminal(Host.Org.TerminalA1);
        var member = (await (await a1.PostJson("/api/members", new { name = "周积分", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var sale = await a1.PostJson("/api/checkout/sales", new { orderNumber = "SET-1", memberId = member, lines = new[] { new { sku = "X", quantity = 10, unitPrice = 600_000 } } });
        Assert.True(sale.IsSuccessStatusCode, await sale.ReadText());

        await SignInAsync("admin");
        await Page.Locator("nav a[href='/programs']").ClickAsync();
        await Page.GetByTestId("program-CHAIN-A").GetByTestId("new-draft").ClickAsync();
        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("已从现行版本新建草稿版本 2");
        await Expect(Page.Locator("h1")).ToContainTextAsync("方案设置");
        await Expect(Page.GetByTestId("status")).ToHaveTextAsync("草稿");
        await Expect(Page.GetByTestId("calendar").Locator("td[data-member-day='true']").First).ToBeVisibleAsync();

        var threshold = Page.GetByTestId("tiers[1].qualification.threshold");
        await Expect(threshold).ToHaveValueAsync("100000");
        await threshold.FillAsync("-1");
        await Page.GetByTestId("save").ClickAsync();
        await Expect(Page.GetByTestId("error-tiers[1].qualification.threshold")).ToContainTextAsync("不能为负");

        // Stored value with two bonus tiers: the empty row and one more from "add a row" (which keeps what was typed).
        await Page.GetByTestId("storedValue.enabled").CheckAsync();
        await Page.GetByTestId("storedValue.bonusTiers[0].minimum").FillAsync("50000");
        await Page.GetByTestId("add-storedValue.bonusTiers").ClickAsync();
        await Expect(Page.GetByTestId("storedValue.bonusTiers[0].minimum")).ToHaveValueAsync("50000");
        await Page.GetByTestId("storedValue.bonusTiers[0].bonus").FillAsync("5000");
        await Page.GetByTestId("storedValue.bonusTiers[1].minimum").FillAsync("100000");
        await Page.GetByTestId("storedValue.bonusTiers[1].bonus").FillAsync("15000");

        await Page.GetByTestId("tiers[1].qualification.threshold").FillAsync("50000");
        await Page.GetByTestId("save").ClickAsync();
        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("草稿版本 2 已保存");
        await Expect(Page.GetByTestId("storedValue.enabled")).ToBeCheckedAsync();
        await Expect(Page.GetByTestId("storedValue.bonusTiers[1].bonus")).ToHaveValueAsync("15000");

        // The simulation runs as a job: its page follows it, shows the report, and leads back to publish.
        await Page.GetByTestId("simulate").ClickAsync();
        await Expect(Page.GetByTestId("job-panel")).ToBeVisibleAsync();
        var simulation = Page.GetByTestId("simulation");
        await Expect(simulation).ToContainTextAsync("现行规则 (v1)");
        await Expect(simulation).ToContainTextAsync("本版本 (v2)");
        await Expect(simulation).ToContainTextAsync("silver 1"); // 60,000 points earned: silver under the draft, standard under v1
        await Expect(Page.GetByTestId("job-status")).ToHaveTextAsync("已完成");
        await Page.GetByTestId("job-back").ClickAsync();
        await Page.GetByTestId("publish").ClickAsync();

        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("版本 2 已发布");
        await Expect(Page.GetByTestId("status")).ToHaveTextAsync("已发布");
        await Expect(Page.GetByTestId("in-force")).ToBeVisibleAsync();
        await Expect(Page.GetByTestId("in-force-version")).ToContainTextAsync("v2");
        await Expect(Page.GetByTestId("tiers[1].qualification.threshold")).ToHaveValueAsync("50000");
        await Expect(Page.GetByTestId("tiers[1].qualification.threshold")).ToBeDisabledAsync();
    }
}
