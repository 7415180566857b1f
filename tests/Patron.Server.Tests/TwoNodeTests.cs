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
