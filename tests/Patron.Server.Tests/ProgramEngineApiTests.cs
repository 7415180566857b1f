using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Domain.Organisation;
using Patron.Domain.Points;
using Patron.Server.Features.Staff;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// The program engine through the API on each database: program versions (import, validation,
/// publish, export), checkout (idempotent commit, exact returns, concurrency) and manual
/// adjustments with a second approver.
/// </summary>
public abstract class ProgramEngineApiTests(PatronApp app)
{
    /// <summary>A weekday-independent program for program A: ¥1 = 1 point, 10% for silver, returns within 30 days, debt allowed.</summary>
    public const string ProgramA = """
        {
          "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01",
          "earning": { "amountPerPoint": 100, "excluded": { "flags": ["special_price"] } },
          "tiers": [
            { "code": "standard", "name": "普通" },
            { "code": "silver", "name": "银卡", "qualification": { "kind": "cumulative_points", "threshold": 100000 }, "percentOff": 10 }
          ],
          "returns": { "windowDays": 30, "notReturnable": { "categories": ["drug"] } },
          "pointsDebt": { "allowed": true },
          "redemption": { "items": [ { "code": "c5", "name": "¥5 券", "points": 500, "kind": "coupon", "value": 500 } ] }
        }
        """;

    private readonly bool _available = app.EnsureAvailable();

    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    [Fact]
    public async Task ImportProgram_MalformedOrInvalid_IsRefusedNamingTheField_AndNothingIsStored()
    {
        var admin = await app.SignInAsync("admin");
        var before = await app.WithDbAsync(db => db.ProgramVersions.CountAsync());
        var url = $"/api/programs/{app.Org.ProgramA}/versions";

        await AssertProblem(await admin.Http.PostRaw(url, """{ "code": "CHAIN-A", "name": "A", "earning": { "amountPerPoint": "ten" } }"""),
            HttpStatusCode.UnprocessableEntity, "program.file_malformed", ("earning.amountPerPoint", "program.file_malformed"));
        await AssertProblem(await admin.Http.PostRaw(url, """{ "code": "CHAIN-A", "name": "A", "earnig": {} }"""),
            HttpStatusCode.UnprocessableEntity, "program.file_malformed", ("earnig", "program.file_malformed"));
        await AssertProblem(await admin.Http.PostRaw(url, """{ "code": "CHAIN-A", "name": "A", "earning": { "amountPerPoint": 0 } }"""),
            HttpStatusCode.UnprocessableEntity, "program.invalid", ("earning.amountPerPoint", "program.invalid"));
        await AssertProblem(await admin.Http.PostRaw(url, ProgramA.Replace("CHAIN-A", "CHAIN-B", StringComparison.Ordinal)),
            HttpStatusCode.BadRequest, "validation.failed", ("code", "program.code_mismatch"));

        Assert.Equal(before, await app.WithDbAsync(db => db.ProgramVersions.CountAsync()));
    }

