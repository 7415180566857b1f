using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Domain.Sales;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// The cashier desk on each database: a console sale is the API's sale for the same basket; bad
/// input is refused beside its field and saves nothing; an allergy hit needs acknowledging;
/// points, a coupon and stored value pay; a return of one line gives back what it should; a
/// double submit records one sale; another chain's cashier finds neither member nor receipt.
/// </summary>
public abstract class DeskTests(PatronApp app)
{
    /// <summary>The 15th: a member day of the program below (10 % off).</summary>
    private static readonly DateTimeOffset MemberDay = new(2026, 6, 15, 12, 0, 0, TimeSpan.FromHours(8));

    private const string ProgramJson = """
        {
          "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01",
          "earning": { "amountPerPoint": 100 },
          "tiers": [ { "code": "standard", "name": "普通会员" } ],
          "pricing": { "discounts": [ { "id": "member-day", "name": "会员日9折", "percentOff": 10, "when": { "daysOfMonth": [15] } } ] },
          "pointsPayment": { "allowed": true, "pointsPerYuan": 100, "maxPercentOfPayable": 50 },
          "pointsDebt": { "allowed": true },
          "storedValue": { "enabled": true, "minimumTopUp": 100 },
          "coupons": { "maxPerOrder": 2, "templates": [ { "code": "c5", "name": "¥5 代金券", "kind": "cash", "value": 500, "validDays": 30 } ] },
          "redemption": { "items": [ { "code": "towel", "name": "毛巾", "points": 60, "kind": "gift", "value": 800 } ] }
        }
        """;

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    [Fact]
    public async Task ConsoleSale_EqualsTheApiSale_ForTheSameBasket()
    {
        await EnsureProgramAsync();
        var (viaApi, viaDesk) = (await EnrolAsync(), await EnrolAsync());
        var api = await (await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = "API-" + Guid.NewGuid().ToString("N")[..10],
            memberId = viaApi,
            lines = new object[] { new { sku = "P1", quantity = 2, unitPrice = 5_050, name = "感冒灵" }, new { sku = "P2", quantity = 1, unitPrice = 1_999 } },
        })).ReadJson();

        var cashier = await app.SignInAsync("cashier-a1");
        var quote = await cashier.PostFormAsync($"/desk/{viaDesk}?handler=Quote", Form(("P1", "2", "50.50", "感冒灵"), ("P2", "1", "19.99", null)));
        Assert.Equal(HttpStatusCode.OK, quote.StatusCode);
        var html = await quote.ReadText();
        Assert.Contains("会员日9折", html);
        Assert.Contains("¥90.90", html); // 2 × ¥50.50 less 10 %

        var commit = await PricedCommitAsync(cashier, viaDesk, Form(("P1", "2", "50.50", "感冒灵"), ("P2", "1", "19.99", null)));
        Assert.Equal(HttpStatusCode.Redirect, commit.StatusCode);
        var sale = await app.WithDbAsync(db => db.Sales.AsNoTracking().Include(s => s.Lines).SingleAsync(s => s.MemberId == viaDesk));
        Assert.Equal($"/desk/sales/{sale.Id}", commit.Headers.Location?.OriginalString);
        Assert.Equal(
            (api.GetProperty("amount").GetInt64(), api.GetProperty("discount").GetInt64(), api.GetProperty("paid").GetInt64(), api.GetProperty("points").GetInt64()),
            (sale.Amount, sale.Discount, sale.Paid, sale.Points));
        Assert.Equal(
            api.GetProperty("lines").EnumerateArray().Select(l => (l.GetProperty("paid").GetInt64(), l.GetProperty("rule").GetString())),
            sale.Lines.OrderBy(l => l.LineNo).Select(l => (l.Paid, l.DiscountRule)));
        Assert.Equal(sale.Points, await app.WithDbAsync(db => db.MemberAccounts.Where(a => a.MemberId == viaDesk).Select(a => a.Balance).SingleAsync()));
        Assert.Equal(await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "cashier-a1").Select(s => (long?)s.Id).SingleAsync()), sale.StaffId);

        var receipt = await cashier.GetPageAsync($"/desk/sales/{sale.Id}");
        Assert.Contains(sale.OrderNumber, receipt);
        Assert.Contains("@media print", receipt);
        Assert.Contains($"¥{sale.Paid / 100m:0.00}", receipt);
    }

    [Fact]
    public async Task BadLines_AreRejectedBesideTheField_AndNothingIsSaved()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var cashier = await app.SignInAsync("cashier-a1");
        var before = await app.WithDbAsync(db => db.Sales.CountAsync());

        var form = Form(("P1", "1", "abc", null), ("P2", "1", "-3", null), ("P3", "1", "1.234", null), ("P4", "x", "5", null));
        var response = await cashier.PostFormAsync($"/desk/{member}?handler=Commit", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.ReadText();
        foreach (var field in new[] { "Lines[0].UnitPrice", "Lines[1].UnitPrice", "Lines[2].UnitPrice", "Lines[3].Quantity" })
        {
            Assert.Matches($"class=\"form-control form-control-sm is-invalid\" name=\"{System.Text.RegularExpressions.Regex.Escape(field)}\"", html);
        }

        Assert.Contains("请输入以元为单位的金额", html);

        // A refusal of the checkout service lands beside its line too: the SKU is too long.
        response = await cashier.PostFormAsync($"/desk/{member}?handler=Commit", Form(("OK", "1", "5", null), (new string('S', 65), "1", "5", null)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Matches("is-invalid\" name=\"Lines\\[1\\]\\.Sku\"", await response.ReadText());

        // Points beyond the limit: refused beside the points field.
        response = await cashier.PostFormAsync($"/desk/{member}?handler=Commit", Form([("P1", "1", "10", null)], ("PointsToUse", "99999")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("超过本单可用积分上限", await response.ReadText());

        Assert.Equal(before, await app.WithDbAsync(db => db.Sales.CountAsync()));
    }

    [Fact]
    public async Task AllergyHit_MustBeAcknowledged_BeforeTheSale()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "paper" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{member}/health", new { allergies = new[] { "磺胺类" } })).StatusCode);
        var cashier = await app.SignInAsync("cashier-a1");

        var panel = await cashier.GetPageAsync($"/desk/{member}");
        Assert.Contains("data-testid=\"allergy-alert\"", panel);
        Assert.DoesNotContain("磺胺", panel); // the panel says that allergies are on file, not which

        var basket = Form(("SMZ", "1", "12.00", "复方新诺明", "磺胺类"), ("VC", "1", "8.00", "维生素C", null));
        var quote = await (await cashier.PostFormAsync($"/desk/{member}?handler=Quote", basket)).ReadText();
        Assert.Contains("data-testid=\"quote-allergy\"", quote);
        Assert.Contains("第 1 行（SMZ）与过敏记录相符：磺胺类", quote);
        basket["Priced"] = PricedIn(quote);

        var refused = await cashier.PostFormAsync($"/desk/{member}?handler=Commit", basket);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Matches("is-invalid\" type=\"checkbox\" id=\"AllergiesAcknowledged\"", await refused.ReadText());
        Assert.Equal(0, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member)));

        // Acknowledged for that basket, then a line added without pricing again: priced again instead of sold, the tick cleared.
        basket["AllergiesAcknowledged"] = "true";
        basket["Lines[2].Sku"] = "PEN";
        basket["Lines[2].Quantity"] = "1";
        basket["Lines[2].UnitPrice"] = "9.00";
        basket["Lines[2].Tags"] = "磺胺类";
        var changed = await cashier.PostFormAsync($"/desk/{member}?handler=Commit", basket);
        Assert.Equal(HttpStatusCode.BadRequest, changed.StatusCode);
        var changedHtml = await changed.ReadText();
        Assert.Contains("已重新计价", changedHtml);
        Assert.Contains("第 3 行（PEN）与过敏记录相符：磺胺类", changedHtml);
        Assert.DoesNotMatch("id=\"AllergiesAcknowledged\"[^>]*checked", changedHtml);
        Assert.Equal(0, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member)));

        var sold = await PricedCommitAsync(cashier, member, Form([("SMZ", "1", "12.00", "复方新诺明", "磺胺类")], ("AllergiesAcknowledged", "true")));
        Assert.Equal(HttpStatusCode.Redirect, sold.StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member)));
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.MemberId == member && a.Action == "allergy.acknowledged")));
    }

    [Fact]
    public async Task PointsCouponAndStoredValue_Pay_AndReturningOneLine_GivesBackItsShare()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        // 300 yuan on the member day: ¥270 paid, 270 points; ¥100 of stored value; a ¥5 coupon.
        await _a1.PostJson("/api/checkout/sales", new { orderNumber = "PRE-" + Guid.NewGuid().ToString("N")[..10], memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 30_000 } } });
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/top-ups", new { orderNumber = "TU-" + Guid.NewGuid().ToString("N")[..10], amount = 10_000, memberId = member })).StatusCode);
        var marketing = await app.SignInAsync("marketing");
        Assert.Equal(HttpStatusCode.OK, (await marketing.Http.PostJson("/api/coupons/issue", new { template = "c5", memberIds = new[] { member }, reason = "关怀", storeId = app.Org.StoreA1 })).StatusCode);
        var code = await app.WithDbAsync(db => db.Coupons.Where(c => c.MemberId == member).Select(c => c.Code).SingleAsync());
        Assert.Equal(270, await Balance(member));

        var cashier = await app.SignInAsync("cashier-a1");
        var panel = await cashier.GetPageAsync($"/desk/{member}");
        Assert.Contains("¥5 代金券", panel);
        Assert.Contains("¥100.00", panel);

        (string Sku, string Quantity, string Price, string? Name, string? Tags)[] lines = [("P1", "2", "50.00", "板蓝根", null), ("P2", "1", "30.00", "口罩", null)];
        var quote = await (await cashier.PostFormAsync($"/desk/{member}?handler=Quote", Form(lines, ("Coupons", code)))).ReadText();
        Assert.Contains("积分抵现（最多 270 积分，¥2.70）", quote);

        // Payments chosen after the price was shown: priced again with them, nothing recorded until the cashier looks.
        var unpriced = Form(lines, ("Coupons", code), ("PointsToUse", "200"), ("StoredValue", "20"));
        unpriced["Priced"] = PricedIn(quote);
        var repriced = await cashier.PostFormAsync($"/desk/{member}?handler=Commit", unpriced);
        Assert.Equal(HttpStatusCode.BadRequest, repriced.StatusCode);
        Assert.Contains("已重新计价", await repriced.ReadText());
        Assert.Equal(1, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member))); // the earlier sale only

        var commit = await PricedCommitAsync(cashier, member, Form(lines, ("Coupons", code), ("PointsToUse", "200"), ("StoredValue", "20")));
        Assert.True(commit.StatusCode == HttpStatusCode.Redirect, Errors(await commit.ReadText()));
        var sale = await app.WithDbAsync(db => db.Sales.AsNoTracking().Include(s => s.Lines).SingleAsync(s => s.MemberId == member && s.OrderNumber.StartsWith("D")));
        Assert.Equal((13_000L, 1_800L, 11_200L), (sale.Amount, sale.Discount, sale.Paid)); // 10 % member day and the ¥5 coupon
        Assert.Equal((200L, 200L, 2_000L), (sale.PointsUsed, sale.PointsValue, sale.StoredPrincipal + sale.StoredBonus));
        Assert.Equal(500, await app.WithDbAsync(db => db.CouponUses.Where(u => u.SaleId == sale.Id).SumAsync(u => u.Discount)));
        Assert.Equal(270 - 200 + sale.Points, await Balance(member));
        Assert.Equal(8_000, await Stored(member));

        var receipt = await cashier.GetPageAsync($"/desk/sales/{sale.Id}");
        Assert.Contains("data-testid=\"receipt-points-used\">200 (¥2.00)", receipt);
        Assert.Contains("−¥5.00", receipt);
        Assert.Contains($"data-testid=\"receipt-points-after\">{270 - 200 + sale.Points}<", receipt);

        // Return the mask (line 2): its points go, its share of points and stored value paid comes back.
        var returned = await cashier.PostFormAsync($"/desk/sales/{sale.Id}?handler=Return", new() { ["Quantities[2]"] = "1", ["ReturnNumber"] = "RET-" + sale.Id });
        Assert.True(returned.StatusCode == HttpStatusCode.Redirect, Errors(await returned.ReadText()));
        var ret = await app.WithDbAsync(db => db.Sales.AsNoTracking().Include(s => s.Lines).SingleAsync(s => s.OriginalSaleId == sale.Id));
        Assert.Equal($"/desk/sales/{ret.Id}", returned.Headers.Location?.OriginalString);
        Assert.Equal(SaleKind.Return, ret.Kind);
        Assert.Equal((2, -1), (Assert.Single(ret.Lines).LineNo, ret.Lines[0].Quantity));
        Assert.True(ret.Points < 0 && ret.PointsUsed < 0 && ret.StoredPrincipal + ret.StoredBonus < 0);
        Assert.Equal(270 - 200 + sale.Points - ret.PointsUsed + ret.Points, await Balance(member));
        Assert.Equal(8_000 - ret.StoredPrincipal - ret.StoredBonus, await Stored(member));
        var page = await cashier.GetPageAsync($"/desk/sales/{ret.Id}");
        Assert.Contains("退货小票", page);

        // A second submit of the same form returns nothing more; asking beyond what is left is refused beside the field.
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"/desk/sales/{sale.Id}?handler=Return", new() { ["Quantities[2]"] = "1", ["ReturnNumber"] = "RET-" + sale.Id })).StatusCode);
        var tooMany = await cashier.PostFormAsync($"/desk/sales/{sale.Id}?handler=Return", new() { ["Quantities[1]"] = "3" });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("请输入 0 到 2 的整数", await tooMany.ReadText());
        Assert.Equal(1, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.OriginalSaleId == sale.Id)));

        // The line returned in full has no field left: asking for it again is said at the top; once all is back, the page says so.
        var gone = await cashier.PostFormAsync($"/desk/sales/{sale.Id}?handler=Return", new() { ["Quantities[2]"] = "1" });
        Assert.Equal(HttpStatusCode.BadRequest, gone.StatusCode);
        Assert.Contains("data-testid=\"return-errors\"", await gone.ReadText());
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"/desk/sales/{sale.Id}?handler=Return", new() { ["Quantities[1]"] = "2" })).StatusCode);
        var allBack = await cashier.PostFormAsync($"/desk/sales/{sale.Id}?handler=Return", new() { ["Quantities[1]"] = "1" });
        Assert.Equal(HttpStatusCode.Conflict, allBack.StatusCode);
        Assert.Contains("已全部退货", await allBack.ReadText());
        Assert.Equal(2, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.OriginalSaleId == sale.Id)));
    }

    [Fact]
    public async Task SearchBox_FindsByPhoneAndByQrToken_AsTheCashierTypes()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var created = await _a1.PostJson("/api/members", new { name = "扫码会员", mobile = phone });
        var member = (await created.ReadJson()).GetProperty("id").GetInt64();
        var cashier = await app.SignInAsync("cashier-a1");
        await cashier.GetPageAsync("/desk");

        var byPhone = await (await cashier.PostFormAsync("/desk?handler=Search", new() { ["q"] = phone }, htmx: true)).ReadText();
        Assert.Contains($"href=\"/desk/{member}\"", byPhone);
        Assert.Contains(phone[..3] + "****" + phone[^4..], byPhone);

        var token = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Patron.Server.Features.Checkout.MemberQrTokens>(app.Services).Issue(member).Token;
        var byToken = await (await cashier.PostFormAsync("/desk?handler=Search", new() { ["q"] = token }, htmx: true)).ReadText();
        Assert.Contains($"href=\"/desk/{member}\"", byToken);

        var b1 = await app.SignInAsync("cashier-b1");
        await b1.GetPageAsync("/desk");
        var other = await (await b1.PostFormAsync("/desk?handler=Search", new() { ["q"] = token }, htmx: true)).ReadText();
        Assert.DoesNotContain($"/desk/{member}", other);
    }

    [Fact]
    public async Task DoubleSubmit_RecordsOneSale_NumberedByTheStoresDate()
    {
        // 17:30 UTC is 01:30 the next day in the store's zone (Asia/Shanghai): the order number carries the store's date.
        await EnsureProgramAsync();
        var storeNow = new DateTimeOffset(app.Clock.GetUtcNow().UtcDateTime.Date.AddHours(17).AddMinutes(30), TimeSpan.Zero);
        app.Clock.Set(storeNow);
        var member = await EnrolAsync();
        var cashier = await app.SignInAsync("cashier-a1");
        var form = Form([("P1", "1", "10.00", null)], ("Key", "DESK-" + Guid.NewGuid().ToString("N")));
        var first = await PricedCommitAsync(cashier, member, form);
        var second = await cashier.PostFormAsync($"/desk/{member}?handler=Commit", form);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member)));
        var order = await app.WithDbAsync(db => db.Sales.Where(s => s.MemberId == member).Select(s => s.OrderNumber).SingleAsync());
        Assert.StartsWith("D" + storeNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyMMddHHmm", System.Globalization.CultureInfo.InvariantCulture), order, StringComparison.Ordinal);
        var receipt = await cashier.GetPageAsync(first.Headers.Location!.OriginalString);
        Assert.Contains(storeNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), receipt, StringComparison.Ordinal); // the console's clock (Asia/Shanghai), whatever the server's zone
    }

    [Fact]
    public async Task MemberPanel_LinksTheMemberPage_OnlyWhereItOpens()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync(); // at A1
        foreach (var (user, linked) in new[] { ("cashier-a1", true), ("cashier-a2", false), ("manager-a", true) })
        {
            var cashier = await app.SignInAsync(user);
            var panel = await cashier.GetPageAsync($"/desk/{member}"); // the desk serves the chain's members at every store
            Assert.Equal(linked, panel.Contains("data-testid=\"link-member\"", StringComparison.Ordinal));
            Assert.Equal(linked ? HttpStatusCode.OK : HttpStatusCode.NotFound, (await cashier.GetAsync($"/members/{member}")).StatusCode);
        }
    }

    [Fact]
    public async Task AnotherChainsCashier_FindsNeitherTheMemberPanelNorTheReceipt()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var a1 = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Redirect, (await PricedCommitAsync(a1, member, Form(("P1", "１", "１０．５０", null)))).StatusCode); // full-width digits, as a Chinese input method types them
        var sale = await app.WithDbAsync(db => db.Sales.Where(s => s.MemberId == member).Select(s => s.Id).SingleAsync());
        Assert.Equal(1050, await app.WithDbAsync(db => db.Sales.Where(s => s.Id == sale).Select(s => s.Amount).SingleAsync()));

        // Another store of the same chain: the receipt and its return form are not found either (ids are sequential).
        var a2 = await app.SignInAsync("cashier-a2");
        Assert.Equal(HttpStatusCode.NotFound, (await a2.GetAsync($"/desk/sales/{sale}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a2.PostFormAsync($"/desk/sales/{sale}?handler=Return", new() { ["Quantities[1]"] = "1" })).StatusCode);

        var b1 = await app.SignInAsync("cashier-b1");
        Assert.Equal(HttpStatusCode.OK, (await b1.GetAsync("/desk")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b1.GetAsync($"/desk/{member}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b1.GetAsync($"/desk/sales/{sale}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b1.PostFormAsync($"/desk/{member}?handler=Commit", Form(("P1", "1", "10", null)))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b1.PostFormAsync($"/desk/sales/{sale}?handler=Return", new() { ["Quantities[1]"] = "1" })).StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member)));

        // The auditor reads no desk at all.
        var auditor = await app.SignInAsync("auditor");
        Assert.NotEqual(HttpStatusCode.OK, (await auditor.GetAsync("/desk")).StatusCode);
    }

    private static Dictionary<string, string> Form(params (string Sku, string Quantity, string Price, string? Name)[] lines) =>
        Form([.. lines.Select(l => (l.Sku, l.Quantity, l.Price, l.Name, (string?)null))]);

    private static Dictionary<string, string> Form(params (string Sku, string Quantity, string Price, string? Name, string? Tags)[] lines) => Form(lines, []);

    private static Dictionary<string, string> Form((string Sku, string Quantity, string Price, string? Name, string? Tags)[] lines, params (string Key, string Value)[] extra)
    {
        var form = new Dictionary<string, string>();
        for (var i = 0; i < lines.Length; i++)
        {
            form[$"Lines[{i}].Sku"] = lines[i].Sku;
            form[$"Lines[{i}].Quantity"] = lines[i].Quantity;
            form[$"Lines[{i}].UnitPrice"] = lines[i].Price;
            form[$"Lines[{i}].Name"] = lines[i].Name ?? "";
            form[$"Lines[{i}].Tags"] = lines[i].Tags ?? "";
        }

        foreach (var (key, value) in extra)
        {
            form[key] = value;
        }

        return form;
    }

    private static Dictionary<string, string> Form((string Sku, string Quantity, string Price, string? Name)[] lines, params (string Key, string Value)[] extra) =>
        Form([.. lines.Select(l => (l.Sku, l.Quantity, l.Price, l.Name, (string?)null))], extra);

    /// <summary>Prices the form as the cashier would, then records it under that price.</summary>
    private static async Task<HttpResponseMessage> PricedCommitAsync(ConsoleClient cashier, long member, Dictionary<string, string> form)
    {
        var quote = await cashier.PostFormAsync($"/desk/{member}?handler=Quote", form);
        Assert.Equal(HttpStatusCode.OK, quote.StatusCode);
        form["Priced"] = PricedIn(await quote.ReadText());
        return await cashier.PostFormAsync($"/desk/{member}?handler=Commit", form);
    }

    private static string PricedIn(string html) => System.Text.RegularExpressions.Regex.Match(html, "name=\"Priced\" value=\"([0-9A-F]{32})\"").Groups[1].Value;

    /// <summary>The errors a page shows, for a failing assertion's message.</summary>
    private static string Errors(string html) =>
        string.Join(" | ", System.Text.RegularExpressions.Regex.Matches(html, "(?:invalid-feedback|alert-danger[^\"]*)\">([^<]+)<").Select(m => m.Groups[1].Value.Trim()).Where(t => t.Length > 0));

    private Task<long> Balance(long member) => app.WithDbAsync(db => db.MemberAccounts.Where(a => a.MemberId == member).Select(a => a.Balance).SingleAsync());

    private Task<long> Stored(long member) => app.WithDbAsync(db => db.MemberAccounts.Where(a => a.MemberId == member).Select(a => a.StoredPrincipal + a.StoredBonus).SingleAsync());

    [Fact]
    public async Task Desk_RedeemsPointsForAGift_OnceForADoubleSubmit_HandsItOver_AndRefusesWithTooFewPointsSavingNothing()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", new { orderNumber = "DR-" + Guid.NewGuid().ToString("N")[..10], memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 10_000 } } })).StatusCode);
        async Task<(long Balance, int Redemptions)> StateAsync() => await app.WithDbAsync(async db => (
            (await db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == member)).Balance,
            await db.Redemptions.CountAsync(r => r.MemberId == member)));
        Assert.Equal((90L, 0), await StateAsync()); // ¥90 paid on the member day

        var cashier = await app.SignInAsync("cashier-a1");
        var url = $"/desk/{member}/redeem";
        var page = await cashier.GetPageAsync(url);
        Assert.Contains("毛巾", page, StringComparison.Ordinal);
        var key = System.Text.RegularExpressions.Regex.Match(page, "name=\"Key\" value=\"([0-9a-f]{32})\"").Groups[1].Value;
        var form = new Dictionary<string, string> { ["Item"] = "towel", ["Key"] = key, ["StoreId"] = app.Org.StoreA1.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var first = await cashier.PostFormAsync(url, form);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var shown = await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var code = System.Text.RegularExpressions.Regex.Match(shown, "data-testid=\"pickup-code\">([^<]+)<").Groups[1].Value;
        Assert.Equal(10, code.Length);
        Assert.Equal(HttpStatusCode.OK, (await cashier.PostFormAsync(url, form)).StatusCode); // the same form again
        Assert.Equal((30L, 1), await StateAsync());

        form["Key"] = Guid.NewGuid().ToString("N");
        var refused = await cashier.PostFormAsync(url, form);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("data-testid=\"redeem-errors\"", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal((30L, 1), await StateAsync());

        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{url}?handler=HandOver", new() { ["PickupCode"] = code, ["StoreId"] = form["StoreId"] })).StatusCode);
        Assert.Equal(Domain.Rewards.RedemptionStatus.PickedUp, await app.WithDbAsync(db => db.Redemptions.Where(r => r.MemberId == member).Select(r => r.Status).SingleAsync()));
        Assert.Equal(HttpStatusCode.NotFound, (await (await app.SignInAsync("cashier-b1")).GetAsync(url)).StatusCode);
    }

    private async Task<long> EnrolAsync()
    {
        var created = await _a1.PostJson("/api/members", new { name = "柜台会员", mobile = PatronApp.NewPhone() });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.ReadJson()).GetProperty("id").GetInt64();
    }

    private async Task EnsureProgramAsync()
    {
        app.Clock.Set(MemberDay);
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", ProgramJson);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }
}

public sealed class DeskSqliteTests(SqliteApp app) : DeskTests(app), IClassFixture<SqliteApp>;

public sealed class DeskPostgresTests(PostgresApp app) : DeskTests(app), IClassFixture<PostgresApp>;
