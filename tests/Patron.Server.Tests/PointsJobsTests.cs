using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Domain.Points;
using Patron.Server.Features.Points;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// The daily jobs claim each (job, period) once: two runs at the same moment (two nodes) and
/// any re-run expire each lapsed lot exactly once, at the program's local midnight.
/// </summary>
public abstract class PointsJobsTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task ExpireJob_RunTwiceAtOnceAndAgain_ExpiresEachLotExactlyOnce()
    {
        var shanghai = TimeSpan.FromHours(8);
        app.Clock.Set(new DateTimeOffset(2026, 12, 20, 10, 0, 0, shanghai));
        var admin = await app.SignInAsync("admin");
        var p1 = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "programs", "p1-haoyaoshi-beijing.json")).Replace("\"HYS-BJ\"", "\"CHAIN-B\"", StringComparison.Ordinal);
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramB}/versions", p1);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramB}/versions/1/publish", new { })).StatusCode);

        var b1 = app.TerminalClient(app.Org.TerminalB1);
        var member = (await (await b1.PostJson("/api/members", new { name = "孙丽", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await b1.PostJson("/api/checkout/sales", new { orderNumber = "X-1", memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 8000 } } })).StatusCode);
        app.Clock.Set(new DateTimeOffset(2026, 12, 31, 10, 0, 0, shanghai));
        Assert.Equal(HttpStatusCode.OK, (await b1.PostJson("/api/checkout/sales", new { orderNumber = "X-2", memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 10000 } } })).StatusCode);
        var before = await (await b1.Get($"/api/members/{member}/points")).ReadJson();
        Assert.Equal(180, before.GetProperty("balance").GetInt64());
        Assert.Equal(80, before.GetProperty("expiringSoon").GetInt64());

        app.Clock.Set(new DateTimeOffset(2027, 1, 1, 0, 5, 0, shanghai));
        var runs = await Task.WhenAll(RunJobsAsync(), RunJobsAsync());
        var expiryRuns = runs.SelectMany(r => r).Where(o => o.Job.StartsWith("points-expiry/", StringComparison.Ordinal) && o.Job.EndsWith($"/{app.Org.ProgramB}", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, expiryRuns.Count);
        var ran = Assert.Single(expiryRuns, o => o.Ran);
        Assert.Equal("2027-01-01", ran.Period);
        Assert.Equal(80, ran.Points);
        Assert.DoesNotContain(await RunJobsAsync(), o => o.Ran);

        var expired = await app.WithDbAsync(db => db.PointsEntries.Where(e => e.MemberId == member && e.Cause == PointsCause.Expiry).ToListAsync());
        Assert.Equal(-80, Assert.Single(expired).Points);
        Assert.Equal(new DateTime(2026, 12, 31, 16, 0, 0, DateTimeKind.Utc), expired[0].At);
        var after = await (await b1.Get($"/api/members/{member}/points")).ReadJson();
        Assert.Equal(100, after.GetProperty("balance").GetInt64());
        Assert.Equal(0, after.GetProperty("expiringSoon").GetInt64());
        Assert.Contains(after.GetProperty("entries").EnumerateArray(), e => e.GetProperty("cause").GetString() == "expiry");
    }

    private async Task<IReadOnlyList<PointsJobs.Outcome>> RunJobsAsync()
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<PointsJobs>().RunAsync(TestContext.Current.CancellationToken);
    }
}

public sealed class PointsJobsSqliteTests(SqliteApp app) : PointsJobsTests(app), IClassFixture<SqliteApp>;

public sealed class PointsJobsPostgresTests(PostgresApp app) : PointsJobsTests(app), IClassFixture<PostgresApp>;
