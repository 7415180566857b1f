using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>The finance view's costs and fees on each database: card fees charged by store and month, for the caller's stores only.</summary>
public abstract class ProgramCostsTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task CardFees_AreReportedByStoreAndMonth_ForTheCallersStores_OnTheFinancePageToo()
    {
        var admin = await app.SignInAsync("admin");
        await EnsureProgramsAsync(admin);

        using var a1 = app.TerminalClient(app.Org.TerminalA1);
        using var b1 = app.TerminalClient(app.Org.TerminalB1);
        async Task<long> EnrolAsync(HttpClient terminal, string name) => (await (await terminal.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        long[] enrolledAtA1 = [await EnrolAsync(a1, "卡费甲"), await EnrolAsync(a1, "卡费乙")];
        await EnrolAsync(b1, "卡费丙");

        // The other test of this class enrols a member at A1 too (on another day), so only this test's members are summed.
        var expectedA1 = await app.WithDbAsync(db => db.CardEvents.Where(e => enrolledAtA1.Contains(e.MemberId) && e.StoreId == app.Org.StoreA1 && e.Fee > 0).SumAsync(e => e.Fee));
        Assert.Equal(3000, expectedA1);

        var today = app.Clock.GetUtcNow().AddHours(8).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var manager = await app.SignInAsync("manager-a");
        var report = await (await manager.Http.Get($"/api/finance/costs?from={today}&to={today}")).ReadJson();
        var row = Assert.Single(report.GetProperty("rows").EnumerateArray(), r => r.GetProperty("storeId").GetInt64() == app.Org.StoreA1);
        Assert.Equal((2, 3000L, today[..7]), (row.GetProperty("cardFees").GetInt32(), row.GetProperty("cardFeeTotal").GetInt64(), row.GetProperty("month").GetString()));
        Assert.DoesNotContain(report.GetProperty("rows").EnumerateArray(), r => r.GetProperty("storeId").GetInt64() == app.Org.StoreB1); // another chain's store
        var all = await (await admin.Http.Get($"/api/finance/costs?from={today}&to={today}")).ReadJson();
        Assert.Contains(all.GetProperty("rows").EnumerateArray(), r => r.GetProperty("storeId").GetInt64() == app.Org.StoreB1 && r.GetProperty("cardFeeTotal").GetInt64() == 1500);
        await AssertProblem(await admin.Http.Get("/api/finance/costs?from=2026-03-01&to=2026-02-01"), HttpStatusCode.BadRequest, Problem.ValidationCode, ("to", "report.period_invalid"));
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("cashier-a1")).Http.Get($"/api/finance/costs?from={today}&to={today}")).StatusCode);

        var page = await (await app.SignInAsync("auditor")).GetPageAsync("/finance/liability");
        Assert.Contains("成本与费用", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"total-card-fees\">45.00<", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LiabilityPage_ShowsASnapshotAtMostFiveMinutesOld_TakenAgainOnDemand_WhileTheApiIsExact()
    {
        var admin = await app.SignInAsync("admin");
        await EnsureProgramsAsync(admin);
        var today = app.Clock.GetUtcNow();
        app.Clock.Set(today.AddDays(3)); // its card fee on another day than the card-fee test's
        admin = await app.SignInAsync("admin"); // sessions end after a day
        using var a1 = app.TerminalClient(app.Org.TerminalA1);
        var member = (await (await a1.PostJson("/api/members", new { name = "负债快照", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var auditor = await app.SignInAsync("auditor");
        async Task<long> PageAsync() => long.Parse(System.Text.RegularExpressions.Regex.Match(await auditor.GetPageAsync("/finance/liability"), "data-testid=\"total-points\">([0-9,]+)<").Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        async Task<long> ApiAsync() => (await (await auditor.Http.Get("/api/finance/liability")).ReadJson()).GetProperty("totals").GetProperty("points").GetInt64();
        async Task AdjustAsync(int points) => Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{member}/points/adjustments", new { points, reason = "快照测试", storeId = app.Org.StoreA1 })).StatusCode);

        Assert.Equal(HttpStatusCode.Redirect, (await auditor.PostFormAsync("/finance/liability?handler=Recompute", [])).StatusCode); // a fresh snapshot whatever ran before
        var shown = await PageAsync();
        Assert.Equal(shown, await ApiAsync());
        await AdjustAsync(77);
        Assert.Equal(shown + 77, await ApiAsync()); // the API sums the lots now
        Assert.Equal(shown, await PageAsync()); // the page keeps its snapshot

        app.Clock.Advance(Patron.Server.Features.StoredValue.LiabilitySnapshot.MinInterval); // pressed again at once, it would keep the one just taken
        Assert.Equal(HttpStatusCode.Redirect, (await auditor.PostFormAsync("/finance/liability?handler=Recompute", [])).StatusCode);
        Assert.Equal(shown + 77, await PageAsync());

        // Older than five minutes: the page shows what it has and takes the figures again behind it.
        await AdjustAsync(5);
        app.Clock.Advance(LiabilitySnapshotAge + TimeSpan.FromSeconds(1));
        var seen = new List<long>();
        for (var i = 0; i < 100 && (seen.Count == 0 || seen[^1] != shown + 82); i++)
        {
            seen.Add(await PageAsync());
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(shown + 77, seen[0]);
        Assert.Equal(shown + 82, seen[^1]);

        // One snapshot for everyone, each caller seeing their stores' rows: a chain-B member's points are not in manager-a's page.
        using var b1 = app.TerminalClient(app.Org.TerminalB1);
        var other = (await (await b1.PostJson("/api/members", new { name = "负债乙", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{other}/points/adjustments", new { points = 33, reason = "快照测试", storeId = app.Org.StoreB1 })).StatusCode);
        app.Clock.Advance(Patron.Server.Features.StoredValue.LiabilitySnapshot.MinInterval);
        Assert.Equal(HttpStatusCode.Redirect, (await auditor.PostFormAsync("/finance/liability?handler=Recompute", [])).StatusCode);
        Assert.Equal(shown + 82 + 33, await PageAsync());
        var manager = await app.SignInAsync("manager-a");
        var managerPage = await manager.GetPageAsync("/finance/liability");
        var managerApi = (await (await manager.Http.Get("/api/finance/liability")).ReadJson()).GetProperty("totals").GetProperty("points").GetInt64();
        Assert.Contains($"data-testid=\"total-points\">{managerApi:#,0}<", managerPage, StringComparison.Ordinal);
        Assert.True(managerApi <= shown + 82, $"{managerApi}");
        var storeB1 = await app.WithDbAsync(db => db.Stores.Where(x => x.Id == app.Org.StoreB1).Select(x => x.Name).SingleAsync());
        Assert.DoesNotContain(storeB1, managerPage, StringComparison.Ordinal);
        app.Clock.Set(today);
    }

    [Fact]
    public async Task LiabilitySnapshot_TakenByManyAtOnce_IsComputedOnce_AndPressedAgainWithinTheInterval_IsKept()
    {
        var snapshot = app.Services.GetRequiredService<Patron.Server.Features.StoredValue.LiabilitySnapshot>();
        app.Clock.Advance(TimeSpan.FromDays(30)); // after any snapshot the other tests took (one of them takes its own days ahead)
        var taken = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => snapshot.TakeAsync(TestContext.Current.CancellationToken))));
        Assert.All(taken, t => Assert.Same(taken[0], t)); // the callers that waited got the one report taken, not one each
        Assert.Equal(app.Clock.GetUtcNow().UtcDateTime, taken[0].At);

        app.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Same(taken[0], await snapshot.TakeAsync(TestContext.Current.CancellationToken)); // pressed again within the interval
        app.Clock.Advance(Patron.Server.Features.StoredValue.LiabilitySnapshot.MinInterval);
        Assert.NotSame(taken[0], await snapshot.TakeAsync(TestContext.Current.CancellationToken));
    }

    private static readonly TimeSpan LiabilitySnapshotAge = Patron.Server.Features.StoredValue.LiabilitySnapshot.MaxAge;

    private async Task EnsureProgramsAsync(ConsoleClient admin)
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        foreach (var (program, code) in new[] { (app.Org.ProgramA, "CHAIN-A"), (app.Org.ProgramB, "CHAIN-B") })
        {
            var created = await admin.Http.PostRaw($"/api/programs/{program}/versions", $$"""{ "code": "{{code}}", "name": "{{code}}", "effectiveFrom": "2026-01-01", "tiers": [ { "code": "standard", "name": "普通" } ], "cards": { "fee": 1500 } }""");
            var version = (await created.ReadJson()).GetProperty("version").GetInt32();
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{program}/versions/{version}/publish", new { })).StatusCode);
        }
    }
}

public sealed class ProgramCostsSqliteTests(SqliteApp app) : ProgramCostsTests(app), IClassFixture<SqliteApp>;

public sealed class ProgramCostsPostgresTests(PostgresApp app) : ProgramCostsTests(app), IClassFixture<PostgresApp>;
