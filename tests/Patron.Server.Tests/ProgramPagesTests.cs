using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>The programs page and the member page's points panel, as head office and store staff use them.</summary>
public abstract class ProgramPagesTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task ProgramsPage_HeadOfficeImportsSimulatesAndPublishes_ErrorsNameTheField_CashiersOnlyRead()
    {
        var admin = await app.SignInAsync("admin");
        Assert.Contains("尚无版本", await admin.GetPageAsync("/programs"));

        var bad = await admin.PostFormAsync($"/programs?handler=Import&programId={app.Org.ProgramA}", new() { ["ProgramFile"] = """{ "code": "CHAIN-A", "name": "A", "earning": { "amountPerPoint": 0 } }""" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var html = await bad.ReadText();
        Assert.Contains("方案文件未导入", html);
        Assert.Contains("earning.amountPerPoint", html);
        Assert.Equal(0, await app.WithDbAsync(db => db.ProgramVersions.CountAsync(v => v.ProgramId == app.Org.ProgramA)));

        var ok = await admin.PostFormAsync($"/programs?handler=Import&programId={app.Org.ProgramA}", new() { ["ProgramFile"] = ProgramEngineApiTests.ProgramA });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var page = await admin.GetPageAsync("/programs");
        Assert.Contains("已导入草稿版本 1", page);
        Assert.Contains("草稿", page);

        // A simulation runs as a job: its page shows how it ended.
        var simulated = await admin.PostFormAsync($"/programs?handler=Simulate&programId={app.Org.ProgramA}&version=1", new() { ["From"] = "", ["To"] = "" });
        Assert.Equal(HttpStatusCode.Redirect, simulated.StatusCode);
        Assert.Contains("没有已发布的规则", await ConsoleJobTests.JobPageAsync(admin, simulated)); // nothing in force yet to compare with

        var published = await admin.PostFormAsync($"/programs?handler=Publish&programId={app.Org.ProgramA}&version=1", []);
        Assert.Equal(HttpStatusCode.Redirect, published.StatusCode);
        Assert.Contains("版本 1 已发布", await admin.GetPageAsync("/programs"));
        var simulation = await admin.PostFormAsync($"/programs?handler=Simulate&programId={app.Org.ProgramA}&version=1", []);
        Assert.Contains("data-testid=\"simulation\"", await ConsoleJobTests.JobPageAsync(admin, simulation));

        var cashier = await app.SignInAsync("cashier-a1");
        var readOnly = await cashier.GetPageAsync("/programs");
        Assert.Contains("已发布", readOnly);
        Assert.DoesNotContain("handler=Publish", readOnly);
        Assert.DoesNotContain("CHAIN-B", readOnly);
        var refused = await cashier.PostFormAsync($"/programs?handler=Import&programId={app.Org.ProgramA}", new() { ["ProgramFile"] = ProgramEngineApiTests.ProgramA });
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/denied", refused.Headers.Location!.PathAndQuery);
        Assert.Equal(1, await app.WithDbAsync(db => db.ProgramVersions.CountAsync(v => v.ProgramId == app.Org.ProgramA)));
    }

    [Fact]
    public async Task MemberPage_ShowsPointsLedgerAndTier_AndAManagerAdjustsWithAReason()
    {
        var admin = await app.SignInAsync("admin");
        if (!await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramB)))
        {
            var file = ProgramEngineApiTests.ProgramA.Replace("CHAIN-A", "CHAIN-B", StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Created, (await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramB}/versions", file)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramB}/versions/1/publish", new { })).StatusCode);
        }

        var b1 = app.TerminalClient(app.Org.TerminalB1);
        var member = (await (await b1.PostJson("/api/members", new { name = "钱多多", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        await b1.PostJson("/api/checkout/sales", new { orderNumber = $"P-{member}", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 12_345 } } });

        var cashier = await app.SignInAsync("cashier-b1");
        var page = await cashier.GetPageAsync($"/members/{member}");
        Assert.Contains("data-testid=\"points-balance\">123<", page);
        Assert.Contains("消费", page);
        Assert.Contains("P-" + member, page);
        Assert.DoesNotContain("adjust-form", page);

        var manager = await SignInManagerOfB1Async();
        var bad = await manager.PostFormAsync($"/members/{member}?handler=Adjust", new() { ["AdjustPoints"] = "50", ["AdjustReason"] = "" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("text/html", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("请填写原因", await bad.ReadText());
        var overCap = await manager.PostFormAsync($"/members/{member}?handler=Adjust", new() { ["AdjustPoints"] = "501", ["AdjustReason"] = "补录" });
        Assert.Equal("text/html", overCap.Content.Headers.ContentType?.MediaType);
        Assert.Contains("超过您的角色单次调整上限", await overCap.ReadText());
        var ok = await manager.PostFormAsync($"/members/{member}?handler=Adjust", new() { ["AdjustPoints"] = "50", ["AdjustReason"] = "补录小票" });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var after = await manager.GetPageAsync($"/members/{member}");
        Assert.Contains("data-testid=\"points-balance\">173<", after);
        Assert.Contains("人工调整", after);
    }

    private async Task<ConsoleClient> SignInManagerOfB1Async()
    {
        await app.WithDbAsync(async db =>
        {
            if (!await db.Staff.AnyAsync(s => s.Login == "manager-b"))
            {
                var staff = new Domain.Organisation.Staff("manager-b", "manager-b", Domain.Organisation.StaffRole.StoreManager, [app.Org.StoreB1]);
                staff.SetPasswordHash(Features.Staff.StaffSignIn.HashPassword(staff, PatronApp.Password));
                db.Staff.Add(staff);
                await db.SaveChangesAsync();
            }

            return 0;
        });
        return await app.SignInAsync("manager-b");
    }
}

public sealed class ProgramPagesSqliteTests(SqliteApp app) : ProgramPagesTests(app), IClassFixture<SqliteApp>;

public sealed class ProgramPagesPostgresTests(PostgresApp app) : ProgramPagesTests(app), IClassFixture<PostgresApp>;
