using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Patron.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Patron.Browser.Tests;

/// <summary>The counter's first journeys in a real browser: sign in, enrol, find, scope, language.</summary>
public sealed class MemberDeskTests(BrowserFixture browser, ConsoleHost host) : BrowserTest(browser, host), IClassFixture<ConsoleHost>
{
    [Fact]
    public async Task Cashier_enrols_a_member_then_finds_them_by_phone_as_they_type()
    {
        var phone = PatronApp.NewPhone();
        await SignInAsync("cashier-a1");
        await Page.GotoAsync("/members");
        await Expect(Page.Locator("h2", new() { HasText = "新会员登记" })).ToBeVisibleAsync();

        var form = Page.GetByTestId("enrol-form");
        await form.Locator("#Enrol_Name").FillAsync("王小明");
        await form.Locator("#Enrol_Mobile").FillAsync(phone);
        await form.Locator("#Enrol_Birthday").FillAsync("1985-06-01");
        await form.Locator("button[type=submit]").ClickAsync();

        await Expect(Page).ToHaveURLAsync(new Regex(@"/members/\d+$"));
        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("会员登记成功：王小明");
        await Expect(Page.GetByTestId("member-mobile")).ToHaveTextAsync($"{phone[..3]}****{phone[^4..]}");
        await Expect(Page.GetByTestId("card-number")).ToHaveTextAsync(new Regex(@"^8801\d{9}$"));
        Assert.DoesNotContain(phone, await Page.ContentAsync());

        await Page.GotoAsync("/members");
        await Page.Locator("#q").PressSequentiallyAsync(phone);
        var result = Page.GetByTestId("member-result");
        await Expect(result).ToHaveCountAsync(1);
        await Expect(result).ToContainTextAsync("王小明");
        await Expect(result.GetByTestId("result-mobile")).ToHaveTextAsync($"{phone[..3]}****{phone[^4..]}");

        await Page.Locator("#q").FillAsync("13900000000");
        await Expect(Page.GetByTestId("no-results")).ToHaveTextAsync("未找到会员。");
    }

    [Fact]
    public async Task Invalid_enrolment_shows_errors_in_Chinese_keeps_the_input_and_saves_nothing()
    {
        var before = await Host.MemberCountAsync();
        await SignInAsync("cashier-a1");
        await Page.GotoAsync("/members");

        var form = Page.GetByTestId("enrol-form");
        await form.Locator("#Enrol_Name").FillAsync("李四");
        await form.Locator("#Enrol_Mobile").FillAsync("12345");
        await form.Locator("#Enrol_IdNumber").FillAsync("110105194912310021");
        await form.Locator("button[type=submit]").ClickAsync();

        await Expect(Page.Locator("#Enrol_Mobile")).ToHaveClassAsync(new Regex("is-invalid"));
        await Expect(Page.Locator(".invalid-feedback", new() { HasText = "手机号格式不正确" })).ToBeVisibleAsync();
        await Expect(Page.Locator(".invalid-feedback", new() { HasText = "身份证号无效" })).ToBeVisibleAsync();
        await Expect(Page.Locator("#Enrol_Name")).ToHaveValueAsync("李四");
        Assert.Equal(before, await Host.MemberCountAsync());
    }

    [Fact]
    public async Task A_store_manager_cannot_open_another_programs_member_by_editing_the_URL()
    {
        using var b1 = Host.Terminal(Host.Org.TerminalB1);
        var created = await b1.PostJson("/api/members", new { name = "赵外店", mobile = PatronApp.NewPhone() });
        var id = (await created.ReadJson()).GetProperty("id").GetInt64();

        await SignInAsync("manager-a");
        await Expect(Page.Locator("nav a[href='/staff']")).ToHaveCountAsync(0); // staff admin is for admins
        var response = await Page.GotoAsync($"/members/{id}");

        Assert.Equal(404, response!.Status);
        await Expect(Page.GetByTestId("status-page")).ToContainTextAsync("不在您的门店范围内");
        Assert.DoesNotContain("赵外店", await Page.ContentAsync());

        response = await Page.GotoAsync("/staff");
        await Expect(Page).ToHaveURLAsync(new Regex("/denied"));
        Assert.Equal(403, response!.Status);
    }

