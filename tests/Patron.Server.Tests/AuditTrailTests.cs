using System.Net;
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
}

public sealed class AuditTrailSqliteTests(SqliteApp app) : AuditTrailTests(app), IClassFixture<SqliteApp>;

public sealed class AuditTrailPostgresTests(PostgresApp app) : AuditTrailTests(app), IClassFixture<PostgresApp>;
