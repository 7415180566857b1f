using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Patron.Domain.Coupons;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// The member 360° page and the member list on each database: every tab shows the member's own
/// rows, newest first, a page at a time (page 2 holds the older rows); a member of another chain
/// is not found; the list filters, sorts and pages on the server within the caller's stores, and
/// its export link gives the same members, masked, to the roles the export API allows.
/// </summary>
public abstract partial class Member360Tests(PatronApp app)
{
    private const string Program = """
        {
          "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01",
          "earning": { "amountPerPoint": 100 },
          "expiry": { "kind": "after_days", "after": 365 },
          "tiers": [ { "code": "standard", "name": "普通" }, { "code": "silver", "name": "银卡" } ],
          "returns": { "windowDays": 30 },
          "pointsDebt": { "allowed": true }
        }
        """;

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);
    private readonly HttpClient _a2 = app.TerminalClient(app.Org.TerminalA2);

    [Fact]
    public async Task MemberWithHistory_EachTabShowsItsRowsNewestFirst_AndPageTwoHoldsTheOlderOnes()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync(_a1, "三百六");
        var orders = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            var order = $"M360-{member}-{i:D2}";
            var sold = await _a1.PostJson("/api/checkout/sales", new { orderNumber = order, memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } } });
            Assert.Equal(HttpStatusCode.OK, sold.StatusCode);
            orders.Add(order);
        }

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var returned = await _a1.PostJson("/api/checkout/returns", new { orderNumber = orders[^1], returnNumber = $"R-{member}" });
        Assert.Equal(HttpStatusCode.OK, returned.StatusCode);
        var returnId = await app.WithDbAsync(db => db.Sales.Where(s => s.MemberId == member && s.OrderNumber == $"R-{member}").Select(s => s.Id).SingleAsync());

        var admin = await app.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{member}/tier", new { tier = "silver", reason = "大客户" })).StatusCode);
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await admin.Http.PostJson($"/api/members/{member}/points/adjustments", new { points = 7, reason = "补录小票", storeId = app.Org.StoreA1 })).IsSuccessStatusCode);
        await SeedCouponsAsync(member, orders[0]);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/members/{member}/consents", new { kind = "marketing_sms", granted = true, source = "paper" })).StatusCode);
        var due = DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime).AddDays(10);
        await app.WithDbAsync(async db =>
        {
            db.CareTasks.Add(new Domain.Care.CareTask(member, app.Org.StoreA1, Domain.Care.CareTaskKind.Visit, due.AddDays(20), null, app.Clock.GetUtcNow().UtcDateTime, null));
            db.CareTasks.Add(new Domain.Care.CareTask(member, app.Org.StoreA1, Domain.Care.CareTaskKind.Visit, due, null, app.Clock.GetUtcNow().UtcDateTime, null));
            return await db.SaveChangesAsync();
        });

        var cashier = await app.SignInAsync("cashier-a1");
        var url = $"/members/{member}";

        // Sales and returns: 26, newest (the return) first, each linking to its receipt.
        var sales = await cashier.GetPageAsync($"{url}?tab=sales");
        Assert.Equal(20, Count(sales, "sale-row"));
        Assert.Matches("data-testid=\"sale-row\" data-kind=\"return\"", sales[..sales.IndexOf("data-testid=\"sale-row\" data-kind=\"sale\"", StringComparison.Ordinal)]);
        Assert.Contains($"href=\"/desk/sales/{returnId}\"", sales, StringComparison.Ordinal);
        Assert.Contains(orders[^1], sales, StringComparison.Ordinal);
        Assert.DoesNotContain(orders[0], sales, StringComparison.Ordinal);
        var olderSales = await cashier.GetPageAsync($"{url}?tab=sales&p=2");
        Assert.Equal(6, Count(olderSales, "sale-row"));
        Assert.Contains(orders[0], olderSales, StringComparison.Ordinal);
        Assert.DoesNotContain(orders[^1], olderSales, StringComparison.Ordinal);

        // Points: 25 earned, 1 reversed, 1 adjusted; each earning shows its expiry, a year on.
        var firstLot = await app.WithDbAsync(db => db.PointsEntries.Where(e => e.MemberId == member && e.Reference == orders[0]).Select(e => e.Lot!.ExpiresAt).SingleAsync());
        Assert.NotNull(firstLot);
        var points = await cashier.GetPageAsync($"{url}?tab=points");
        Assert.Equal(20, Count(points, "points-row"));
        Assert.Contains("data-testid=\"points-cause\">人工调整<", points, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"points-cause\">退货<", points, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"expiring-lots\"", points, StringComparison.Ordinal);
        var olderPoints = await cashier.GetPageAsync($"{url}?tab=points&p=2");
        Assert.Equal(7, Count(olderPoints, "points-row"));
        Assert.Contains(orders[0], olderPoints, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"points-expires\">{TimeZoneInfo.ConvertTimeFromUtc(firstLot!.Value, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")):yyyy-MM-dd}<", olderPoints, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"points-cause\">消费<", olderPoints, StringComparison.Ordinal);

        // The overview reads only the latest ten entries and links to the rest.
        var overview = await cashier.GetPageAsync(url);
        Assert.Contains("全部 27 条积分流水", overview, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"member-tabs\"", overview, StringComparison.Ordinal);

        // Coupons in each state, the used one with where it was used.
        var coupons = await cashier.GetPageAsync($"{url}?tab=coupons");
        Assert.Equal(4, Count(coupons, "coupon-row"));
        foreach (var state in new[] { "held", "used", "expired", "void" })
        {
            var only = await cashier.GetPageAsync($"{url}?tab=coupons&state={state}");
            Assert.Equal(1, Count(only, "coupon-row"));
            Assert.Contains($"data-state=\"{state}\"", only, StringComparison.Ordinal);
        }

        var used = await cashier.GetPageAsync($"{url}?tab=coupons&state=used");
        Assert.Contains(orders[0], used, StringComparison.Ordinal);
        Assert.Contains("A一店", used, StringComparison.Ordinal);
        Assert.Contains("−¥3.00", used, StringComparison.Ordinal);

        // Tier history: the manual change, by whom and why.
        var tiers = await cashier.GetPageAsync($"{url}?tab=tiers");
        Assert.Contains("data-reason=\"manual\"", tiers, StringComparison.Ordinal);
        Assert.Contains("silver", tiers, StringComparison.Ordinal);
        Assert.Contains("大客户", tiers, StringComparison.Ordinal);

        // Care and consents.
        var care = await cashier.GetPageAsync($"{url}?tab=care");
        Assert.Contains(due.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Between(care, "data-testid=\"care-next\">", "<"), StringComparison.Ordinal);
        Assert.Contains("data-kind=\"marketing_sms\" data-granted=\"true\"", care, StringComparison.Ordinal);

        // The audit trail: for those who read the audit log, not for cashiers.
        Assert.DoesNotContain("data-testid=\"tab-audit\"", overview, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"member-audit\"", await cashier.GetPageAsync($"{url}?tab=audit"), StringComparison.Ordinal);
        var audit = await admin.GetPageAsync($"{url}?tab=audit");
        Assert.Contains($"href=\"/audit?memberId={member}\"", audit, StringComparison.Ordinal);
        Assert.Contains("data-action=\"points.adjusted\"", audit, StringComparison.Ordinal);
        Assert.Contains("admin", Between(audit, "data-action=\"points.adjusted\">", "</tr>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SalesTab_LinksAReceipt_OnlyWhereTheCallerMayOpenIt()
    {
        await EnsureProgramAsync();
        using var a2 = app.TerminalClient(app.Org.TerminalA2);
        var member = await EnrolAsync(_a1, "小票链接");
        var (atA1, atA2) = ($"LNK1-{member}", $"LNK2-{member}");
        foreach (var (terminal, order) in new[] { (_a1, atA1), (a2, atA2) })
        {
            Assert.Equal(HttpStatusCode.OK, (await terminal.PostJson("/api/checkout/sales", new { orderNumber = order, memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } })).StatusCode);
        }

        var ids = await app.WithDbAsync(db => db.Sales.Where(s => s.MemberId == member).ToDictionaryAsync(s => s.OrderNumber, s => s.Id));
        async Task<(bool A1, bool A2)> LinksAsync(string user)
        {
            var tab = await (await app.SignInAsync(user)).GetPageAsync($"/members/{member}?tab=sales");
            Assert.Contains(atA2, tab, StringComparison.Ordinal); // the row is there either way
            return (tab.Contains($"href=\"/desk/sales/{ids[atA1]}\"", StringComparison.Ordinal), tab.Contains($"href=\"/desk/sales/{ids[atA2]}\"", StringComparison.Ordinal));
        }

        Assert.Equal((true, false), await LinksAsync("cashier-a1")); // the member is A1's; the A2 receipt opens only at A2
        Assert.Equal((true, true), await LinksAsync("manager-a"));
        Assert.Equal((true, true), await LinksAsync("admin"));
        Assert.Equal((false, false), await LinksAsync("auditor")); // not a counter role
    }

    [Fact]
    public async Task MemberOfAnotherChain_IsNotFound_OnEveryTab()
    {
        var b1 = app.TerminalClient(app.Org.TerminalB1);
        var other = await EnrolAsync(b1, "外链会员");
        var cashier = await app.SignInAsync("cashier-a1");
        foreach (var tab in new[] { "", "?tab=points", "?tab=stored", "?tab=sales", "?tab=coupons", "?tab=tiers", "?tab=care", "?tab=audit" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await cashier.GetAsync($"/members/{other}{tab}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await (await app.SignInAsync("cashier-b1")).GetAsync($"/members/{other}?tab=sales")).StatusCode);
    }

    [Fact]
    public async Task MemberList_FiltersSortsAndPagesOnTheServer_WithinTheCallersStores_AndExportsTheSameMembersMasked()
    {
        await EnsureProgramAsync();
        app.Clock.Set(new DateTimeOffset(2027, 3, 10, 2, 0, 0, TimeSpan.Zero)); // 10:00 in Beijing
        var ids = new List<long>();
        foreach (var name in new[] { "Ann List", "Bob List", "Cid List" }.Concat(Enumerable.Range(1, 18).Select(i => $"Fil List {i:D2}")))
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            ids.Add(await EnrolAsync(_a2, name));
        }

        var (ann, bob, cid) = (ids[0], ids[1], ids[2]);
        await _a2.PostJson("/api/checkout/sales", new { orderNumber = $"L-{ann}", memberId = ann, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 30_000 } } });
        await _a2.PostJson("/api/checkout/sales", new { orderNumber = $"L-{bob}", memberId = bob, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } } });
        var admin = await app.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{bob}/tier", new { tier = "silver", reason = "测试" })).StatusCode);
        await app.WithDbAsync(async db =>
        {
            var m = await db.Members.SingleAsync(x => x.Id == cid);
            db.Entry(m).Property(x => x.Status).CurrentValue = Domain.Members.MemberStatus.Inactive;
            return await db.SaveChangesAsync();
        });

        var period = $"storeId={app.Org.StoreA2}&from=2027-03-10&to=2027-03-10";
        var manager = await app.SignInAsync("manager-a");

        // Newest enrolled first, 20 a page: page 2 holds the first enrolled.
        var first = await manager.GetPageAsync($"/members?{period}");
        Assert.Contains("data-testid=\"list-total\">21<", first, StringComparison.Ordinal);
        Assert.Equal(20, RowIds(first).Count);
        Assert.Equal(ids[^1], RowIds(first)[0]);
        Assert.DoesNotContain(ann, RowIds(first));
        Assert.Equal([ann], RowIds(await manager.GetPageAsync($"/members?{period}&p=2")));
        Assert.Equal([ann, bob, cid], RowIds(await manager.GetPageAsync($"/members?{period}&sort=name"))[..3]);
        Assert.Equal([ann, bob], RowIds(await manager.GetPageAsync($"/members?{period}&sort=points"))[..2]);
        Assert.Equal(bob, RowIds(await manager.GetPageAsync($"/members?{period}&sort=points_asc"))[^1]);
        Assert.Equal([ids[0], ids[1], ids[2]], RowIds(await manager.GetPageAsync($"/members?{period}&sort=enrolled_asc"))[..3]);
        Assert.Equal([bob], RowIds(await manager.GetPageAsync($"/members?{period}&tier=silver")));
        Assert.Equal([cid], RowIds(await manager.GetPageAsync($"/members?{period}&status=inactive")));
        Assert.DoesNotContain(bob, RowIds(await manager.GetPageAsync($"/members?{period}&tier=standard")));
        Assert.Contains(ann, RowIds(await manager.GetPageAsync($"/members?{period}&tier=standard")));

        // A period that runs backwards is refused next to the field; a cashier of A1 sees none of A2's members.
        var backwards = await manager.GetAsync($"/members?storeId={app.Org.StoreA2}&from=2027-03-11&to=2027-03-10");
        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
        Assert.Contains("is-invalid", Between(await backwards.ReadText(), "id=\"f-to\"", "/>"), StringComparison.Ordinal);
        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Empty(RowIds(await cashier.GetPageAsync("/members?from=2027-03-10&to=2027-03-10")));
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.GetAsync($"/members?{period}")).StatusCode);

        // The export button carries the list's filter into its job: the same members, masked, audited with the filter.
        var filtered = await manager.GetPageAsync($"/members?{period}&tier=silver");
        var form = Regex.Match(filtered, "<form[^>]*data-testid=\"export-form\"[^>]*>(.*?)</form>", RegexOptions.Singleline).Groups[1].Value;
        var fields = Regex.Matches(form, "name=\"(\\w+)\" value=\"([^\"]*)\"").ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        Assert.Equal((app.Org.StoreA2.ToString(System.Globalization.CultureInfo.InvariantCulture), "silver", "2027-03-10", "2027-03-10"), (fields["storeId"], fields["tier"], fields["from"], fields["to"]));
        var queued = await manager.PostFormAsync("/members?handler=Export", fields);
        Assert.Equal(HttpStatusCode.Redirect, queued.StatusCode);
        var job = long.Parse(queued.Headers.Location!.OriginalString["/jobs/".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("completed", (await ConsoleJobTests.WaitAsync(manager, job)).GetProperty("status").GetString());
        var csv = await (await manager.Http.Get($"/api/jobs/{job}/file")).ReadText();
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"{bob},B", lines[1], StringComparison.Ordinal);
        Assert.Contains("****", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("Bob List", lines[1], StringComparison.Ordinal);
        var exported = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "members.exported").OrderByDescending(a => a.Id).FirstAsync());
        Assert.Contains("silver", exported.Detail ?? "", StringComparison.Ordinal);

        // In clear only for roles allowed to unmask, with a reason; never for another store's cashier.
        var clear = await manager.Http.PostJson("/api/members/export/unmask", new { storeId = app.Org.StoreA2, from = "2027-03-10", to = "2027-03-10", status = "inactive", reason = "回访名单" });
        var clearLines = (await clear.ReadText()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, clearLines.Length);
        Assert.StartsWith($"{cid},Cid List,", clearLines[1], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson("/api/members/export/unmask", new { reason = "x", status = "inactive" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.Get($"/api/members/export.csv?{period}")).StatusCode);
    }

    private static int Count(string html, string testId) => Regex.Count(html, $"data-testid=\"{testId}\"");

    private static List<long> RowIds(string html) =>
        [.. RowPattern().Matches(html).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [GeneratedRegex("data-testid=\"member-row\" data-id=\"(\\d+)\"")]
    private static partial Regex RowPattern();

    private static string Between(string text, string start, string end)
    {
        var a = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(a >= 0, $"'{start}' not found");
        a += start.Length;
        var b = text.IndexOf(end, a, StringComparison.Ordinal);
        return text[a..b];
    }

    /// <summary>Four coupons of the member: one held, one used on a sale at A1, one expired, one voided.</summary>
    private async Task SeedCouponsAsync(long member, string usedOn) => await app.WithDbAsync(async db =>
    {
        var now = app.Clock.GetUtcNow().UtcDateTime;
        var template = new CouponTemplate { Code = "C3", Name = "三元券", Kind = CouponKind.Cash, Value = 300 };
        var held = new Coupon(app.Org.ProgramA, member, template, CouponSource.Manual, "test", now.AddDays(-3), null, now.AddDays(30));
        var used = new Coupon(app.Org.ProgramA, member, template, CouponSource.Manual, "test", now.AddDays(-4), null, now.AddDays(30));
        var expired = new Coupon(app.Org.ProgramA, member, template, CouponSource.Manual, "test", now.AddDays(-5), null, now.AddDays(-1));
        var voided = new Coupon(app.Org.ProgramA, member, template, CouponSource.Manual, "test", now.AddDays(-6), null, now.AddDays(30));
        voided.Void(now.AddDays(-1));
        db.Coupons.AddRange(held, used, expired, voided);
        db.Entry(used).Property(c => c.Status).CurrentValue = CouponStatus.Used;
        db.Entry(used).Property(c => c.UsedAt).CurrentValue = now.AddDays(-2);
        await db.SaveChangesAsync();
        var sale = await db.Sales.SingleAsync(s => s.OrderNumber == usedOn && s.MemberId == member);
        db.CouponUses.Add(new CouponUse(used.Id, app.Org.ProgramA, sale.Id, member, app.Org.StoreA1, now.AddDays(-2), 300, 300));
        return await db.SaveChangesAsync();
    });

    private async Task<long> EnrolAsync(HttpClient terminal, string name)
    {
        var response = await terminal.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
    }

    private async Task EnsureProgramAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", Program);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }
}

public sealed class Member360SqliteTests(SqliteApp app) : Member360Tests(app), IClassFixture<SqliteApp>;

public sealed class Member360PostgresTests(PostgresApp app) : Member360Tests(app), IClassFixture<PostgresApp>;
