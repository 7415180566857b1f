using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Staff and roles: the admin's staff list (filtered, sorted, paged on the server), editing role
/// and stores, disabling (sign-in refused, an open session ends at its next request), password
/// resets, the self and last-admin rules, and a store manager who manages the cashiers of their
/// own stores and nobody else. Every change audited; refused input saves nothing.
/// </summary>
public abstract class StaffAdminTests(PatronApp app)
{
    private const string NewPassword = "a-long-password";

    private readonly bool _available = app.EnsureAvailable();

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string NewLogin(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private Task<long> StaffIdAsync(string login) => app.WithDbAsync(db => db.Staff.Where(s => s.Login == login).Select(s => s.Id).SingleAsync());

    private async Task<(long Id, string Login)> CreateAsync(ConsoleClient by, string role, params long[] stores)
    {
        var login = NewLogin(role.Replace("_", "", StringComparison.Ordinal));
        var response = await by.Http.PostJson("/api/staff", new { login, displayName = "员工 " + login, role, storeIds = stores, password = NewPassword });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.ReadText());
        return ((await response.ReadJson()).GetProperty("id").GetInt64(), login);
    }

    private static List<string> Logins(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("login").GetString()!)];

    [Fact]
    public async Task List_Admin_FiltersByStoreRoleAndActive_SortsAndPagesOnTheServer()
    {
        var admin = await app.SignInAsync("admin");
        var a1Cashiers = Logins(await (await admin.Http.Get($"/api/staff?storeId={app.Org.StoreA1}&role=cashier&pageSize=100")).ReadJson());
        Assert.Contains("cashier-a1", a1Cashiers);
        Assert.DoesNotContain("cashier-a2", a1Cashiers);
        Assert.DoesNotContain("manager-a", a1Cashiers);

        var all = await (await admin.Http.Get("/api/staff?pageSize=100")).ReadJson();
        var total = all.GetProperty("total").GetInt32();
        Assert.Equal(await app.WithDbAsync(db => db.Staff.CountAsync()), total);
        var asc = Logins(all);
        Assert.Equal(asc.Order(StringComparer.Ordinal), asc);
        var desc = Logins(await (await admin.Http.Get("/api/staff?sort=-login&pageSize=100")).ReadJson());
        Assert.Equal(asc.AsEnumerable().Reverse(), desc);

        var page2 = await (await admin.Http.Get("/api/staff?pageSize=2&page=2")).ReadJson();
        Assert.Equal(total, page2.GetProperty("total").GetInt32());
        Assert.Equal(asc.Skip(2).Take(2), Logins(page2));

        var (id, login) = await CreateAsync(admin, "cashier", app.Org.StoreA2);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/staff/{id}/disable", new { })).StatusCode);
        var inactive = Logins(await (await admin.Http.Get("/api/staff?active=false&pageSize=100")).ReadJson());
        Assert.Contains(login, inactive);
        Assert.DoesNotContain("admin", inactive);

        await AssertProblem(await admin.Http.Get("/api/staff?role=owner&sort=age"), HttpStatusCode.BadRequest, "validation.failed", ("role", "staff.role_invalid"), ("sort", "staff.sort_invalid"));

        // The page: filter links and sort headers, rows linking to each account.
        var html = await admin.GetPageAsync($"/staff?storeId={app.Org.StoreA1}&role=cashier&sort=-name");
        Assert.Contains("cashier-a1", html);
        Assert.DoesNotContain("cashier-b1", html);
        Assert.Contains($"href=\"/staff/{await StaffIdAsync("cashier-a1")}\"", html);
    }

    [Fact]
    public async Task Manager_CreatesCashiersOfOwnStoresOnly_NeverAdminsOrOtherStores()
    {
        var manager = await app.SignInAsync("manager-a");
        var before = await app.WithDbAsync(db => db.Staff.CountAsync());
        await AssertProblem(await manager.Http.PostJson("/api/staff", new { login = NewLogin("x"), displayName = "x", role = "admin", password = NewPassword }), HttpStatusCode.Forbidden, "staff.role_forbidden");
        await AssertProblem(await manager.Http.PostJson("/api/staff", new { login = NewLogin("x"), displayName = "x", role = "store_manager", storeIds = new[] { app.Org.StoreA1 }, password = NewPassword }), HttpStatusCode.Forbidden, "staff.role_forbidden");
        await AssertProblem(await manager.Http.PostJson("/api/staff", new { login = NewLogin("x"), displayName = "x", role = "cashier", storeIds = new[] { app.Org.StoreA1, app.Org.StoreB1 }, password = NewPassword }), HttpStatusCode.Forbidden, "scope.store_forbidden");
        await AssertProblem(await manager.Http.PostJson("/api/staff", new { login = NewLogin("x"), displayName = "x", role = "cashier", storeIds = new[] { 999_999L }, password = NewPassword }), HttpStatusCode.BadRequest, "validation.failed", ("storeIds", "store.not_found"));
        await AssertProblem(await manager.Http.Get("/api/staff"), HttpStatusCode.Forbidden, "auth.forbidden");

        // Forged store-page forms naming B1 are not found; nothing saved.
        await manager.GetPageAsync($"/stores/{app.Org.StoreA1}");
        Assert.Equal(HttpStatusCode.NotFound, (await manager.PostFormAsync($"/stores/{app.Org.StoreB1}?handler=Cashier", new() { ["Cashier.Login"] = NewLogin("x"), ["Cashier.DisplayName"] = "x", ["Cashier.Password"] = NewPassword })).StatusCode);
        Assert.Equal(before, await app.WithDbAsync(db => db.Staff.CountAsync()));

        // The store page: a duplicate login is refused beside the field; a good one is created at that store.
        var dup = await manager.PostFormAsync($"/stores/{app.Org.StoreA1}?handler=Cashier", new() { ["Cashier.Login"] = "cashier-b1", ["Cashier.DisplayName"] = "重名", ["Cashier.Password"] = NewPassword });
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
        var dupHtml = await dup.ReadText();
        Assert.Contains("该登录名已被使用。", dupHtml);
        Assert.Contains("is-invalid\" name=\"Cashier.Login\"", dupHtml);
        Assert.Equal(before, await app.WithDbAsync(db => db.Staff.CountAsync()));

        var login = NewLogin("shouyin");
        var ok = await manager.PostFormAsync($"/stores/{app.Org.StoreA2}?handler=Cashier", new() { ["Cashier.Login"] = login, ["Cashier.DisplayName"] = "新收银", ["Cashier.Password"] = NewPassword });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var stores = await app.WithDbAsync(db => db.StaffStores.Where(s => s.Staff.Login == login).Select(s => s.StoreId).ToListAsync());
        Assert.Equal([app.Org.StoreA2], stores);
        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "staff.created" && a.EntityId == db.Staff.Single(s => s.Login == login).Id));
        Assert.Equal(app.Org.StoreA2, entry.StoreId);
        Assert.Equal(await StaffIdAsync("manager-a"), entry.ActorId);
        Assert.DoesNotContain(NewPassword, entry.Detail!);

        // The manager finds the change in the audit log of their store.
        Assert.Contains(login, await manager.GetPageAsync($"/audit?storeId={app.Org.StoreA2}&action=staff."));
    }

    [Fact]
    public async Task Manager_TouchesNoStaffOutsideTheirCashiers_AndCannotWidenTheirOwnStores()
    {
        var manager = await app.SignInAsync("manager-a");
        var cashierB1 = await StaffIdAsync("cashier-b1");
        var self = await StaffIdAsync("manager-a");
        var adminId = await StaffIdAsync("admin");
        foreach (var target in new[] { cashierB1, self, adminId })
        {
            await AssertProblem(await manager.Http.Get($"/api/staff/{target}"), HttpStatusCode.NotFound, "staff.not_found");
            await AssertProblem(await manager.Http.PutJson($"/api/staff/{target}", new { displayName = "x", role = "cashier", storeIds = new[] { app.Org.StoreA1 } }), HttpStatusCode.NotFound, "staff.not_found");
            await AssertProblem(await manager.Http.PostJson($"/api/staff/{target}/disable", new { }), HttpStatusCode.NotFound, "staff.not_found");
            await AssertProblem(await manager.Http.PostJson($"/api/staff/{target}/password", new { }), HttpStatusCode.NotFound, "staff.not_found");
            var page = await manager.GetAsync($"/staff/{target}");
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
            Assert.DoesNotContain("cashier-b1", await page.ReadText());
            Assert.Equal(HttpStatusCode.NotFound, (await manager.PostFormAsync($"/staff/{target}?handler=Disable", new())).StatusCode);
        }

        Assert.Equal(2, await app.WithDbAsync(db => db.StaffStores.CountAsync(s => s.StaffId == self)));
        Assert.True(await app.WithDbAsync(db => db.Staff.Where(s => s.Id == cashierB1).Select(s => s.IsActive).SingleAsync()));

        // Their own cashier: renamed, moved between their stores, never to B1 nor promoted.
        var admin = await app.SignInAsync("admin");
        var (id, _) = await CreateAsync(admin, "cashier", app.Org.StoreA1);
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PutJson($"/api/staff/{id}", new { displayName = "改名", role = "cashier", storeIds = new[] { app.Org.StoreA1, app.Org.StoreA2 } })).StatusCode);
        await AssertProblem(await manager.Http.PutJson($"/api/staff/{id}", new { displayName = "改名", role = "cashier", storeIds = new[] { app.Org.StoreB1 } }), HttpStatusCode.Forbidden, "scope.store_forbidden");
        await AssertProblem(await manager.Http.PutJson($"/api/staff/{id}", new { displayName = "改名", role = "store_manager", storeIds = new[] { app.Org.StoreA1 } }), HttpStatusCode.Forbidden, "staff.role_forbidden");
        var stored = await app.WithDbAsync(db => db.Staff.AsNoTracking().Include(s => s.Stores).SingleAsync(s => s.Id == id));
        Assert.Equal(Patron.Domain.Organisation.StaffRole.Cashier, stored.Role);
        Assert.Equal([app.Org.StoreA1, app.Org.StoreA2], stored.Stores.Select(s => s.StoreId).Order());

        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "staff.updated" && a.EntityId == id));
        var detail = JsonDocument.Parse(entry.Detail!).RootElement;
        Assert.Equal(Id(app.Org.StoreA1), detail.GetProperty("before").GetProperty("StoreIds").GetString());
        Assert.Equal($"{app.Org.StoreA1},{app.Org.StoreA2}", detail.GetProperty("after").GetProperty("StoreIds").GetString());
        Assert.Equal("cashier", detail.GetProperty("after").GetProperty("Role").GetString());

        // The edit page offers a manager only the cashier role and their own stores.
        var html = await manager.GetPageAsync($"/staff/{id}");
        Assert.DoesNotContain("value=\"admin\"", html);
        Assert.DoesNotContain("B一店", html);
    }

    [Fact]
    public async Task Disable_EndsTheOpenSessionAtItsNextRequest_AndRefusesSignIn_EnableRestores()
    {
        var admin = await app.SignInAsync("admin");
        var (id, login) = await CreateAsync(admin, "cashier", app.Org.StoreA1);
        var cashier = await app.SignInAsync(login, NewPassword);
        Assert.Equal(HttpStatusCode.OK, (await cashier.GetAsync("/members")).StatusCode);

        await admin.GetPageAsync($"/staff/{id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostFormAsync($"/staff/{id}?handler=Disable", new())).StatusCode);

        var next = await cashier.GetAsync("/members");
        Assert.Equal(HttpStatusCode.Redirect, next.StatusCode);
        Assert.StartsWith("/login", next.Headers.Location!.PathAndQuery);
        await AssertProblem(await cashier.Http.Get("/api/stores"), HttpStatusCode.Unauthorized, "auth.required");
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.SignInAsync(login, NewPassword));

        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/staff/{id}/enable", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await (await app.SignInAsync(login, NewPassword)).GetAsync("/members")).StatusCode);
        var actions = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.EntityType == "staff" && a.EntityId == id).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
        Assert.Equal(["staff.created", "staff.disabled", "staff.enabled"], actions.Where(a => a != "staff.login_failed"));
    }

    [Fact]
    public async Task Admin_CannotDisableThemselves_NorRemoveTheLastAdmin()
    {
        var admin = await app.SignInAsync("admin");
        var adminId = await StaffIdAsync("admin");
        await AssertProblem(await admin.Http.PostJson($"/api/staff/{adminId}/disable", new { }), HttpStatusCode.UnprocessableEntity, "staff.self_disable");
        await AssertProblem(await admin.Http.PutJson($"/api/staff/{adminId}", new { displayName = "admin", role = "marketing" }), HttpStatusCode.UnprocessableEntity, "staff.last_admin", ("role", "staff.last_admin"));

        // The page says so beside the role, and nothing changes.
        await admin.GetPageAsync($"/staff/{adminId}");
        var refused = await admin.PostFormAsync($"/staff/{adminId}?handler=Save", new() { ["Form.DisplayName"] = "admin", ["Form.Role"] = "auditor" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("这是最后一个启用的管理员，不能移除。", await refused.ReadText());
        Assert.Equal(Patron.Domain.Organisation.StaffRole.Admin, await app.WithDbAsync(db => db.Staff.Where(s => s.Id == adminId).Select(s => s.Role).SingleAsync()));
        Assert.True(await app.WithDbAsync(db => db.Staff.Where(s => s.Id == adminId).Select(s => s.IsActive).SingleAsync()));

        // With a second admin, that one may step down; the first one stays.
        var (second, login) = await CreateAsync(admin, "admin");
        var other = await app.SignInAsync(login, NewPassword);
        Assert.Equal(HttpStatusCode.OK, (await other.Http.PutJson($"/api/staff/{second}", new { displayName = "退位", role = "marketing" })).StatusCode);
        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "staff.updated" && a.EntityId == second));
        var detail = JsonDocument.Parse(entry.Detail!).RootElement;
        Assert.Equal(("admin", "marketing"), (detail.GetProperty("before").GetProperty("Role").GetString(), detail.GetProperty("after").GetProperty("Role").GetString()));
        Assert.Equal(second, entry.ActorId);
        Assert.Equal(HttpStatusCode.Redirect, (await other.GetAsync("/staff")).StatusCode); // its session now carries the new role
    }

    [Fact]
    public async Task ResetPassword_MadeOneShownOnce_OrSetByAdmin_OldPasswordAndSessionEnd_ShortOneRefused()
    {
        var admin = await app.SignInAsync("admin");
        var (id, login) = await CreateAsync(admin, "cashier", app.Org.StoreA2);
        var session = await app.SignInAsync(login, NewPassword);

        await admin.GetPageAsync($"/staff/{id}");
        var shortOne = await admin.PostFormAsync($"/staff/{id}?handler=Password", new() { ["Password"] = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, shortOne.StatusCode);
        var shortHtml = await shortOne.ReadText();
        Assert.Contains("密码至少 8 位。", shortHtml);
        Assert.Contains("is-invalid\" id=\"Password\"", shortHtml);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/members")).StatusCode); // nothing changed

        var made = await admin.PostFormAsync($"/staff/{id}?handler=Password", new() { ["Password"] = "" });
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        Assert.True(made.Headers.CacheControl?.NoStore);
        var password = System.Text.RegularExpressions.Regex.Match(await made.ReadText(), "data-testid=\"password-value\">([^<]+)<").Groups[1].Value;
        Assert.Equal(12, password.Length);
        Assert.DoesNotContain(password, await admin.GetPageAsync($"/staff/{id}"));

        Assert.Equal(HttpStatusCode.Redirect, (await session.GetAsync("/members")).StatusCode);
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.SignInAsync(login, NewPassword));
        await app.SignInAsync(login, password);

        var set = await admin.Http.PostJson($"/api/staff/{id}/password", new { password = "set-by-admin-1" });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.False((await set.ReadJson()).TryGetProperty("generatedPassword", out var made2) && made2.ValueKind != JsonValueKind.Null);
        await app.SignInAsync(login, "set-by-admin-1");

        var resets = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "staff.password_reset" && a.EntityId == id).Select(a => a.Detail!).ToListAsync());
        Assert.Equal(2, resets.Count);
        Assert.All(resets, d => Assert.DoesNotContain(password, d));
        Assert.All(resets, d => Assert.DoesNotContain("set-by-admin-1", d));

        // A manager resets the password of a cashier of their store.
        var manager = await app.SignInAsync("manager-a");
        var byManager = await (await manager.Http.PostJson($"/api/staff/{id}/password", new { })).ReadJson();
        await app.SignInAsync(login, byManager.GetProperty("generatedPassword").GetString()!);
    }

    [Fact]
    public async Task EditPage_BadInputShownBesideTheField_NothingSaved()
    {
        var admin = await app.SignInAsync("admin");
        var (id, _) = await CreateAsync(admin, "cashier", app.Org.StoreA1);
        await admin.GetPageAsync($"/staff/{id}");
        var bad = await admin.PostFormAsync($"/staff/{id}?handler=Save", new() { ["Form.DisplayName"] = "", ["Form.Role"] = "cashier" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var html = await bad.ReadText();
        Assert.Contains("显示名称须为 1–100 个字符。", html);
        Assert.Contains("店长和收银员至少需要一个门店。", html);
        Assert.Contains("is-invalid\" id=\"Form_DisplayName\"", html);
        var stored = await app.WithDbAsync(db => db.Staff.AsNoTracking().Include(s => s.Stores).SingleAsync(s => s.Id == id));
        Assert.StartsWith("员工 ", stored.DisplayName);
        Assert.Equal([app.Org.StoreA1], stored.Stores.Select(s => s.StoreId));
        Assert.False(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "staff.updated" && a.EntityId == id)));

        var ok = await admin.PostFormAsync($"/staff/{id}?handler=Save", new() { ["Form.DisplayName"] = "新名字", ["Form.Role"] = "store_manager", ["Form.StoreIds"] = Id(app.Org.StoreB1) });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        Assert.Contains("新名字", await admin.GetPageAsync($"/staff/{id}"));
    }

    [Fact]
    public async Task TwoAdmins_DisablingEachOtherAtOnce_LeaveOneActive()
    {
        var admin = await app.SignInAsync("admin");
        var adminId = await StaffIdAsync("admin");
        for (var round = 0; round < 5; round++)
        {
            var (second, login) = await CreateAsync(admin, "admin");
            var other = await app.SignInAsync(login, NewPassword);
            var answers = await Task.WhenAll(
                admin.Http.PostJson($"/api/staff/{second}/disable", new { }),
                other.Http.PostJson($"/api/staff/{adminId}/disable", new { }));
            Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.UnprocessableEntity, HttpStatusCode.Unauthorized })); // never a 500

            var active = await app.WithDbAsync(db => db.Staff.CountAsync(s => (s.Id == adminId || s.Id == second) && s.IsActive));
            Assert.True(active >= 1, $"round {round}: no active administrator left");

            // Back to one administrator, "admin", for the next round and the other tests.
            await app.WithDbAsync(async db =>
            {
                foreach (var s in await db.Staff.Where(s => s.Id == adminId || s.Id == second).ToListAsync())
                {
                    s.SetActive(s.Id == adminId);
                }

                return await db.SaveChangesAsync();
            });
            admin = await app.SignInAsync("admin");
        }
    }
}

public sealed class StaffAdminSqliteTests(SqliteApp app) : StaffAdminTests(app), IClassFixture<SqliteApp>;

public sealed class StaffAdminPostgresTests(PostgresApp app) : StaffAdminTests(app), IClassFixture<PostgresApp>;
