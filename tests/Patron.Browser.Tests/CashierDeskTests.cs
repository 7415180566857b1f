using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Patron.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Patron.Browser.Tests;

/// <summary>
/// The cashier's journey at the desk: find a member by phone, see the allergy warning, sell on
/// a member day with points and a coupon, return one line, enrol a new member.
/// </summary>
public sealed class CashierDeskTests(BrowserFixture browser, ConsoleHost host) : BrowserTest(browser, host), IClassFixture<ConsoleHost>
{
    [Fact]
    public async Task Cashier_finds_a_member_by_phone_sells_with_points_and_a_coupon_on_a_member_day_returns_a_line_and_enrols_a_member()
    {
        var today = DateOnly.FromDateTime(Host.Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).DateTime);
        var admin = await ApiSignInAsync("admin");
        var program = $$"""
            {
              "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "{{today.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}}",
              "earning": { "amountPerPoint": 100 },
              "tiers": [ { "code": "standard", "name": "普通会员" } ],
              "pricing": { "discounts": [ { "id": "member-day", "name": "会员日9折", "percentOff": 10, "when": { "daysOfMonth": [{{today.Day}}] } } ] },
              "pointsPayment": { "allowed": true, "pointsPerYuan": 100, "maxPercentOfPayable": 50 },
              "coupons": { "maxPerOrder": 2, "templates": [ { "code": "c5", "name": "¥5 代金券", "kind": "cash", "value": 500, "validDays": 30 } ] }
            }
            """;
        var created = await admin.Http.PostRaw($"/api/programs/{Host.Org.ProgramA}/versions", program);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{Host.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);

        // The member: 270 points from an earlier ¥300 purchase, a ¥5 coupon, a sulfonamide allergy on file with consent.
        using var a1 = Host.Terminal(Host.Org.TerminalA1);
        var phone = PatronApp.NewPhone();
        var member = (await (await a1.PostJson("/api/members", new { name = "陈柜台", mobile = phone })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "paper" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a1.PutJson($"/api/members/{member}/health", new { allergies = new[] { "磺胺类" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a1.PostJson("/api/checkout/sales", new { orderNumber = "PRE-1", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 30_000 } } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/coupons/issue", new { template = "c5", memberIds = new[] { member }, reason = "关怀", storeId = Host.Org.StoreA1 })).StatusCode);

        await SignInAsync("cashier-a1");
        await Page.GetByTestId("nav-desk").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/desk$"));
        await Page.Locator("#q").PressSequentiallyAsync(phone);
        var result = Page.GetByTestId("desk-result");
        await Expect(result).ToHaveCountAsync(1);
        await Expect(result.GetByTestId("result-mobile")).ToHaveTextAsync($"{phone[..3]}****{phone[^4..]}");
        await result.ClickAsync();

        await Expect(Page.GetByTestId("allergy-alert")).ToContainTextAsync("药物过敏记录");
        await Expect(Page.GetByTestId("panel-points")).ToHaveTextAsync("270");
        await Expect(Page.GetByTestId("panel-coupons")).ToContainTextAsync("¥5 代金券");

        await Page.Locator("[name='Lines[0].Sku']").FillAsync("SMZ");
        await Page.Locator("[name='Lines[0].Name']").FillAsync("复方新诺明");
        await Page.Locator("[name='Lines[0].UnitPrice']").FillAsync("20.00");
        await Page.Locator("[name='Lines[0].Tags']").FillAsync("磺胺类");
        await Page.Locator("[name='Lines[1].Sku']").FillAsync("VC");
        await Page.Locator("[name='Lines[1].Name']").FillAsync("维生素C");
        await Page.Locator("[name='Lines[1].Quantity']").FillAsync("2");
        await Page.Locator("[name='Lines[1].UnitPrice']").FillAsync("15.00");
        await Page.GetByTestId("price-it").ClickAsync();

        // Member-day prices per line, with the rule that gave them, and the allergy hit.
        await Expect(Page.GetByTestId("quote-paid")).ToHaveTextAsync(["¥18.00", "¥27.00"]);
        await Expect(Page.GetByTestId("quote-rule").First).ToContainTextAsync("会员日9折");
        await Expect(Page.GetByTestId("quote-allergy")).ToContainTextAsync("第 1 行（SMZ）与过敏记录相符：磺胺类");

        await Page.GetByTestId("coupon-option").Locator("input").CheckAsync();
        await Page.GetByTestId("points-to-use").FillAsync("100");
        await Page.GetByTestId("price-it").ClickAsync();
        await Expect(Page.GetByTestId("quote-coupon-discount")).ToHaveTextAsync("¥5.00");

        // Without the acknowledgement the sale is refused beside the checkbox.
        await Page.GetByTestId("commit").ClickAsync();
        await Expect(Page.Locator("#AllergiesAcknowledged")).ToHaveClassAsync(new Regex("is-invalid"));
        await Page.GetByTestId("allergy-ack").CheckAsync();
        await Page.GetByTestId("points-to-use").FillAsync("100");
        await Page.GetByTestId("commit").ClickAsync();

        await Expect(Page).ToHaveURLAsync(new Regex(@"/desk/sales/\d+$"));
        var saleUrl = Page.Url;
        await Expect(Page.GetByTestId("receipt-kind")).ToHaveTextAsync("销售小票");
        await Expect(Page.GetByTestId("receipt-discount")).ToHaveTextAsync("¥10.00"); // ¥5 member day + ¥5 coupon
        await Expect(Page.GetByTestId("receipt-coupon")).ToHaveTextAsync("−¥5.00");
        await Expect(Page.GetByTestId("receipt-points-used")).ToHaveTextAsync("100 (¥1.00)");
        await Expect(Page.GetByTestId("receipt-paid")).ToHaveTextAsync("¥40.00");

        // Return one vitamin C.
        await Page.GetByTestId("return-qty-2").FillAsync("1");
        await Page.GetByTestId("return-submit").ClickAsync();
        await Expect(Page.GetByTestId("receipt-kind")).ToHaveTextAsync("退货小票");
        await Expect(Page.GetByTestId("receipt-line")).ToHaveCountAsync(1);
        await Expect(Page.GetByTestId("receipt-line")).ToContainTextAsync("维生素C");
        await Expect(Page.GetByTestId("receipt-points")).Not.ToHaveTextAsync("0");
        await Page.GotoAsync(saleUrl);
        await Expect(Page.GetByTestId("returned-badge")).ToHaveTextAsync("已退 1");

        // A new member, from the desk.
        await Page.GotoAsync("/desk");
        await Page.GetByTestId("desk-enrol").ClickAsync();
        var form = Page.GetByTestId("enrol-form");
        await form.Locator("#Enrol_Name").FillAsync("林新会员");
        await form.Locator("#Enrol_Mobile").FillAsync(PatronApp.NewPhone());
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex(@"/members/\d+$"));
        await Expect(Page.GetByTestId("flash")).ToContainTextAsync("会员登记成功：林新会员");
    }

    /// <summary>A console session on the real port, for the set-up calls head office makes.</summary>
    private async Task<ConsoleClient> ApiSignInAsync(string login)
    {
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() };
        var console = new ConsoleClient(new HttpClient(handler) { BaseAddress = new Uri(Host.BaseUrl) });
        Assert.Equal(HttpStatusCode.Redirect, (await console.PostFormAsync("/login", new() { ["Login"] = login, ["Password"] = PatronApp.Password })).StatusCode);
        console.ForgetToken();
        return console;
    }
}
