using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Domain.Audit;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>The audit log viewer on each database: filters by who, what, member, store and period; administrators and auditors see all, store managers their stores, others nothing.</summary>
public abstract class AuditTrailTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task AuditLog_IsFilteredByWhoWhatMemberStoreAndPeriod_AndScopedByRole()
    {
        var cashier = await app.SignInAsync("cashier-a1");
        var a1Member = (await (await cashier.Http.PostJson("/api/members", new { name = "审计甲", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        using var b1 = app.TerminalClient(app.Org.TerminalB1);
        var b1Member = (await (await b1.PostJson("/api/members", new { name = "审计乙", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var today = app.Clock.GetUtcNow().AddHours(8).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var auditor = await app.SignInAsync("auditor");
        var byStaff = await (await auditor.Http.Get($"/api/audit?staff=cashier-a1&action=member.&from={today}&to={today}")).ReadJson();
        var row = Assert.Single(byStaff.GetProperty("items").EnumerateArray(), r => r.GetProperty("memberId").GetInt64() == a1Member);
        Assert.Equal(("member.enrolled", "cashier-a1 (cashier-a1)"), (row.GetProperty("action").GetString(), row.GetProperty("actor").GetString()));
        Assert.DoesNotContain(byStaff.GetProperty("items").EnumerateArray(), r => r.GetProperty("memberId").GetInt64() == b1Member);
        var byMember = await (await auditor.Http.Get($"/api/audit?memberId={b1Member}")).ReadJson();
        Assert.Equal("POS B1", Assert.Single(byMember.GetProperty("items").EnumerateArray()).GetProperty("actor").GetString()); // the terminal by its name
        Assert.Equal(0, (await (await auditor.Http.Get($"/api/audit?memberId={a1Member}&from=2020-01-01&to=2020-01-02")).ReadJson()).GetProperty("total").GetInt32());
        await AssertProblem(await auditor.Http.Get("/api/audit?from=2026-02-01&to=2026-01-01"), HttpStatusCode.BadRequest, Problem.ValidationCode, ("to", "report.period_invalid"));

        // A store manager sees the entries of their stores only; another store's id is refused.
        var manager = await app.SignInAsync("manager-a");
        var mine = await (await manager.Http.Get($"/api/audit?memberId={b1Member}")).ReadJson();
        Assert.Equal(0, mine.GetProperty("total").GetInt32());
        Assert.Equal(1, (await (await manager.Http.Get($"/api/audit?memberId={a1Member}")).ReadJson()).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await manager.Http.Get($"/api/audit?storeId={app.Org.StoreB1}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.Get("/api/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("marketing")).Http.Get("/api/audit")).StatusCode);

        // The page: filtered, in Chinese; refused to a cashier; a bad period beside the form, nothing listed.
        var page = await manager.GetPageAsync($"/audit?memberId={a1Member}");
        Assert.Contains("审计日志", page, StringComparison.Ordinal);
        Assert.Contains("data-action=\"member.enrolled\"", page, StringComparison.Ordinal);
        Assert.Contains("会员登记", page, StringComparison.Ordinal); // the action in words, its code beside it
        var bad = await manager.GetAsync("/audit?from=2026-02-01&to=2026-01-01");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.DoesNotContain("data-testid=\"audit-entries\"", await bad.ReadText(), StringComparison.Ordinal);
        var denied = await cashier.GetAsync("/audit");
        Assert.StartsWith("/denied", denied.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task AHugeMatch_IsCountedUpToTheCap_AndSaysThereIsMore()
    {
        var at = app.Clock.GetUtcNow().UtcDateTime;
        await app.WithDbAsync(async db =>
        {
            db.AuditLog.AddRange(Enumerable.Range(0, Features.Audit.AuditTrail.CountCap + 5).Select(i => new Domain.Audit.AuditEntry(at, Domain.Audit.ActorKind.System, null, "test.cap", app.Org.StoreA2, null, null, null, null)));
            return await db.SaveChangesAsync();
        });

        var auditor = await app.SignInAsync("auditor");
        var capped = await (await auditor.Http.Get("/api/audit?action=test.cap&page=9999")).ReadJson();
        Assert.Equal((Features.Audit.AuditTrail.CountCap, true, 200), (capped.GetProperty("total").GetInt32(), capped.GetProperty("more").GetBoolean(), capped.GetProperty("page").GetInt32()));
        Assert.Equal(50, capped.GetProperty("items").GetArrayLength());
        Assert.Contains("超过 10000 条记录", await auditor.GetPageAsync("/audit?action=test.cap"), StringComparison.Ordinal);
        var exact = await (await auditor.Http.Get("/api/audit?action=test.cap&storeId=" + app.Org.StoreB1)).ReadJson();
        Assert.Equal((0, false), (exact.GetProperty("total").GetInt32(), exact.GetProperty("more").GetBoolean()));
    }

    [Fact]
    public async Task AuditLog_IsSortedOnTheServer_AndTheSortIsKeptWhenPagingAndFiltering()
    {
        var at = app.Clock.GetUtcNow().UtcDateTime;
        var (admin, cashier) = await app.WithDbAsync(async db => (
            await db.Staff.Where(x => x.Login == "admin").Select(x => x.Id).SingleAsync(),
            await db.Staff.Where(x => x.Login == "cashier-a1").Select(x => x.Id).SingleAsync()));
        Assert.True(admin < cashier);
        var (a1, a2) = (app.Org.StoreA1, app.Org.StoreA2);
        Assert.True(a1 < a2);
        (string Action, ActorKind Kind, long? Actor, long Store)[] made =
        [
            ("zsort.b", ActorKind.Staff, cashier, a2),
            ("zsort.a", ActorKind.Staff, admin, a1),
            ("zsort.c", ActorKind.System, null, a1),
            ("zsort.b", ActorKind.Staff, admin, a2),
            ("zsort.a", ActorKind.Staff, cashier, a1),
        ];
        var ids = new List<long>();
        foreach (var e in made)
        {
            // One at a time, so the ids follow the order above.
            ids.Add(await app.WithDbAsync(async db =>
            {
                var entry = new AuditEntry(at, e.Kind, e.Actor, e.Action, e.Store, null, null, null, null);
                db.AuditLog.Add(entry);
                await db.SaveChangesAsync();
                return entry.Id;
            }));
        }

        var auditor = await app.SignInAsync("auditor");
        async Task<long[]> Sorted(string sort)
        {
            var list = await (await auditor.Http.Get($"/api/audit?action=zsort.&sort={sort}")).ReadJson();
            return [.. list.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt64())];
        }

        long[] E(params int[] order) => [.. order.Select(i => ids[i])];
        Assert.Equal(E(4, 3, 2, 1, 0), await Sorted("newest"));
        Assert.Equal(E(0, 1, 2, 3, 4), await Sorted("oldest"));
        Assert.Equal(E(4, 1, 3, 0, 2), await Sorted("action")); // a, b, c; newest first within each
        Assert.Equal(E(2, 3, 1, 4, 0), await Sorted("staff")); // the system, then admin, then the cashier
        Assert.Equal(E(4, 2, 1, 3, 0), await Sorted("store")); // A1, then A2
        Assert.Equal(E(4, 3, 2, 1, 0), await Sorted("nonsense")); // an unknown sort is the default
        Assert.Equal("staff", (await (await auditor.Http.Get("/api/audit?action=zsort.&sort=staff")).ReadJson()).GetProperty("sort").GetString());

        // 55 more entries: the second page, oldest first, starts at the 51st; the page's links keep the filter and the sort.
        var paged = await app.WithDbAsync(async db =>
        {
            var entries = Enumerable.Range(0, 55).Select(_ => new AuditEntry(at, ActorKind.System, null, "zpage.x", a1, null, null, null, null)).ToList();
            foreach (var e in entries)
            {
                db.AuditLog.Add(e);
                await db.SaveChangesAsync();
            }

            return entries.Select(e => e.Id).ToList();
        });
        var second = await (await auditor.Http.Get("/api/audit?action=zpage.&sort=oldest&page=2")).ReadJson();
        Assert.Equal(paged[50..], second.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));

        var html = await auditor.GetPageAsync("/audit?action=zpage.&sort=oldest");
        Assert.Contains("data-sort=\"oldest\"", html, StringComparison.Ordinal);
        Assert.Contains($"data-id=\"{paged[0]}\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/audit?action=zpage.&amp;sort=oldest&amp;p=2\" data-testid=\"next-page\"", html, StringComparison.Ordinal);
        Assert.Contains("<input type=\"hidden\" name=\"sort\" value=\"oldest\" />", html, StringComparison.Ordinal); // filtering again keeps the sort
        Assert.Contains("href=\"/audit?action=zpage.\" data-testid=\"sort-time\"", html, StringComparison.Ordinal); // the time column flips back to newest first
        Assert.Contains("href=\"/audit?action=zpage.&amp;sort=action\" data-testid=\"sort-action\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/api/audit/export.csv?action=zpage.&amp;sort=oldest\" data-testid=\"audit-export\"", html, StringComparison.Ordinal);
        var page2 = await auditor.GetPageAsync("/audit?action=zpage.&sort=oldest&p=2");
        Assert.Contains($"data-id=\"{paged[50]}\"", page2, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-id=\"{paged[49]}\"", page2, StringComparison.Ordinal);
        Assert.Contains("href=\"/audit?action=zpage.&amp;sort=oldest\"", page2, StringComparison.Ordinal); // back to page 1, same sort
    }

    [Fact]
    public async Task AuditExport_IsTheFilterAndSortAsCsv_MaskedAsThePage_ForAuditRolesInTheirScope_AndIsAudited()
    {
        var cashier = await app.SignInAsync("cashier-a1");
        var phone = PatronApp.NewPhone();
        var enrolled = await (await cashier.Http.PostJson("/api/members", new { name = "审计导出", mobile = phone })).ReadJson();
        var member = enrolled.GetProperty("id").GetInt64();
        var card = enrolled.GetProperty("cards")[0].GetProperty("number").GetString()!;
        var at = app.Clock.GetUtcNow().UtcDateTime;
        await app.WithDbAsync(async db =>
        {
            foreach (var (action, store) in new[] { ("zexp.b", app.Org.StoreA1), ("zexp.a", app.Org.StoreA2), ("zexp.c", app.Org.StoreB1), ("zexp.a", app.Org.StoreA1) })
            {
                db.AuditLog.Add(new AuditEntry(at, ActorKind.System, null, action, store, null, "thing", 7, "{\"n\":1}"));
                await db.SaveChangesAsync();
            }

            return 0;
        });

        // The member's entries: what the page shows (the detail with the card masked), no phone, no name.
        var auditor = await app.SignInAsync("auditor");
        var response = await auditor.Http.Get($"/api/audit/export.csv?memberId={member}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.True(response.Headers.CacheControl!.NoStore);
        var bytes = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal(System.Text.Encoding.UTF8.GetPreamble(), bytes[..3]);
        var lines = System.Text.Encoding.UTF8.GetString(bytes[3..]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Features.Audit.AuditExport.Header, lines[0]);
        var shown = Assert.Single((await (await auditor.Http.Get($"/api/audit?memberId={member}&action=member.")).ReadJson()).GetProperty("items").EnumerateArray());
        var detail = shown.GetProperty("detail").GetString()!;
        Assert.Contains("****" + card[^4..], detail, StringComparison.Ordinal);
        var row = Assert.Single(lines[1..]); // the export's own entry is recorded, but not in the file
        Assert.StartsWith($"{shown.GetProperty("id").GetInt64()},", row, StringComparison.Ordinal);
        Assert.EndsWith($",cashier-a1 (cashier-a1),member.enrolled,A一店,{member},member,{member},\"{detail.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", row, StringComparison.Ordinal);
        Assert.DoesNotContain(card, row, StringComparison.Ordinal);
        Assert.DoesNotContain(phone, row, StringComparison.Ordinal);
        Assert.DoesNotContain("审计导出", row, StringComparison.Ordinal);

        // The filter and the sort are the list's: action a, a, b, c.
        async Task<string[]> Actions(ConsoleClient who, string query)
        {
            var r = await who.Http.Get("/api/audit/export.csv?" + query);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return [.. (await r.ReadText()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[3])];
        }

        Assert.Equal(["zexp.a", "zexp.a", "zexp.b", "zexp.c"], await Actions(auditor, "action=zexp.&sort=action"));
        Assert.Equal(["zexp.b", "zexp.a", "zexp.c", "zexp.a"], await Actions(auditor, "action=zexp.&sort=oldest"));
        Assert.Equal(["zexp.a", "zexp.b"], await Actions(auditor, $"action=zexp.&storeId={app.Org.StoreA1}&sort=action"));

        // A store manager exports the entries of their stores only; another store, a cashier and marketing are refused.
        var manager = await app.SignInAsync("manager-a");
        Assert.Equal(["zexp.a", "zexp.a", "zexp.b"], await Actions(manager, "action=zexp.&sort=action"));
        Assert.Equal(HttpStatusCode.Forbidden, (await manager.Http.Get($"/api/audit/export.csv?storeId={app.Org.StoreB1}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.Get("/api/audit/export.csv")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("marketing")).Http.Get("/api/audit/export.csv")).StatusCode);
        await AssertProblem(await auditor.Http.Get("/api/audit/export.csv?from=2026-02-01&to=2026-01-01"), HttpStatusCode.BadRequest, Problem.ValidationCode, ("to", "report.period_invalid"));

        // Each export is on record: who, with which filter and sort.
        var admin = await app.SignInAsync("admin");
        var exports = (await (await admin.Http.Get("/api/audit?action=audit.exported&staff=auditor&sort=oldest")).ReadJson()).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(exports, e => e.GetProperty("memberId").ValueKind == JsonValueKind.Number && e.GetProperty("memberId").GetInt64() == member);
        Assert.Contains(exports, e => e.GetProperty("detail").GetString()!.Contains("\"action\":\"zexp.\"", StringComparison.Ordinal) && e.GetProperty("detail").GetString()!.Contains("\"sort\":\"action\"", StringComparison.Ordinal));
        Assert.DoesNotContain(exports, e => e.GetProperty("detail").GetString()!.Contains("2026-02-01", StringComparison.Ordinal)); // a refused export is not
        var byManager = (await (await admin.Http.Get("/api/audit?action=audit.exported&staff=manager-a")).ReadJson()).GetProperty("items");
        Assert.Equal(1, byManager.GetArrayLength()); // the refused one is not on record
        Assert.Contains("导出审计日志", await admin.GetPageAsync("/audit?action=audit.exported"), StringComparison.Ordinal);
    }
}

public sealed class AuditTrailSqliteTests(SqliteApp app) : AuditTrailTests(app), IClassFixture<SqliteApp>;

public sealed class AuditTrailPostgresTests(PostgresApp app) : AuditTrailTests(app), IClassFixture<PostgresApp>;
