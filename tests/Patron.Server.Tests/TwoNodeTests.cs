using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Invariant 3 across processes: two Patron nodes on one PostgreSQL serve the same member at the
/// same moment, and points are never overspent nor an update lost.
/// </summary>
public sealed class TwoNodeTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task TwoNodes_SameMemberAtOnce_NeverOverspendAndLoseNoUpdate()
    {
        await using var second = new SecondNode(app.ConnectionString);
        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", ProgramEngineApiTests.ProgramA);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/1/publish", new { })).StatusCode);

        var one = app.TerminalClient(app.Org.TerminalA1);
        var two = second.CreateClient();
        two.DefaultRequestHeaders.Add("X-Api-Key", app.Org.TerminalA1);
        var member = (await (await one.PostJson("/api/members", new { name = "双节点", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await one.PostJson("/api/checkout/sales", new { orderNumber = $"2N-{member}-0", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 100_000 } } })).StatusCode);

        var work = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 10; i++)
        {
            var client = i % 2 == 0 ? one : two;
            work.Add(client.PostJson($"/api/members/{member}/redemptions", new { item = "c5" }));
            work.Add(client.PostJson("/api/checkout/sales", new { orderNumber = $"2N-{member}-{i + 1}", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } }));
        }

        var answers = await Task.WhenAll(work);
        var sales = answers.Where((_, i) => i % 2 == 1).ToList();
        var redemptions = answers.Where((_, i) => i % 2 == 0).ToList();
        Assert.All(sales, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var refused in redemptions.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await AssertProblem(refused, HttpStatusCode.UnprocessableEntity, "points.insufficient");
        }

        // 1,000 + 10 × 10 points: two redemptions of 500 fit, whatever the interleaving.
        var redeemed = redemptions.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(2, redeemed);
        var (balance, entries, earned) = await app.WithDbAsync(async db => (
            (await db.MemberAccounts.SingleAsync(a => a.MemberId == member)).Balance,
            await db.PointsEntries.Where(e => e.MemberId == member).SumAsync(e => e.Points),
            (await db.MemberAccounts.SingleAsync(a => a.MemberId == member)).CumulativeEarned));
        Assert.Equal(100, balance);
        Assert.Equal(balance, entries);
        Assert.Equal(1_100, earned);
    }

    /// <summary>Another server process's worth of Patron: its own host, caches and connection pool, on the same database.</summary>
    [Fact]
    public async Task TwoNodes_TopUpsRacingStoredValueSpends_NeverOverspendAndLoseNoTopUp()
    {
        await using var second = new SecondNode(app.ConnectionString);
        var admin = await app.SignInAsync("admin");
        var file = CardsAndStoredValueTests.StoredValueProgram.Replace("CHAIN-A", "CHAIN-B", StringComparison.Ordinal);
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramB}/versions", file);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramB}/versions/{version}/publish", new { })).StatusCode);

        var one = app.TerminalClient(app.Org.TerminalB1);
        var two = second.CreateClient();
        two.DefaultRequestHeaders.Add("X-Api-Key", app.Org.TerminalB1);
        var member = (await (await one.PostJson("/api/members", new { name = "双节点储值", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await one.PostJson("/api/checkout/top-ups", new { orderNumber = $"2S-{member}-0", memberId = member, amount = 10_000 })).StatusCode);

        var sales = new List<Task<HttpResponseMessage>>();
        var topUps = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 12; i++)
        {
            var client = i % 2 == 0 ? one : two;
            sales.Add(client.PostJson("/api/checkout/sales", new
            {
                orderNumber = $"2S-{member}-S{i}",
                memberId = member,
                lines = new[] { new { sku = "X", quantity = 1, unitPrice = 4_000 } },
                payments = new[] { new { method = "stored_value", amount = 4_000 } },
            }));
            if (i % 3 == 0)
            {
                topUps.Add(client.PostJson("/api/checkout/top-ups", new { orderNumber = $"2S-{member}-T{i}", memberId = member, amount = 5_000 }));
            }
        }

        await Task.WhenAll(sales.Concat(topUps));
        Assert.All(topUps, t => Assert.Equal(HttpStatusCode.OK, t.Result.StatusCode));
        foreach (var refused in sales.Select(t => t.Result).Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await AssertProblem(refused, HttpStatusCode.UnprocessableEntity, "stored_value.insufficient");
        }

        // ¥100 + 4 × ¥50 = ¥300 pays at most seven purchases of ¥40, whatever the interleaving.
        var spent = sales.Count(t => t.Result.StatusCode == HttpStatusCode.OK);
        Assert.InRange(spent, 2, 7);
        var (account, entries, lots) = await app.WithDbAsync(async db => (
            await db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == member),
            await db.StoredValueEntries.Where(e => e.MemberId == member).SumAsync(e => e.Principal + e.Bonus),
            await db.StoredValueLots.Where(l => l.MemberId == member).SumAsync(l => l.PrincipalLeft + l.BonusLeft)));
        Assert.Equal(30_000 - (4_000 * spent), account.StoredPrincipal + account.StoredBonus);
        Assert.Equal(account.StoredPrincipal + account.StoredBonus, entries);
        Assert.Equal(entries, lots);
    }

    private sealed class SecondNode(string connectionString) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Patron:Db", connectionString);
            builder.UseSetting("Patron:Jobs", "false");
            builder.ConfigureLogging(l => l.ClearProviders());
        }
    }
}