    [Fact]
    public async Task ProgramVersion_DraftIsNotInForceUntilPublished_ThenExportsAsImported_AndNeverChanges()
    {
        var b1 = app.TerminalClient(app.Org.TerminalB1);
        var admin = await app.SignInAsync("admin");
        var url = $"/api/programs/{app.Org.ProgramB}/versions";
        var quote = new { lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1000 } } };
        var file = ProgramA.Replace("CHAIN-A", "CHAIN-B", StringComparison.Ordinal);

        await AssertProblem(await b1.PostJson("/api/checkout/quote", quote), HttpStatusCode.Conflict, "program.not_in_force");
        var cashier = await app.SignInAsync("cashier-b1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostRaw(url, file)).StatusCode);

        var created = await admin.Http.PostRaw(url, file);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal("draft", (await created.ReadJson()).GetProperty("status").GetString());
        await AssertProblem(await b1.PostJson("/api/checkout/quote", quote), HttpStatusCode.Conflict, "program.not_in_force");

        var published = await admin.Http.PostJson($"{url}/{version}/publish", new { });
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        var priced = await b1.PostJson("/api/checkout/quote", quote);
        Assert.Equal(HttpStatusCode.OK, priced.StatusCode);
        Assert.Equal(1000, (await priced.ReadJson()).GetProperty("payable").GetInt64());

        var exported = await (await admin.Http.Get($"{url}/{version}")).ReadText();
        var reimported = Domain.Programs.ProgramFile.Parse(exported);
        Assert.Equal("CHAIN-B", reimported.Code);
        Assert.Equal(30, reimported.Returns.WindowDays);
        Assert.Equal(500, Assert.Single(reimported.Redemption.Items).Points);

        var put = new HttpRequestMessage(HttpMethod.Put, $"{url}/{version}") { Content = new StringContent(file, System.Text.Encoding.UTF8, "application/json") };
        await AssertProblem(await admin.Http.SendRequest(put), HttpStatusCode.UnprocessableEntity, "program.version_published");

        // A later version may not take effect in the past: sales already made keep their rules.
        var second = await admin.Http.PostRaw(url, file);
        var secondVersion = (await second.ReadJson()).GetProperty("version").GetInt32();
        await AssertProblem(await admin.Http.PostJson($"{url}/{secondVersion}/publish", new { }), HttpStatusCode.BadRequest, "validation.failed", ("effectiveFrom", "program.effective_in_past"));

        var manager = await app.SignInAsync("manager-a");
        await AssertProblem(await manager.Http.Get(url), HttpStatusCode.NotFound, "program.not_found");
        var audit = await app.WithDbAsync(db => db.AuditLog.Where(a => a.Action.StartsWith("program.")).Select(a => a.Action).ToListAsync());
        Assert.Contains("program.published", audit);
    }

    [Fact]
    public async Task CommitSale_RetriedWithTheSameBody_IsRecordedOnce_AndADifferentBodyIsAConflict()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        var order = "T-" + Guid.NewGuid().ToString("N")[..10];
        var sale = new { orderNumber = order, memberId = member, lines = new[] { new { sku = "X", quantity = 2, unitPrice = 10_000 }, new { sku = "S", quantity = 1, unitPrice = 500 } } };
        var specials = new { orderNumber = order, memberId = member, lines = new[] { new { sku = "X", quantity = 3, unitPrice = 10_000 } } };

        var first = await _a1.PostJson("/api/checkout/sales", sale);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await first.ReadJson();
        Assert.Equal(205, body.GetProperty("points").GetInt64());
        Assert.Equal(205, body.GetProperty("balance").GetInt64());

        var again = await (await _a1.PostJson("/api/checkout/sales", sale)).ReadJson();
        Assert.True(again.GetProperty("replayed").GetBoolean());
        Assert.Equal(body.GetProperty("saleId").GetInt64(), again.GetProperty("saleId").GetInt64());
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", specials), HttpStatusCode.Conflict, "sale.order_taken");

        var points = await (await _a1.Get($"/api/members/{member}/points")).ReadJson();
        Assert.Equal(205, points.GetProperty("balance").GetInt64());
        Assert.Single(points.GetProperty("entries").EnumerateArray());
        await AssertLedgerBalancedAsync(member);
    }

    [Fact]
    public async Task Return_PartialThenTheRest_ReversesExactlyWhatEachLineEarned_AndNeverMoreThanSold()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        var order = "R-" + Guid.NewGuid().ToString("N")[..10];
        var sold = await (await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = order,
            memberId = member,
            lines = new object[]
            {
                new { sku = "A", quantity = 3, unitPrice = 1000 },
                new { sku = "B", quantity = 1, unitPrice = 1001 },
                new { sku = "M", quantity = 1, unitPrice = 800, category = "drug" },
            },
        })).ReadJson();
        var lines = sold.GetProperty("lines");
        Assert.Equal(48, sold.GetProperty("points").GetInt64());
        Assert.Equal(48, lines.EnumerateArray().Sum(l => l.GetProperty("points").GetInt64()));
        var lineA = lines[0].GetProperty("points").GetInt64();

        var one = await (await _a1.PostJson("/api/checkout/returns", new { orderNumber = order, lines = new[] { new { line = 1, quantity = 1 } } })).ReadJson();
        var rest = await (await _a1.PostJson("/api/checkout/returns", new { orderNumber = order, lines = new[] { new { line = 1 } } })).ReadJson();
        Assert.Equal(-1000, one.GetProperty("paid").GetInt64());
        Assert.Equal(-2000, rest.GetProperty("paid").GetInt64());
        Assert.Equal(-lineA, one.GetProperty("points").GetInt64() + rest.GetProperty("points").GetInt64());
        Assert.Equal(48 - lineA, rest.GetProperty("balance").GetInt64());

        await AssertProblem(await _a1.PostJson("/api/checkout/returns", new { orderNumber = order, lines = new[] { new { line = 1, quantity = 1 } } }),
            HttpStatusCode.UnprocessableEntity, "return.quantity_exceeds");
        await AssertProblem(await _a1.PostJson("/api/checkout/returns", new { orderNumber = order, lines = new[] { new { line = 3 } } }),
            HttpStatusCode.UnprocessableEntity, "return.not_returnable");
        await AssertProblem(await _a1.PostJson("/api/checkout/returns", new { orderNumber = "no-such-order" }), HttpStatusCode.NotFound, "sale.not_found");
        await AssertLedgerBalancedAsync(member);
    }

    [Fact]
    public async Task ConcurrentSalesAndRedemptions_OneMember_NoLostUpdate_AndNeverOverspent()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        var sales = Enumerable.Range(0, 12).Select(i => _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = $"C-{member}-{i}",
            memberId = member,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } },
        }));
        Assert.All(await Task.WhenAll(sales), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1200, (await (await _a1.Get($"/api/members/{member}/points")).ReadJson()).GetProperty("balance").GetInt64());

        var redemptions = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _a1.PostJson($"/api/members/{member}/redemptions", new { item = "c5" })));
        Assert.Equal(2, redemptions.Count(r => r.StatusCode == HttpStatusCode.OK));
        foreach (var refused in redemptions.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await AssertProblem(refused, HttpStatusCode.UnprocessableEntity, "points.insufficient");
        }

        var points = await (await _a1.Get($"/api/members/{member}/points")).ReadJson();
        Assert.Equal(200, points.GetProperty("balance").GetInt64());
        Assert.Equal(2, points.GetProperty("coupons").GetArrayLength());
        Assert.Equal(1200, points.GetProperty("cumulativeEarned").GetInt64());
        await AssertLedgerBalancedAsync(member);
    }

    [Fact]
    public async Task Checkout_OutsideTheCallersScope_IsRefused()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        var line = new[] { new { sku = "X", quantity = 1, unitPrice = 100 } };

        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new { orderNumber = "S-1", storeId = app.Org.StoreA2, memberId = member, lines = line }),
            HttpStatusCode.Forbidden, "scope.store_forbidden");
        await AssertProblem(await app.TerminalClient(app.Org.TerminalB1).PostJson("/api/checkout/quote", new { memberId = member, lines = line }),
            HttpStatusCode.NotFound, "member.not_found");
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new { orderNumber = "", memberId = member, lines = line }),
            HttpStatusCode.BadRequest, "validation.failed", ("orderNumber", "sale.order_number_invalid"));
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new { orderNumber = "S-2", memberId = member, lines = new[] { new { sku = "X", quantity = 0, unitPrice = 100 } } }),
            HttpStatusCode.BadRequest, "validation.failed", ("lines[0].quantity", "sale.quantity_invalid"));
        var auditor = await app.SignInAsync("auditor");
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.Http.PostJson("/api/checkout/sales", new { orderNumber = "S-3", storeId = app.Org.StoreA1, lines = line })).StatusCode);
    }

    [Fact]
    public async Task AdjustPoints_RoleCapsAndASecondApprover_AllAudited()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        var url = $"/api/members/{member}/points/adjustments";
        var cashier = await app.SignInAsync("cashier-a1");
        var manager = await app.SignInAsync("manager-a");
        var admin = await app.SignInAsync("admin");
        var admin2 = await SecondAdminAsync();

        await AssertProblem(await cashier.Http.PostJson(url, new { points = 10, reason = "补录" }), HttpStatusCode.UnprocessableEntity, "adjustment.role_forbidden");
        await AssertProblem(await manager.Http.PostJson(url, new { points = 600, reason = "补录", storeId = app.Org.StoreA1 }), HttpStatusCode.UnprocessableEntity, "adjustment.over_cap");
        await AssertProblem(await manager.Http.PostJson(url, new { points = 10, reason = " ", storeId = app.Org.StoreA1 }), HttpStatusCode.UnprocessableEntity, "adjustment.reason_required");
        var applied = await (await manager.Http.PostJson(url, new { points = 300, reason = "补录小票", storeId = app.Org.StoreA1 })).ReadJson();
        Assert.Equal("applied", applied.GetProperty("status").GetString());
        Assert.Equal(300, applied.GetProperty("balance").GetInt64());
        await AssertProblem(await manager.Http.PostJson(url, new { points = -301, reason = "冲正", storeId = app.Org.StoreA1 }), HttpStatusCode.UnprocessableEntity, "points.insufficient");

        var pending = await (await admin.Http.PostJson(url, new { points = 5000, reason = "系统迁移", storeId = app.Org.StoreA1 })).ReadJson();
        Assert.Equal("pending", pending.GetProperty("status").GetString());
        Assert.Equal(300, pending.GetProperty("balance").GetInt64());
        var id = pending.GetProperty("id").GetInt64();
        await AssertProblem(await admin.Http.PostJson($"/api/points/adjustments/{id}/approve", new { }), HttpStatusCode.UnprocessableEntity, "adjustment.same_approver");
        await AssertProblem(await manager.Http.PostJson($"/api/points/adjustments/{id}/approve", new { }), HttpStatusCode.UnprocessableEntity, "adjustment.approver_over_cap");
        Assert.Contains((await (await admin2.Http.Get("/api/points/adjustments/pending")).ReadJson()).EnumerateArray(), a => a.GetProperty("id").GetInt64() == id);
        var approved = await (await admin2.Http.PostJson($"/api/points/adjustments/{id}/approve", new { })).ReadJson();
        Assert.Equal("applied", approved.GetProperty("status").GetString());
        Assert.Equal(5300, approved.GetProperty("balance").GetInt64());
        await AssertProblem(await admin2.Http.PostJson($"/api/points/adjustments/{id}/approve", new { }), HttpStatusCode.UnprocessableEntity, "adjustment.not_pending");

        var actions = await app.WithDbAsync(db => db.AuditLog.Where(a => a.MemberId == member).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
        Assert.Equal(["member.enrolled", "points.adjusted", "points.adjustment_requested", "points.adjustment_approved"], actions);
        var causes = await app.WithDbAsync(db => db.PointsEntries.Where(e => e.MemberId == member).Select(e => new { e.Cause, e.StaffId }).ToListAsync());
        Assert.All(causes, c => Assert.Equal(PointsCause.Adjustment, c.Cause));
        Assert.All(causes, c => Assert.NotNull(c.StaffId));
        await AssertLedgerBalancedAsync(member);
    }

    [Fact]
    public async Task SimulateDraft_OverStoredSales_ReportsTheDifference_AndChangesNothing()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        foreach (var i in new[] { 1, 2 })
        {
            Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", new { orderNumber = $"SIM-{member}-{i}", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } } })).StatusCode);
        }

        var admin = await app.SignInAsync("admin");
        var draftFile = ProgramA
            .Replace("\"amountPerPoint\": 100", "\"amountPerPoint\": 50", StringComparison.Ordinal)
            .Replace("\"threshold\": 100000", "\"threshold\": 0", StringComparison.Ordinal)
            .Replace("\"effectiveFrom\": \"2026-01-01\"", "\"effectiveFrom\": \"2099-01-01\", \"pointCashValue\": 2", StringComparison.Ordinal);
        var draft = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", draftFile);
        Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
        var version = (await draft.ReadJson()).GetProperty("version").GetInt32();
        var (salesBefore, entriesBefore) = await app.WithDbAsync(async db => (await db.Sales.CountAsync(), await db.PointsEntries.CountAsync()));
        var today = DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime.AddHours(8)).ToString("yyyy-MM-dd");

        var response = await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/simulate", new { from = today, to = today });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.ReadJson();
        var current = report.GetProperty("current");
        var simulated = report.GetProperty("draft");
        Assert.True(report.GetProperty("sales").GetInt32() >= 2);
        // Twice the points per yuan on 10% less paid: at least 1.8 times as many points.
        Assert.True(simulated.GetProperty("pointsIssued").GetInt64() * 10 >= 18 * current.GetProperty("pointsIssued").GetInt64() - 10 * report.GetProperty("sales").GetInt32());
        Assert.Equal(simulated.GetProperty("pointsIssued").GetInt64() - current.GetProperty("pointsIssued").GetInt64(), report.GetProperty("pointsDelta").GetInt64());
        Assert.True(report.GetProperty("discountDelta").GetInt64() > 0, "every member is silver (10% off) under the draft");
        Assert.Equal(0, simulated.GetProperty("tiers").TryGetProperty("standard", out var standard) ? standard.GetInt32() : 0);
        Assert.Equal(2 * simulated.GetProperty("pointsOutstanding").GetInt64(), simulated.GetProperty("liabilityFen").GetInt64());
        Assert.Equal((salesBefore, entriesBefore), await app.WithDbAsync(async db => (await db.Sales.CountAsync(), await db.PointsEntries.CountAsync())));

        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/simulate", new { })).StatusCode);
    }

    [Fact]
    public async Task Return_AtAnotherStore_IsRecordedThere_AndARetryAnswersWithTheFirstReturn()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        var order = "X-" + Guid.NewGuid().ToString("N")[..10];
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", new { orderNumber = order, memberId = member, lines = new[] { new { sku = "X", quantity = 2, unitPrice = 5000 } } })).StatusCode);
        var a2 = app.TerminalClient(app.Org.TerminalA2);
        var request = new { orderNumber = order, originalStoreId = app.Org.StoreA1, returnNumber = "RET-1", lines = new[] { new { line = 1, quantity = 1 } } };

        var first = await (await a2.PostJson("/api/checkout/returns", request)).ReadJson();
        var retry = await a2.PostJson("/api/checkout/returns", request);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var again = await retry.ReadJson();
        Assert.Equal(first.GetProperty("saleId").GetInt64(), again.GetProperty("saleId").GetInt64());
        Assert.True(again.GetProperty("replayed").GetBoolean());
        Assert.Equal(app.Org.StoreA2, first.GetProperty("storeId").GetInt64());
        Assert.Equal(-50, first.GetProperty("points").GetInt64());
        Assert.Equal(1, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member && s.Kind == Domain.Sales.SaleKind.Return)));
        await AssertLedgerBalancedAsync(member);
    }

    [Fact]
    public async Task ConcurrentReturns_OfOneNonMemberSale_OnlyOneTakesTheGoodsBack()
    {
        await EnsureProgramAAsync();
        var order = "N-" + Guid.NewGuid().ToString("N")[..10];
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", new { orderNumber = order, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 5000 } } })).StatusCode);

        var returns = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => _a1.PostJson("/api/checkout/returns", new { orderNumber = order })));

        Assert.Equal(1, returns.Count(r => r.StatusCode == HttpStatusCode.OK));
        foreach (var refused in returns.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await AssertProblem(refused, HttpStatusCode.UnprocessableEntity, "return.nothing_left");
        }

        var saleId = await app.WithDbAsync(db => db.Sales.Where(s => s.OrderNumber == order && s.Kind == Domain.Sales.SaleKind.Sale).Select(s => s.Id).SingleAsync());
        Assert.Equal(1, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.OriginalSaleId == saleId)));
    }

    [Fact]
    public async Task IdempotencyKey_RetriedWrites_ChangeNothing_AndAReusedKeyIsAConflict()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", new { orderNumber = $"K-{member}", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 120_000 } } })).StatusCode);
        var key = Guid.NewGuid().ToString();

        var redemptions = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Keyed($"/api/members/{member}/redemptions", key, new { item = "c5" })));
        Assert.All(redemptions, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var ids = await Task.WhenAll(redemptions.Select(async r => (await r.ReadJson()).GetProperty("redemptionId").GetInt64()));
        Assert.Single(ids.Distinct());
        Assert.Equal(4, redemptions.Count(r => r.Headers.TryGetValues("Idempotency-Replayed", out _)));
        Assert.Equal(700, (await (await _a1.Get($"/api/members/{member}/points")).ReadJson()).GetProperty("balance").GetInt64());

        await AssertProblem(await Keyed($"/api/members/{member}/redemptions", key, new { item = "other" }), HttpStatusCode.Conflict, "idempotency.key_reused");
        await AssertProblem(await Keyed($"/api/members/{member}/redemptions", new string('k', 101), new { item = "c5" }), HttpStatusCode.BadRequest, "validation.failed", ("Idempotency-Key", "idempotency.key_invalid"));

        // The same key from another terminal is another request.
        var a2 = app.TerminalClient(app.Org.TerminalA2);
        using var other = new HttpRequestMessage(HttpMethod.Post, $"/api/members/{member}/redemptions") { Content = JsonContent(new { item = "c5" }) };
        other.Headers.Add("Idempotency-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await a2.SendRequest(other)).StatusCode);
        Assert.Equal(200, (await (await _a1.Get($"/api/members/{member}/points")).ReadJson()).GetProperty("balance").GetInt64());
        await AssertLedgerBalancedAsync(member);
    }

    [Fact]
    public async Task Identify_ByPhoneCardOrQrToken_ShowsTierPointsAndCoupons_AndRefusesStaleOrForeignCodes()
    {
        await EnsureProgramAAsync();
        var phone = PatronApp.NewPhone();
        var enrolled = await (await _a1.PostJson("/api/members", new { name = "周杰", mobile = phone })).ReadJson();
        var member = enrolled.GetProperty("id").GetInt64();
        var card = enrolled.GetProperty("cards")[0].GetProperty("number").GetString();
        await _a1.PostJson("/api/checkout/sales", new { orderNumber = $"I-{member}", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 60_000 } } });
        await _a1.PostJson($"/api/members/{member}/redemptions", new { item = "c5" });

        var byPhone = await (await _a1.PostJson("/api/checkout/identify", new { phone })).ReadJson();
        Assert.Equal(member, byPhone.GetProperty("member").GetProperty("id").GetInt64());
        Assert.DoesNotContain(phone, byPhone.GetProperty("member").GetProperty("mobile").GetString());
        Assert.Equal(100, byPhone.GetProperty("points").GetInt64());
        Assert.Equal("standard", byPhone.GetProperty("tier").GetProperty("code").GetString());
        Assert.Equal(500, Assert.Single(byPhone.GetProperty("coupons").EnumerateArray()).GetProperty("value").GetInt64());
        Assert.True(byPhone.GetProperty("card").GetProperty("usable").GetBoolean());

        var byCard = await (await _a1.PostJson("/api/checkout/identify", new { cardNumber = card })).ReadJson();
        Assert.Equal(card, byCard.GetProperty("card").GetProperty("number").GetString());

        var token = app.Services.GetRequiredService<Features.Checkout.MemberQrTokens>().Issue(member).Token;
        var byToken = await (await _a1.PostJson("/api/checkout/identify", new { qrToken = token })).ReadJson();
        Assert.Equal(member, byToken.GetProperty("member").GetProperty("id").GetInt64());
        await AssertProblem(await app.TerminalClient(app.Org.TerminalB1).PostJson("/api/checkout/identify", new { qrToken = token }), HttpStatusCode.NotFound, "member.not_found");
        await AssertProblem(await _a1.PostJson("/api/checkout/identify", new { qrToken = token[..^4] + "AAAA" }), HttpStatusCode.BadRequest, "validation.failed", ("qrToken", "qr.invalid"));
        await AssertProblem(await _a1.PostJson("/api/checkout/identify", new { qrToken = token, phone }), HttpStatusCode.BadRequest, "validation.failed");

        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await AssertProblem(await _a1.PostJson("/api/checkout/identify", new { qrToken = token }), HttpStatusCode.UnprocessableEntity, "qr.expired");
    }

    [Fact]
    public async Task Quote_ShowsWhatTheMemberMayPayWith_AndPointsAreRefusedWhereTheProgramTakesNone()
    {
        await EnsureProgramAAsync();
        var member = await EnrolAsync();
        await _a1.PostJson("/api/checkout/sales", new { orderNumber = $"Q-{member}", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 60_000 } } });
        await _a1.PostJson($"/api/members/{member}/redemptions", new { item = "c5" });
        var basket = new[] { new { sku = "X", quantity = 2, unitPrice = 1_250 }, new { sku = "S", quantity = 1, unitPrice = 990 } };

        var quote = await (await _a1.PostJson("/api/checkout/quote", new { memberId = member, lines = basket })).ReadJson();
        Assert.Equal(3490, quote.GetProperty("payable").GetInt64());
        Assert.Equal(34, quote.GetProperty("points").GetInt64());
        Assert.Equal(100, quote.GetProperty("balance").GetInt64());
        Assert.False(quote.GetProperty("payWithPoints").GetProperty("allowed").GetBoolean());
        Assert.Equal(0, quote.GetProperty("payWithPoints").GetProperty("maxPoints").GetInt64());
        Assert.Equal("¥5 券", Assert.Single(quote.GetProperty("coupons").EnumerateArray()).GetProperty("name").GetString());

        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new { orderNumber = $"Q2-{member}", memberId = member, lines = basket, pointsToUse = 10 }),
            HttpStatusCode.UnprocessableEntity, "points.payment_not_allowed");
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new { orderNumber = $"Q3-{member}", lines = basket, pointsToUse = 10 }),
            HttpStatusCode.BadRequest, "validation.failed", ("pointsToUse", "points.payment_invalid"));
        Assert.Equal(100, (await (await _a1.Get($"/api/members/{member}/points")).ReadJson()).GetProperty("balance").GetInt64());
    }

    private async Task<HttpResponseMessage> Keyed(string url, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await _a1.SendRequest(request);
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    private async Task EnsureProgramAAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", ProgramA);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }

    private async Task<long> EnrolAsync()
    {
        var response = await _a1.PostJson("/api/members", new { name = "测试会员", mobile = PatronApp.NewPhone() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
    }

    private async Task<ConsoleClient> SecondAdminAsync()
    {
        await app.WithDbAsync(async db =>
        {
            if (!await db.Staff.AnyAsync(s => s.Login == "admin-2"))
            {
                var staff = new Staff("admin-2", "admin-2", StaffRole.Admin, []);
                staff.SetPasswordHash(StaffSignIn.HashPassword(staff, PatronApp.Password));
                db.Staff.Add(staff);
                await db.SaveChangesAsync();
            }

            return 0;
        });
        return await app.SignInAsync("admin-2");
    }

    /// <summary>Invariant 1: the stored balance equals the sum of the member's ledger entries and of the open lots less debt.</summary>
    private async Task AssertLedgerBalancedAsync(long member)
    {
        var (account, entries, lots) = await app.WithDbAsync(async db => (
            await db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == member),
            await db.PointsEntries.Where(e => e.MemberId == member).SumAsync(e => e.Points),
            await db.PointsLots.Where(l => l.MemberId == member).SumAsync(l => l.Remaining)));
        Assert.Equal(account.Balance, entries);
        Assert.Equal(account.Balance, lots - account.Debt);
    }
}

public sealed class ProgramEngineApiSqliteTests(SqliteApp app) : ProgramEngineApiTests(app), IClassFixture<SqliteApp>;

public sealed class ProgramEngineApiPostgresTests(PostgresApp app) : ProgramEngineApiTests(app), IClassFixture<PostgresApp>;
