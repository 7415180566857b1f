using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>Sign-in, lockout, staff accounts, and what anonymous callers get.</summary>
public abstract class AuthTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    private async Task<string> CreateStaffAsync(string role, params long[] stores)
    {
        var admin = await app.SignInAsync("admin");
        var login = $"{role.Replace('_', '-')}-{Guid.NewGuid():N}"[..20];
        var response = await admin.Http.PostJson("/api/staff", new { login, displayName = "测试 " + login, role, storeIds = stores, password = "a-long-password" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return login;
    }

    [Fact]
    public async Task SignIn_FiveWrongPasswords_LockTheAccount_UntilTheLockoutEnds()
    {
        var login = await CreateStaffAsync("cashier", app.Org.StoreA1);
        var console = new ConsoleClient(app.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = true }));
        for (var i = 0; i < 4; i++)
        {
            var wrong = await console.PostFormAsync("/login", new() { ["Login"] = login, ["Password"] = "wrong-password" });
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("登录名或密码错误", await wrong.ReadText());
        }

        var fifth = await console.PostFormAsync("/login", new() { ["Login"] = login, ["Password"] = "wrong-password" });
        Assert.Contains("账号已锁定", await fifth.ReadText());
        var correctButLocked = await console.PostFormAsync("/login", new() { ["Login"] = login, ["Password"] = "a-long-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, correctButLocked.StatusCode);
        Assert.Contains("账号已锁定", await correctButLocked.ReadText());

        app.Clock.Advance(TimeSpan.FromMinutes(16));
        await app.SignInAsync(login, "a-long-password");
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().CountAsync(a => a.Action == "staff.locked_out"));
        Assert.True(audit >= 1);
    }

    [Fact]
    public async Task SignIn_UnknownLogin_IsRefusedLikeAWrongPassword()
    {
        var console = new ConsoleClient(app.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = true }));
        var response = await console.PostFormAsync("/login", new() { ["Login"] = "nobody", ["Password"] = "whatever-1" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("登录名或密码错误", await response.ReadText());
    }

    [Fact]
    public async Task Anonymous_GetsLoginRedirectOnPages_And401ProblemOnApi()
    {
        var client = app.CreateClient(new() { AllowAutoRedirect = false });
        var page = await client.Get("/members");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location!.PathAndQuery);
        await AssertProblem(await client.Get("/api/members"), HttpStatusCode.Unauthorized, "auth.required");

        client.DefaultRequestHeaders.Add("X-Api-Key", "ptk_0000000000000000_not-a-real-secret");
        await AssertProblem(await client.Get("/api/members"), HttpStatusCode.Unauthorized, "auth.required");
    }

    [Fact]
    public async Task StaffApi_AdminCreatesACashier_WhoSeesOnlyTheirStore_OthersMayNot()
    {
        var login = await CreateStaffAsync("cashier", app.Org.StoreA2);
        var cashier = await app.SignInAsync(login, "a-long-password");
        var stores = await (await cashier.Http.Get("/api/stores")).ReadJson();
        Assert.Equal(app.Org.StoreA2, Assert.Single(stores.EnumerateArray()).GetProperty("id").GetInt64());

        await AssertProblem(await cashier.Http.PostJson("/api/staff", new { login = "x-y", displayName = "x", role = "admin", password = "a-long-password" }), HttpStatusCode.Forbidden, "auth.forbidden");
        var manager = await app.SignInAsync("manager-a");
        await AssertProblem(await manager.Http.Get("/api/staff"), HttpStatusCode.Forbidden, "auth.forbidden");

        var admin = await app.SignInAsync("admin");
        await AssertProblem(await admin.Http.PostJson("/api/staff", new { login = "n", displayName = "", role = "owner", password = "short" }), HttpStatusCode.BadRequest, "validation.failed", ("password", "staff.password_too_short"));
        await AssertProblem(await admin.Http.PostJson("/api/staff", new { login = "new-cashier", displayName = "x", role = "cashier", password = "a-long-password" }), HttpStatusCode.BadRequest, "validation.failed", ("storeIds", "staff.stores_required"));
        await AssertProblem(await admin.Http.PostJson("/api/staff", new { login, displayName = "x", role = "auditor", password = "a-long-password" }), HttpStatusCode.Conflict, "staff.login_taken");
    }

    [Fact]
    public async Task Health_And_OpenApi_AreServed()
    {
        var client = app.CreateClient();
        Assert.Equal("Healthy", await (await client.Get("/health")).ReadText());
        var doc = await (await client.Get("/openapi/v1.json")).ReadJson();
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/api/members", "/api/members/lookup", "/api/members/{id}", "/api/stores", "/api/stores/{storeId}/terminals" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI lacks {path}");
        }

        Assert.True(doc.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("terminalKey", out _));
    }
}

public sealed class AuthSqliteTests(SqliteApp app) : AuthTests(app), IClassFixture<SqliteApp>;

public sealed class AuthPostgresTests(PostgresApp app) : AuthTests(app), IClassFixture<PostgresApp>;
