using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>Console pages per role: what each may open, and what they show.</summary>
public abstract class ConsolePagesTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    [Theory]
    [InlineData("admin", true)]
    [InlineData("marketing", false)]
    [InlineData("auditor", false)]
    [InlineData("manager-a", false)]
    [InlineData("cashier-a1", false)]
    public async Task StaffPage_OnlyAdminsOpenIt(string login, bool allowed)
    {
        var console = await app.SignInAsync(login);
        var response = await console.GetAsync("/staff");
        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("cashier-b1", await response.ReadText());
        }
        else
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/denied", response.Headers.Location!.PathAndQuery);
            Assert.DoesNotContain("href=\"/staff\"", await console.GetPageAsync("/"));
        }
    }

    [Fact]
    public async Task StaffPage_AdminCreatesAStoreManager_InvalidInputIsShownInChinese()
    {
        var admin = await app.SignInAsync("admin");
        await admin.GetPageAsync("/staff");
        var bad = await admin.PostFormAsync("/staff", new() { ["Form.Login"] = "x", ["Form.DisplayName"] = "", ["Form.Role"] = "cashier", ["Form.Password"] = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var html = await bad.ReadText();
        Assert.Contains("密码至少 8 位", html);
        Assert.Contains("店长和收银员至少需要一个门店", html);

        var login = "mgr-" + Guid.NewGuid().ToString("N")[..8];
        var ok = await admin.PostFormAsync("/staff", new()
        {
            ["Form.Login"] = login,
            ["Form.DisplayName"] = "店长 测试",
            ["Form.Role"] = "store_manager",
            ["Form.StoreIds"] = app.Org.StoreB1.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Form.Password"] = "a-long-password",
        });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var stores = await app.WithDbAsync(db => db.StaffStores.AsNoTracking().Where(s => s.Staff.Login == login).Select(s => s.StoreId).ToListAsync());
        Assert.Equal([app.Org.StoreB1], stores);
        var manager = await app.SignInAsync(login, "a-long-password");
        Assert.Contains("B一店", await manager.GetPageAsync("/stores"));
    }

    [Fact]
    public async Task HomePage_CountsOnlyTheCallersMembers_AndCarriesChartData()
    {
        await app.TerminalClient(app.Org.TerminalB1).PostJson("/api/members", new { name = "韩梅梅", mobile = PatronApp.NewPhone() });
        var cashier = await app.SignInAsync("cashier-b1");
        var html = await cashier.GetPageAsync("/");
        var expected = await app.WithDbAsync(db => db.Members.CountAsync(m => m.EnrolStoreId == app.Org.StoreB1));
        Assert.Contains($"data-testid=\"member-count\">{expected}<", html);
        Assert.Contains("data-chart=\"bar\"", html);
        Assert.Contains("B一店", html);
        Assert.DoesNotContain("A一店", html);
    }

    [Fact]
    public async Task LanguageSwitch_TurnsTheConsoleIntoEnglish()
    {
        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Contains("查找会员", await cashier.GetPageAsync("/members"));
        var switched = await cashier.PostFormAsync("/culture", new() { ["culture"] = "en", ["returnUrl"] = "/members" });
        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        var english = await cashier.GetPageAsync("/members");
        Assert.Contains("Find a member", english);
        Assert.Contains("<html lang=\"en\">", english);
    }
}

public sealed class ConsolePagesSqliteTests(SqliteApp app) : ConsolePagesTests(app), IClassFixture<SqliteApp>;

public sealed class ConsolePagesPostgresTests(PostgresApp app) : ConsolePagesTests(app), IClassFixture<PostgresApp>;
