using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Patron.Domain.Coupons;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Coupons and the redemption catalogue through the API on each database: every template kind
/// at checkout with the quote saying why a coupon does not fit, the receipt carrying list
/// price, discount and paid; a ten-use coupon raced by a hundred sales; issuing limits and
/// roles; redemptions refused for a clear reason without changing anything; stock, pickup and
/// cancellation by store.
/// </summary>
public abstract class CouponsAndCatalogueTests(PatronApp app)
{
    private static readonly DateTimeOffset Noon = new(2026, 6, 15, 12, 0, 0, TimeSpan.FromHours(8));
    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);
    private readonly HttpClient _a2 = app.TerminalClient(app.Org.TerminalA2);

    [Fact]
    public async Task Quote_ShowsWhichCouponsFitTheBasketAndWhy_AndTheSaleConsumesThemOnceWithTheDiscountOnTheReceipt()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var marketing = await app.SignInAsync("marketing");
        var issued = await marketing.Http.PostJson("/api/coupons/issue", new { template = "vit12", memberIds = new[] { member }, reason = "会员关怀", storeId = app.Org.StoreA1 });
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        await Issue(marketing, "t30", member);
        await Issue(marketing, "mask", member);

        var basket = new object[]
        {
            new { sku = "A", quantity = 1, unitPrice = 10_000 },
            new { sku = "V", quantity = 1, unitPrice = 5_000, category = "vitamins" },
        };
        var quote = await (await _a1.PostJson("/api/checkout/quote", new { memberId = member, lines = basket })).ReadJson();
        var options = quote.GetProperty("coupons").EnumerateArray().ToDictionary(c => c.GetProperty("template").GetString()!);
        Assert.True(options["welcome"].GetProperty("usable").GetBoolean()); // given at enrolment
        Assert.True(options["vit12"].GetProperty("usable").GetBoolean());
        Assert.Equal("coupon.minimum_spend", options["t30"].GetProperty("reason").GetString());
        Assert.Equal("coupon.gift_not_in_basket", options["mask"].GetProperty("reason").GetString());
        Assert.False(options["mask"].GetProperty("usable").GetBoolean());

        var codes = new[] { options["vit12"].GetProperty("code").GetString()!, options["welcome"].GetProperty("code").GetString()! };
        var priced = await (await _a1.PostJson("/api/checkout/quote", new { memberId = member, lines = basket, coupons = codes })).ReadJson();
        Assert.Equal(13_400, priced.GetProperty("payable").GetInt64());
        Assert.Equal(1_100, priced.GetProperty("couponDiscount").GetInt64());

        var order = Order();
        var body = new { orderNumber = order, memberId = member, lines = basket, coupons = codes };
        var sale = await (await _a1.PostJson("/api/checkout/sales", body)).ReadJson();
        Assert.Equal((15_000L, 1_600L, 13_400L, 134L), (sale.GetProperty("amount").GetInt64(), sale.GetProperty("discount").GetInt64(), sale.GetProperty("paid").GetInt64(), sale.GetProperty("points").GetInt64()));
        Assert.Equal([600L, 500L], sale.GetProperty("coupons").EnumerateArray().Select(c => c.GetProperty("discount").GetInt64()));
        var lines = sale.GetProperty("lines").EnumerateArray().ToList();
        Assert.All(lines, l => Assert.Equal(l.GetProperty("amount").GetInt64() - l.GetProperty("discount").GetInt64(), l.GetProperty("paid").GetInt64()));
        Assert.Equal(1_100, lines.Sum(l => l.GetProperty("couponDiscount").GetInt64()));

        // A retry replays; the coupons are not taken twice. Using one again is refused and records nothing.
        var replay = await (await _a1.PostJson("/api/checkout/sales", body)).ReadJson();
        Assert.True(replay.GetProperty("replayed").GetBoolean());
        Assert.Equal(2, replay.GetProperty("coupons").GetArrayLength());
        var sales = await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member));
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new { orderNumber = Order(), memberId = member, lines = basket, coupons = codes[..1] }),
            HttpStatusCode.UnprocessableEntity, "coupon.used", ("coupons", "coupon.used"));
        Assert.Equal(sales, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member)));
        Assert.Equal(2, await app.WithDbAsync(db => db.CouponUses.CountAsync(u => u.MemberId == member)));

        // Somebody else's coupon is refused.
        var other = await EnrolAsync();
        await AssertProblem(await _a1.PostJson("/api/checkout/quote", new { memberId = other, lines = basket, coupons = new[] { options["t30"].GetProperty("code").GetString() } }),
            HttpStatusCode.UnprocessableEntity, "coupon.not_owner");

        // The whole sale back: both coupons are usable again (their template says restore).
        var returned = await (await _a1.PostJson("/api/checkout/returns", new { orderNumber = order })).ReadJson();
        Assert.Equal(2, returned.GetProperty("coupons").GetArrayLength());
        var open = await (await _a1.Get($"/api/members/{member}/coupons")).ReadJson();
        Assert.Contains(open.EnumerateArray(), c => c.GetProperty("code").GetString() == codes[0] && c.GetProperty("status").GetString() == "issued");
    }

    [Fact]
    public async Task BearerCouponOfTenUses_RacedByAHundredSales_ServesExactlyTen()
    {
        await EnsureProgramAsync();
        var admin = await app.SignInAsync("admin");
        var issued = await (await admin.Http.PostJson("/api/coupons/issue", new { template = "opening", bearer = 1, reason = "开业", storeId = app.Org.StoreA1 })).ReadJson();
        var code = issued.GetProperty("coupons")[0].GetProperty("code").GetString()!;
        Assert.Equal(10, issued.GetProperty("coupons")[0].GetProperty("usesLeft").GetInt32());

        // Not at another store.
        await AssertProblem(await _a2.PostJson("/api/checkout/quote", new { lines = new[] { new { sku = "A", quantity = 1, unitPrice = 5_000 } }, coupons = new[] { code } }),
            HttpStatusCode.UnprocessableEntity, "coupon.wrong_store");

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            using var client = app.TerminalClient(app.Org.TerminalA1);
            var response = await client.PostJson("/api/checkout/sales", new { orderNumber = $"RACE-{i}-{Guid.NewGuid():N}"[..30], lines = new[] { new { sku = "A", quantity = 1, unitPrice = 5_000 } }, coupons = new[] { code } });
            return (response.StatusCode, Code: response.StatusCode == HttpStatusCode.OK ? null : (await response.ReadJson()).GetProperty("code").GetString());
        }));

        Assert.Equal(10, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal((HttpStatusCode.UnprocessableEntity, "coupon.used"), (r.StatusCode, r.Code)));
        var (coupon, uses, sold) = await app.WithDbAsync(async db =>
        {
            var c = await db.Coupons.AsNoTracking().SingleAsync(x => x.Code == code);
            return (c, await db.CouponUses.CountAsync(u => u.CouponId == c.Id), await db.Sales.CountAsync(s => s.OrderNumber.StartsWith("RACE-")));
        });
        Assert.Equal((0, CouponStatus.Used, 10, 10), (coupon.UsesLeft, coupon.Status, uses, sold));
    }

    [Fact]
    public async Task Issuing_KeepsLimitsAndRoles_AndIsAudited()
    {
        await EnsureProgramAsync();
        var members = new[] { await EnrolAsync(), await EnrolAsync() };
        var marketing = await app.SignInAsync("marketing");
        var cashier = await app.SignInAsync("cashier-a1");

        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson("/api/coupons/issue", new { template = "limited", memberIds = members, reason = "x" })).StatusCode);
        await AssertProblem(await marketing.Http.PostJson("/api/coupons/issue", new { template = "limited", memberIds = members, storeId = app.Org.StoreA1 }),
            HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "coupon.reason_required"));
        await AssertProblem(await marketing.Http.PostJson("/api/coupons/issue", new { template = "nope", memberIds = members, reason = "x", storeId = app.Org.StoreA1 }),
            HttpStatusCode.BadRequest, Problem.ValidationCode, ("template", "coupon.template_unknown"));

        var before = await app.WithDbAsync(db => db.Coupons.CountAsync(c => c.TemplateCode == "limited"));
        var allowed = 3 - before;
        var many = Enumerable.Repeat(members[0], allowed + 1).ToArray();
        await AssertProblem(await marketing.Http.PostJson("/api/coupons/issue", new { template = "limited", memberIds = many, reason = "x", storeId = app.Org.StoreA1 }),
            HttpStatusCode.UnprocessableEntity, "coupon.total_reached");
        Assert.Equal(before, await app.WithDbAsync(db => db.Coupons.CountAsync(c => c.TemplateCode == "limited")));

        // The welcome coupon came with enrolment: one per member.
        await AssertProblem(await marketing.Http.PostJson("/api/coupons/issue", new { template = "welcome", memberIds = members, reason = "x", storeId = app.Org.StoreA1 }),
            HttpStatusCode.UnprocessableEntity, "coupon.member_limit");

        var card = await app.WithDbAsync(db => db.Cards.Where(c => c.MemberId == members[1]).Select(c => c.Number).FirstAsync());
        var ok = await (await marketing.Http.PostJson("/api/coupons/issue", new { template = "vit12", cardNumbers = new[] { card }, reason = "回访", storeId = app.Org.StoreA1 })).ReadJson();
        var couponId = ok.GetProperty("coupons")[0].GetProperty("id").GetInt64();
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "coupon.issued" && a.EntityId == couponId));
        Assert.Equal(members[1], audit.MemberId);

        var code = ok.GetProperty("coupons")[0].GetProperty("code").GetString();
        var voided = await (await marketing.Http.PostJson($"/api/coupons/{code}/void", new { reason = "发错" })).ReadJson();
        Assert.Equal("void", voided.GetProperty("status").GetString());
        await AssertProblem(await _a1.PostJson("/api/checkout/quote", new { memberId = members[1], lines = new[] { new { sku = "V", quantity = 1, unitPrice = 1_000, category = "vitamins" } }, coupons = new[] { code } }),
            HttpStatusCode.UnprocessableEntity, "coupon.void");
    }

    [Fact]
    public async Task Redemption_RefusedForAClearReason_ChangesNothing_AndAGiftIsCollectedOnlyAtItsStore()
    {
        await EnsureProgramAsync();
        app.Clock.Set(Noon);
        var member = await EnrolAsync();
        await _a1.PostJson("/api/checkout/sales", new { orderNumber = Order(), memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 20_000 } } });

        async Task<(long Balance, int Redemptions, int Stock)> StateAsync() => await app.WithDbAsync(async db => (
            (await db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == member)).Balance,
            await db.Redemptions.CountAsync(r => r.MemberId == member),
            await db.GiftStocks.Where(g => g.ItemCode == "cup" && g.StoreId == app.Org.StoreA1).Select(g => g.Quantity).FirstOrDefaultAsync()));

        var start = await StateAsync();
        Assert.Equal(190, start.Balance);
        var url = $"/api/members/{member}/redemptions";
        await AssertProblem(await _a1.PostJson(url, new { item = "cup" }), HttpStatusCode.UnprocessableEntity, "redemption.out_of_stock");
        await AssertProblem(await _a1.PostJson(url, new { item = "new-year" }), HttpStatusCode.UnprocessableEntity, "redemption.closed");
        await AssertProblem(await _a1.PostJson(url, new { item = "vit-coupon" }), HttpStatusCode.UnprocessableEntity, "redemption.wrong_store");
        Assert.Equal(start, await StateAsync());

        // Stock is set per store by its manager, never for a store outside their scope.
        var manager = await app.SignInAsync("manager-a");
        Assert.Equal(HttpStatusCode.NotFound, (await manager.Http.PutJson("/api/catalogue/cup/stock", new { storeId = app.Org.StoreB1, quantity = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("cashier-a1")).Http.PutJson("/api/catalogue/cup/stock", new { storeId = app.Org.StoreA1, quantity = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PutJson("/api/catalogue/cup/stock", new { storeId = app.Org.StoreA1, quantity = 1 })).StatusCode);
        var catalogue = await (await _a1.Get($"/api/catalogue?storeId={app.Org.StoreA1}")).ReadJson();
        var cup = catalogue.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("code").GetString() == "cup");
        Assert.Equal(1, cup.GetProperty("stock")[0].GetProperty("quantity").GetInt32());
        Assert.False(catalogue.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("code").GetString() == "new-year").GetProperty("openToday").GetBoolean());

        var redeemed = await (await _a1.PostJson(url, new { item = "cup" })).ReadJson();
        var pickup = redeemed.GetProperty("pickupCode").GetString()!;
        Assert.Equal(10, pickup.Length);
        Assert.Equal((90L, start.Redemptions + 1, 0), await StateAsync());
        await AssertProblem(await _a1.PostJson(url, new { item = "cup" }), HttpStatusCode.UnprocessableEntity, "redemption.limit");
        Assert.Equal((90L, start.Redemptions + 1, 0), await StateAsync());

        var awaiting = await (await _a1.Get($"/api/redemptions?storeId={app.Org.StoreA1}&awaitingPickup=true")).ReadJson();
        Assert.Contains(awaiting.EnumerateArray(), r => r.GetProperty("id").GetInt64() == redeemed.GetProperty("redemptionId").GetInt64());
        Assert.DoesNotContain(pickup, awaiting.GetRawText());

        // Another store's counter cannot even tell the code exists.
        await AssertProblem(await _a2.PostJson("/api/redemptions/pickup", new { pickupCode = pickup }), HttpStatusCode.NotFound, "redemption.not_found");
        var collected = await (await _a1.PostJson("/api/redemptions/pickup", new { pickupCode = pickup })).ReadJson();
        Assert.Equal("picked_up", collected.GetProperty("status").GetString());
        await AssertProblem(await _a1.PostJson("/api/redemptions/pickup", new { pickupCode = pickup }), HttpStatusCode.UnprocessableEntity, "redemption.picked_up");
        await AssertProblem(await _a1.PostJson($"/api/redemptions/{collected.GetProperty("id").GetInt64()}/cancel", new { reason = "不要了" }), HttpStatusCode.UnprocessableEntity, "redemption.picked_up");
        Assert.Equal(90, (await StateAsync()).Balance);

        // A gift not yet collected can be cancelled: the points come back.
        var towel = await (await _a1.PostJson(url, new { item = "towel" })).ReadJson();
        Assert.Equal(30, towel.GetProperty("balance").GetInt64());
        await AssertProblem(await _a1.PostJson(url, new { item = "check" }), HttpStatusCode.UnprocessableEntity, "points.insufficient");
        Assert.Equal(30, (await StateAsync()).Balance);
        var cancelled = await (await _a1.PostJson($"/api/redemptions/{towel.GetProperty("redemptionId").GetInt64()}/cancel", new { reason = "会员改主意" })).ReadJson();
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Equal(90, (await StateAsync()).Balance);
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "redemption.cancelled" && a.MemberId == member)));
    }

    [Fact]
    public async Task ConsolePages_IssueCouponsToAListAndHandOverAGift_InChinese_WithErrorsBesideTheField()
    {
        await EnsureProgramAsync();
        app.Clock.Set(Noon);
        var member = await EnrolAsync();
        var card = await app.WithDbAsync(db => db.Cards.Where(c => c.MemberId == member).Select(c => c.Number).FirstAsync());
        var marketing = await app.SignInAsync("marketing");
        var page = await marketing.GetPageAsync("/coupons");
        Assert.Contains("维生素88折券", page);
        Assert.Contains("折扣券", page);

        var url = $"/coupons?program={app.Org.ProgramA}";
        var bad = await marketing.PostFormAsync($"{url}&handler=Issue", new() { ["Template"] = "vit12", ["Recipients"] = card });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("请填写原因", await bad.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.Redirect, (await marketing.PostFormAsync($"{url}&handler=Issue", new() { ["Template"] = "vit12", ["Recipients"] = card, ["Reason"] = "回访" })).StatusCode);
        Assert.Contains("已发放 1 张优惠券", await marketing.GetPageAsync(url));
        Assert.Equal(1, await app.WithDbAsync(db => db.Coupons.CountAsync(c => c.MemberId == member && c.TemplateCode == "vit12")));

        var cashier = await app.SignInAsync("cashier-a1");
        var denied = await cashier.PostFormAsync($"{url}&handler=Issue", new() { ["Template"] = "vit12", ["Recipients"] = card, ["Reason"] = "x" });
        Assert.Contains("/denied", denied.Headers.Location?.ToString());

        await _a1.PostJson("/api/checkout/sales", new { orderNumber = Order(), memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 10_000 } } });
        var redeemed = await (await _a1.PostJson($"/api/members/{member}/redemptions", new { item = "towel" })).ReadJson();
        var desk = $"/catalogue?store={app.Org.StoreA1}";
        var catalogue = await cashier.GetPageAsync(desk);
        Assert.Contains("毛巾", catalogue);
        Assert.Contains("待领取", catalogue);
        var wrong = await cashier.PostFormAsync($"{desk}&handler=Pickup", new() { ["PickupCode"] = "" });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("请输入会员出示的领取码", await wrong.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{desk}&handler=Pickup", new() { ["PickupCode"] = redeemed.GetProperty("pickupCode").GetString()! })).StatusCode);
        Assert.Contains("已发放给", await cashier.GetPageAsync(desk));
        Assert.Equal(Domain.Rewards.RedemptionStatus.PickedUp, await app.WithDbAsync(db => db.Redemptions.Where(r => r.Id == redeemed.GetProperty("redemptionId").GetInt64()).Select(r => r.Status).FirstAsync()));
    }

    [Fact]
    public async Task FinanceCosts_CountRedemptionsAtTheirValueAndCouponDiscounts_LeavingOutCancelledRedemptionsAndSalesReturnedWhole()
    {
        await EnsureProgramAsync();
        app.Clock.Set(new DateTimeOffset(2026, 9, 10, 12, 0, 0, TimeSpan.FromHours(8))); // a day and a store (A2) no other test writes to
        var member = await EnrolAsync();
        await _a2.PostJson("/api/checkout/sales", new { orderNumber = Order(), memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 20_000 } } });

        var url = $"/api/members/{member}/redemptions";
        Assert.Equal(HttpStatusCode.OK, (await _a2.PostJson(url, new { item = "towel" })).StatusCode);
        var cancelled = await (await _a2.PostJson(url, new { item = "towel" })).ReadJson();
        Assert.Equal(HttpStatusCode.OK, (await _a2.PostJson($"/api/redemptions/{cancelled.GetProperty("redemptionId").GetInt64()}/cancel", new { reason = "不要了" })).StatusCode);

        var marketing = await app.SignInAsync("marketing");
        await Issue(marketing, "t30", member);
        await Issue(marketing, "t30", member);
        var basket = new[] { new { sku = "B", quantity = 1, unitPrice = 30_000 } };
        var quote = await (await _a2.PostJson("/api/checkout/quote", new { memberId = member, lines = basket })).ReadJson();
        var codes = quote.GetProperty("coupons").EnumerateArray().Where(c => c.GetProperty("template").GetString() == "t30").Select(c => c.GetProperty("code").GetString()!).ToList();
        Assert.Equal(2, codes.Count);
        var kept = await (await _a2.PostJson("/api/checkout/sales", new { orderNumber = Order(), memberId = member, lines = basket, coupons = codes[..1] })).ReadJson();
        Assert.Equal(3000, kept.GetProperty("coupons")[0].GetProperty("discount").GetInt64());
        var returnedOrder = Order();
        Assert.Equal(HttpStatusCode.OK, (await _a2.PostJson("/api/checkout/sales", new { orderNumber = returnedOrder, memberId = member, lines = basket, coupons = codes[1..] })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a2.PostJson("/api/checkout/returns", new { orderNumber = returnedOrder })).StatusCode);

        var report = await (await (await app.SignInAsync("manager-a")).Http.Get("/api/finance/costs?from=2026-09-10&to=2026-09-10")).ReadJson();
        var row = Assert.Single(report.GetProperty("rows").EnumerateArray(), r => r.GetProperty("storeId").GetInt64() == app.Org.StoreA2);
        Assert.Equal("2026-09", row.GetProperty("month").GetString());
        Assert.Equal((1, 800L), (row.GetProperty("redemptions").GetInt32(), row.GetProperty("redemptionValue").GetInt64())); // the cancelled towel left out
        Assert.Equal((1, 3000L, 3000L), (row.GetProperty("couponUses").GetInt32(), row.GetProperty("couponDiscount").GetInt64(), row.GetProperty("couponCost").GetInt64())); // the use returned whole left out

        var csv = System.Text.Encoding.UTF8.GetString(await (await (await app.SignInAsync("manager-a")).Http.Get("/api/finance/costs.csv?from=2026-09-10&to=2026-09-10")).Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith("\uFEFFstore_code,store_name,month,redemptions,redemption_value,", csv, StringComparison.Ordinal);
        Assert.Contains(",2026-09,1,8.00,1,30.00,30.00,", csv, StringComparison.Ordinal);
    }

    private async Task Issue(ConsoleClient staff, string template, long member) =>
        Assert.Equal(HttpStatusCode.OK, (await staff.Http.PostJson("/api/coupons/issue", new { template, memberIds = new[] { member }, reason = "test", storeId = app.Org.StoreA1 })).StatusCode);

    private async Task EnsureProgramAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "programs", "x2-coupons-and-catalogue.json"))
            .Replace("\"X2-COUPONS\"", "\"CHAIN-A\"", StringComparison.Ordinal);
        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }

    [Fact]
    public async Task GiftsWaitingForPickup_ArePagedInTheDatabase_NewestFirst_SoTheOldestAreReachable()
    {
        using var b1 = app.TerminalClient(app.Org.TerminalB1);
        var member = (await (await b1.PostJson("/api/members", new { name = "待领会员", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var start = new DateTime(2026, 5, 1, 2, 0, 0, DateTimeKind.Utc);
        var made = new List<long>();
        for (var i = 0; i < 25; i++)
        {
            made.Add(await app.WithDbAsync(async db =>
            {
                var r = new Domain.Rewards.Redemption(app.Org.ProgramB, member, app.Org.StoreB1, "cup", "杯子", Domain.Programs.RewardKind.Gift, 10, 500, null, start.AddMinutes(i));
                db.Redemptions.Add(r);
                await db.SaveChangesAsync();
                return r.Id;
            }));
        }

        var waiting = await app.WithDbAsync(db => db.Redemptions.Where(r => r.StoreId == app.Org.StoreB1 && r.Kind == Domain.Programs.RewardKind.Gift && r.Status == Domain.Rewards.RedemptionStatus.Done)
            .OrderByDescending(r => r.At).ThenByDescending(r => r.Id).Select(r => r.Id).ToListAsync());
        Assert.Equal(made.Count, waiting.Intersect(made).Count());

        // The API: 200 a page, newest first, the total in a header; a page past the end is empty.
        var admin = await app.SignInAsync("admin");
        var first = await admin.Http.Get($"/api/redemptions?storeId={app.Org.StoreB1}&awaitingPickup=true");
        Assert.Equal(waiting.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(first.Headers.GetValues("X-Total-Count")));
        Assert.Equal(waiting.Take(200), (await first.ReadJson()).EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        Assert.Equal(0, (await (await admin.Http.Get($"/api/redemptions?storeId={app.Org.StoreB1}&awaitingPickup=true&page={(waiting.Count / 200) + 2}")).ReadJson()).GetArrayLength());

        // The console: 20 a page with the total; the next page holds the older ones.
        var desk = $"/catalogue?store={app.Org.StoreB1}";
        var page1 = await admin.GetPageAsync(desk);
        Assert.Contains($"data-testid=\"awaiting-total\">{waiting.Count}<", page1, StringComparison.Ordinal);
        Assert.Equal(waiting.Take(20), Regex.Matches(page1, "data-testid=\"awaiting-row\" data-id=\"(\\d+)\"").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains($"href=\"/catalogue?store={app.Org.StoreB1}&amp;ap=2\" data-testid=\"awaiting-next\"", page1, StringComparison.Ordinal);
        var page2 = await admin.GetPageAsync($"{desk}&ap=2");
        Assert.Equal(waiting.Skip(20).Take(20), Regex.Matches(page2, "data-testid=\"awaiting-row\" data-id=\"(\\d+)\"").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));

        // A page number far past the end: the API answers an empty page (no overflowing offset), the console its last page.
        var far = await admin.Http.Get($"/api/redemptions?storeId={app.Org.StoreB1}&awaitingPickup=true&page={int.MaxValue}");
        Assert.Equal(HttpStatusCode.OK, far.StatusCode);
        Assert.Equal(0, (await far.ReadJson()).GetArrayLength());
        var last = await admin.GetPageAsync($"{desk}&ap={int.MaxValue}");
        Assert.Equal(waiting.Skip((waiting.Count - 1) / 20 * 20), Regex.Matches(last, "data-testid=\"awaiting-row\" data-id=\"(\\d+)\"").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
    }

    private async Task<long> EnrolAsync()
    {
        var response = await _a1.PostJson("/api/members", new { name = "券会员", mobile = PatronApp.NewPhone() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
    }

    private static string Order() => "CP-" + Guid.NewGuid().ToString("N")[..12];
}

public sealed class CouponsAndCatalogueSqliteTests(SqliteApp app) : CouponsAndCatalogueTests(app), IClassFixture<SqliteApp>;

public sealed class CouponsAndCataloguePostgresTests(PostgresApp app) : CouponsAndCatalogueTests(app), IClassFixture<PostgresApp>;
