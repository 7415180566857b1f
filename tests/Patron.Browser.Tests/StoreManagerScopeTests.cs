using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Patron.Browser.Tests;

/// <summary>
/// A store manager of chain A (stores A1 and A2) in a real browser: sees only their stores, opens
/// A1's page, then edits URLs to reach chain B's store B1, a B1 cashier, B1's care list,
/// catalogue and audit log, and a chain-B member: each is refused and shows nothing of B1.
/// </summary>
public sealed class StoreManagerScopeTests(BrowserFixture browser, ConsoleHost host) : BrowserTest(browser, host), IClassFixture<ConsoleHost>
{
    [Fact]
    public async Task A_store_manager_sees_only_their_stores_and_every_URL_of_another_chains_store_is_refused()
    {
        using var b1Pos = Host.Terminal(Host.Org.TerminalB1);
        const string bName = "钱乙链";
        var bMember = (await (await b1Pos.PostJson("/api/members", new { name = bName, mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var cashierB1 = await Host.WithDbAsync(db => db.Staff.Where(s => s.Login == "cashier-b1").Select(s => s.Id).SingleAsync());
        var b1 = Host.Org.StoreB1.ToString(CultureInfo.InvariantCulture);

        await SignInAsync("manager-a");
        await Page.Locator("nav a[href='/stores']").ClickAsync();
        var rows = Page.GetByTestId("store-row");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Nth(0)).ToContainTextAsync("A一店");
        await Expect(rows.Nth(1)).ToContainTextAsync("A二店");
        Assert.DoesNotContain("B一店", await Page.ContentAsync());

        await rows.Nth(0).GetByTestId("store-link").ClickAsync();
        await Expect(Page).ToHaveURLAsync($"{Host.BaseUrl}/stores/{Host.Org.StoreA1}");
        await Expect(Page.GetByTestId("store-title")).ToContainTextAsync("A一店");
        await Expect(Page.GetByTestId("terminal-list")).ToContainTextAsync("POS A1");
        await Expect(Page.GetByTestId("store-staff")).ToContainTextAsync("cashier-a1");
        await Expect(Page.GetByTestId("store-edit")).ToHaveCountAsync(0); // read-only for a manager

        foreach (var (url, status) in new (string, int)[]
        {
            ($"/stores/{b1}", 404),
            ($"/staff/{cashierB1}", 404),
            ($"/care?storeId={b1}", 404),
            ($"/catalogue?store={b1}", 404),
            ($"/audit?storeId={b1}", 403),
            ($"/members/{bMember}", 404),
        })
        {
            var response = await Page.GotoAsync(url);
            Assert.True(status == response!.Status, $"{url}: {response.Status}");
            var html = await Page.ContentAsync();
            Assert.DoesNotContain("B一店", html);
            Assert.DoesNotContain("POS B1", html);
            Assert.DoesNotContain("cashier-b1", html);
            Assert.DoesNotContain(bName, html);
        }

        await Expect(Page.GetByTestId("status-page")).ToBeVisibleAsync(); // the last screen: the chain-B member refused
    }
}