    [Fact]
    public async Task The_language_switch_turns_the_console_to_English_and_back()
    {
        await SignInAsync("admin");
        await Page.GotoAsync("/members");
        await Expect(Page.Locator("nav a[href='/members']")).ToHaveTextAsync("会员");

        await Page.Locator("#culture-form button").ClickAsync();
        await Expect(Page.Locator("nav a[href='/members']")).ToHaveTextAsync("Members");
        await Expect(Page.Locator("html")).ToHaveAttributeAsync("lang", "en");
        await Expect(Page.Locator("h2", new() { HasText = "Enrol a new member" })).ToBeVisibleAsync();

        await Page.GotoAsync("/stores"); // the choice sticks across pages
        await Expect(Page.Locator("nav a[href='/stores']")).ToHaveTextAsync("Stores");

        await Page.Locator("#culture-form button").ClickAsync();
        await Expect(Page.Locator("nav a[href='/stores']")).ToHaveTextAsync("门店");
    }
    [Fact]
    public async Task Cashier_reports_a_card_lost_and_replaces_it_and_the_old_number_is_refused()
    {
        await Host.WithDbAsync(async db =>
        {
            if (!await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.ProgramVersions))
            {
                // Identify needs a program in force: publish a plain one for chain A, at the host's clock.
                var rules = Patron.Domain.Programs.ProgramFile.Parse("""{ "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01", "tiers": [ { "code": "standard", "name": "普通" } ] }""");
                var now = Host.Clock.GetUtcNow().UtcDateTime.AddMinutes(-1);
                var version = new Patron.Domain.Programs.ProgramVersion(Host.Org.ProgramA, 1, rules, null, now, publishedBefore: 0);
                version.Publish(null, now, order: 1);
                db.ProgramVersions.Add(version);
                await db.SaveChangesAsync();
            }

            return 0;
        });

        // Published behind the API's back: drop what the server has cached about the program.
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Patron.Server.Features.Programs.ProgramRules.PublishedCache>(Host.Services).Programs.Clear();

        using var a1 = Host.Terminal(Host.Org.TerminalA1);
        var created = await a1.PostJson("/api/members", new { name = "陈补卡", mobile = PatronApp.NewPhone() });
        var id = (await created.ReadJson()).GetProperty("id").GetInt64();
        await SignInAsync("cashier-a1");
        await Page.GotoAsync($"/members/{id}");
        var oldNumber = await Page.GetByTestId("card-number").InnerTextAsync();

        await Page.GetByTestId("report-lost").ClickAsync();
        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("已挂失");
        await Expect(Page.GetByTestId("card-status")).ToHaveTextAsync("已挂失");
        var refused = await a1.PostJson("/api/checkout/identify", new { cardNumber = oldNumber });
        Assert.Equal("card.lost", (await refused.ReadJson()).GetProperty("card").GetProperty("reason").GetString());

        await Page.GetByTestId("replace").ClickAsync();
        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("正常");
        await Expect(Page.GetByTestId("card-row")).ToHaveCountAsync(2);
        await Expect(Page.GetByTestId("card-status").First).ToHaveTextAsync("已补卡");
        await Expect(Page.GetByTestId("card-status").Last).ToHaveTextAsync("正常");
        var newNumber = await Page.GetByTestId("card-number").Last.InnerTextAsync();
        Assert.NotEqual(oldNumber, newNumber);
        var identified = await (await a1.PostJson("/api/checkout/identify", new { cardNumber = newNumber })).ReadJson();
        Assert.True(identified.GetProperty("card").GetProperty("usable").GetBoolean());
        Assert.Equal(id, identified.GetProperty("member").GetProperty("id").GetInt64());
    }
}
