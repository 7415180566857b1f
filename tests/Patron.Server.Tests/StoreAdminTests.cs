using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Stores and terminals: administrators create and edit stores, store managers see only their
/// own (read-only), terminal keys are rotated and revoked with the old key refused at the POS
/// API, bad input is refused next to the field with nothing saved, and a store manager who edits
/// URLs or forms to reach another chain's store sees nothing of it.
/// </summary>
public abstract class StoreAdminTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private Task<int> StoreCountAsync() => app.WithDbAsync(db => db.Stores.CountAsync());

    private Task<long> RegionAsync() => app.WithDbAsync(db => db.Regions.Select(r => r.Id).FirstAsync());

    private async Task<long> CreateStoreAsync(ConsoleClient admin, string code)
    {
        var response = await admin.Http.PostJson("/api/stores", new { code, name = "门店" + code, regionId = await RegionAsync(), city = "北京", district = "朝阳区", address = "建国路 1 号", programId = app.Org.ProgramA });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
    }

    [Fact]
    public async Task CreateStore_Admin_SavesDistrictAndAddress_AndAudits_BadInputSavesNothing()
    {
        var admin = await app.SignInAsync("admin");
        var code = "S" + Guid.NewGuid().ToString("N")[..6];
        var id = await CreateStoreAsync(admin, code);
        var view = await (await admin.Http.Get($"/api/stores/{id}")).ReadJson();
        Assert.Equal("朝阳区", view.GetProperty("district").GetString());
        Assert.Equal("建国路 1 号", view.GetProperty("address").GetString());
        Assert.True(view.GetProperty("isActive").GetBoolean());
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "store.created" && a.EntityId == id && a.StoreId == id)));

        var before = await StoreCountAsync();
        await AssertProblem(
            await admin.Http.PostJson("/api/stores", new { code = "bad code!", name = "x", regionId = 999_999, city = "北京", programId = 999_999 }),
            HttpStatusCode.BadRequest, "validation.failed", ("code", "code_invalid"), ("regionId", "region.not_found"), ("programId", "program.not_found"));
        await AssertProblem(
            await admin.Http.PostJson("/api/stores", new { code, name = "x", regionId = await RegionAsync(), city = "北京", programId = app.Org.ProgramA }),
            HttpStatusCode.Conflict, "store.code_taken", ("code", "store.code_taken"));

        // The console form: the errors beside their fields, in Chinese, nothing saved.
        await admin.GetPageAsync("/stores");
        var page = await admin.PostFormAsync("/stores", new() { ["Form.Code"] = "bad code!", ["Form.Name"] = "坏门店", ["Form.City"] = "北京", ["Form.RegionId"] = Id(await RegionAsync()), ["Form.ProgramId"] = "999999" });
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        var html = await page.ReadText();
        Assert.Contains("编码须为 1–32 位字母、数字、横线或下划线。", html);
        Assert.Contains("id=\"Form_Code\" name=\"Form.Code\" value=\"bad code!\"", html);
        Assert.Contains("class=\"form-control is-invalid\" id=\"Form_Code\"", html);
        var dup = await admin.PostFormAsync("/stores", new() { ["Form.Code"] = code, ["Form.Name"] = "重复", ["Form.City"] = "北京", ["Form.RegionId"] = Id(await RegionAsync()), ["Form.ProgramId"] = Id(app.Org.ProgramA) });
        Assert.Contains("该门店编码已存在。", await dup.ReadText());
        Assert.Equal(before, await StoreCountAsync());

        var ok = await admin.PostFormAsync("/stores", new() { ["Form.Code"] = code + "P", ["Form.Name"] = "页面门店", ["Form.City"] = "北京", ["Form.District"] = "海淀区", ["Form.RegionId"] = Id(await RegionAsync()), ["Form.ProgramId"] = Id(app.Org.ProgramB) });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        Assert.Equal(before + 1, await StoreCountAsync());
    }

    [Fact]
    public async Task EditStore_Admin_ChangesAndClosesIt_ClosedStoresTerminalIsRefused_AuditHoldsOldAndNew()
    {
        var admin = await app.SignInAsync("admin");
        var code = "E" + Guid.NewGuid().ToString("N")[..6];
        var id = await CreateStoreAsync(admin, code);
        var key = (await (await admin.Http.PostJson($"/api/stores/{id}/terminals", new { name = "POS E" })).ReadJson()).GetProperty("apiKey").GetString()!;
        using var terminal = app.TerminalClient(key);
        Assert.Equal(HttpStatusCode.OK, (await terminal.Get("/api/stores")).StatusCode);

        var region = await RegionAsync();
        var changed = await admin.Http.PutJson($"/api/stores/{id}", new { code, name = "改名门店", regionId = region, city = "北京", district = "东城区", address = "", programId = app.Org.ProgramB, isActive = false });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var view = await changed.ReadJson();
        Assert.Equal("改名门店", view.GetProperty("name").GetString());
        Assert.Equal(app.Org.ProgramB, view.GetProperty("programId").GetInt64());
        Assert.False(view.GetProperty("isActive").GetBoolean());
        await AssertProblem(await terminal.Get("/api/stores"), HttpStatusCode.Unauthorized, "auth.required");

        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "store.closed" && a.EntityId == id));
        var detail = JsonDocument.Parse(entry.Detail!).RootElement;
        Assert.Equal("门店" + code, detail.GetProperty("before").GetProperty("Name").GetString());
        Assert.Equal("改名门店", detail.GetProperty("after").GetProperty("Name").GetString());
        Assert.True(detail.GetProperty("before").GetProperty("IsActive").GetBoolean());
        Assert.False(detail.GetProperty("after").GetProperty("IsActive").GetBoolean());

        // The store's members keep it in its program: a store where members enrolled cannot move.
        using var a1 = app.TerminalClient(app.Org.TerminalA1);
        Assert.Equal(HttpStatusCode.Created, (await a1.PostJson("/api/members", new { name = "程序锁", mobile = PatronApp.NewPhone() })).StatusCode);
        var a1View = await (await admin.Http.Get($"/api/stores/{app.Org.StoreA1}")).ReadJson();
        await AssertProblem(
            await admin.Http.PutJson($"/api/stores/{app.Org.StoreA1}", new { code = "A1", name = a1View.GetProperty("name").GetString(), regionId = region, city = "北京", programId = app.Org.ProgramB }),
            HttpStatusCode.BadRequest, "validation.failed", ("programId", "store.program_locked"));
        await AssertProblem(
            await admin.Http.PutJson($"/api/stores/{app.Org.StoreA1}", new { code = "B1", name = "x", regionId = region, city = "北京", programId = app.Org.ProgramA }),
            HttpStatusCode.Conflict, "store.code_taken", ("code", "store.code_taken"));
        var a1After = await app.WithDbAsync(db => db.Stores.AsNoTracking().SingleAsync(s => s.Id == app.Org.StoreA1));
        Assert.Equal(("A1", app.Org.ProgramA), (a1After.Code, a1After.ProgramId));

        // The page: an empty name is refused beside its field, nothing saved.
        await admin.GetPageAsync($"/stores/{id}");
        var bad = await admin.PostFormAsync($"/stores/{id}?handler=Edit", new() { ["Form.Code"] = code, ["Form.Name"] = "", ["Form.City"] = "北京", ["Form.RegionId"] = Id(region), ["Form.ProgramId"] = Id(app.Org.ProgramB), ["Form.IsActive"] = "true" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("class=\"form-control is-invalid\" id=\"Form_Name\"", await bad.ReadText());
        Assert.False(await app.WithDbAsync(db => db.Stores.Where(s => s.Id == id).Select(s => s.IsActive).SingleAsync()));

        // Closed, it takes no sale from the console either (its terminals are already refused).
        await AssertProblem(await admin.Http.PostJson("/api/checkout/sales", new { orderNumber = "CLOSED-1", storeId = id, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 100 } } }),
            HttpStatusCode.UnprocessableEntity, "store.closed");
        Assert.Equal(0, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.StoreId == id)));

        var reopened = await admin.PostFormAsync($"/stores/{id}?handler=Edit", new() { ["Form.Code"] = code, ["Form.Name"] = "重开门店", ["Form.City"] = "北京", ["Form.RegionId"] = Id(region), ["Form.ProgramId"] = Id(app.Org.ProgramB), ["Form.IsActive"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, reopened.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await terminal.Get("/api/stores")).StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "store.opened" && a.EntityId == id)));
    }

    [Fact]
    public async Task Stores_ManagerSeesOnlyOwnStores_ReadOnly_AndAnotherStoreIsNotFound()
    {
        var manager = await app.SignInAsync("manager-a");
        var list = await manager.GetPageAsync("/stores");
        Assert.Contains($"href=\"/stores/{app.Org.StoreA1}\"", list);
        Assert.Contains($"href=\"/stores/{app.Org.StoreA2}\"", list);
        Assert.DoesNotContain("B一店", list);
        Assert.DoesNotContain("data-testid=\"store-create\"", list);

        var a1 = await manager.GetPageAsync($"/stores/{app.Org.StoreA1}");
        Assert.Contains("data-testid=\"store-particulars\"", a1);
        Assert.DoesNotContain("data-testid=\"store-edit\"", a1);
        Assert.Contains("POS A1", a1);
        Assert.Contains("cashier-a1", a1);

        var b1 = await manager.GetAsync($"/stores/{app.Org.StoreB1}");
        Assert.Equal(HttpStatusCode.NotFound, b1.StatusCode);
        var b1Html = await b1.ReadText();
        Assert.DoesNotContain("B一店", b1Html);
        Assert.DoesNotContain("POS B1", b1Html);
        Assert.DoesNotContain("cashier-b1", b1Html);
        await AssertProblem(await manager.Http.Get($"/api/stores/{app.Org.StoreB1}"), HttpStatusCode.NotFound, "store.not_found");
        await AssertProblem(await manager.Http.Get($"/api/stores/{app.Org.StoreB1}/staff"), HttpStatusCode.NotFound, "store.not_found");

        // Read-only for the store itself, by API or by a forged form.
        await AssertProblem(await manager.Http.PutJson($"/api/stores/{app.Org.StoreA1}", new { code = "A1", name = "改", regionId = await RegionAsync(), city = "北京", programId = app.Org.ProgramA }), HttpStatusCode.Forbidden, "auth.forbidden");
        var forged = await manager.PostFormAsync($"/stores/{app.Org.StoreA1}?handler=Edit", new() { ["Form.Code"] = "A1", ["Form.Name"] = "改", ["Form.City"] = "北京", ["Form.RegionId"] = Id(await RegionAsync()), ["Form.ProgramId"] = Id(app.Org.ProgramA) });
        Assert.Equal(HttpStatusCode.Redirect, forged.StatusCode);
        Assert.StartsWith("/denied", forged.Headers.Location!.PathAndQuery);
        Assert.Equal("A一店", await app.WithDbAsync(db => db.Stores.Where(s => s.Id == app.Org.StoreA1).Select(s => s.Name).SingleAsync()));
    }

    [Fact]
    public async Task RotateKey_Manager_NewKeyShownOnce_OldKeyRefusedAtPos_AnotherStoresTerminalNotFound()
    {
        var manager = await app.SignInAsync("manager-a");
        var created = await (await manager.Http.PostJson($"/api/stores/{app.Org.StoreA1}/terminals", new { name = "A1 轮换" })).ReadJson();
        var oldKey = created.GetProperty("apiKey").GetString()!;
        var terminalId = created.GetProperty("terminal").GetProperty("id").GetInt64();
        using var old = app.TerminalClient(oldKey);
        Assert.Equal(HttpStatusCode.OK, (await old.Get("/api/stores")).StatusCode);

        // The page: rotating shows the new key once; the list afterwards never shows it.
        await manager.GetPageAsync($"/stores/{app.Org.StoreA1}");
        var rotated = await manager.PostFormAsync($"/stores/{app.Org.StoreA1}?handler=Rotate", new() { ["terminalId"] = Id(terminalId) });
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var html = await rotated.ReadText();
        var newKey = System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"api-key\">([^<]+)<").Groups[1].Value;
        Assert.StartsWith("ptk_", newKey);
        Assert.NotEqual(oldKey, newKey);
        Assert.True(rotated.Headers.CacheControl?.NoStore);
        Assert.DoesNotContain(newKey, await manager.GetPageAsync($"/stores/{app.Org.StoreA1}"));

        await AssertProblem(await old.Get("/api/stores"), HttpStatusCode.Unauthorized, "auth.required");
        using var fresh = app.TerminalClient(newKey);
        Assert.Equal(HttpStatusCode.OK, (await fresh.Get("/api/stores")).StatusCode);

        var stored = await app.WithDbAsync(db => db.Terminals.AsNoTracking().SingleAsync(t => t.Id == terminalId));
        Assert.NotNull(stored.KeyRotatedAt);
        Assert.NotNull(stored.KeyRotatedByStaffId);
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.EntityType == "terminal" && a.EntityId == terminalId).ToListAsync());
        var rotation = Assert.Single(audit, a => a.Action == "terminal.key_rotated");
        Assert.Equal(app.Org.StoreA1, rotation.StoreId);
        Assert.DoesNotContain(newKey[(newKey.IndexOf('_', 4) + 1)..], rotation.Detail!);

        // The list says who created and replaced the key, and when.
        var listed = await (await manager.Http.Get($"/api/stores/{app.Org.StoreA1}/terminals")).ReadJson();
        var row = listed.EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == terminalId);
        Assert.Equal("manager-a", row.GetProperty("createdBy").GetString());
        Assert.Equal("manager-a", row.GetProperty("keyRotatedBy").GetString());

        // Another chain's terminal: not found, by API or by a forged form naming it; its key unchanged.
        var b1Terminal = await app.WithDbAsync(db => db.Terminals.AsNoTracking().FirstAsync(t => t.StoreId == app.Org.StoreB1));
        await AssertProblem(await manager.Http.PostJson($"/api/terminals/{b1Terminal.Id}/rotate", new { }), HttpStatusCode.NotFound, "terminal.not_found");
        await AssertProblem(await manager.Http.PostJson($"/api/terminals/{b1Terminal.Id}/revoke", new { }), HttpStatusCode.NotFound, "terminal.not_found");
        Assert.Equal(HttpStatusCode.NotFound, (await manager.PostFormAsync($"/stores/{app.Org.StoreA1}?handler=Rotate", new() { ["terminalId"] = Id(b1Terminal.Id) })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await manager.PostFormAsync($"/stores/{app.Org.StoreB1}?handler=CreateTerminal", new() { ["TerminalName"] = "偷偷" })).StatusCode);
        var b1After = await app.WithDbAsync(db => db.Terminals.AsNoTracking().SingleAsync(t => t.Id == b1Terminal.Id));
        Assert.Equal((b1Terminal.KeyId, b1Terminal.KeyHash, (DateTime?)null), (b1After.KeyId, b1After.KeyHash, b1After.RevokedAt));
        Assert.False(await app.WithDbAsync(db => db.Terminals.AnyAsync(t => t.Name == "偷偷")));
        using var b1Pos = app.TerminalClient(app.Org.TerminalB1);
        Assert.Equal(HttpStatusCode.OK, (await b1Pos.Get("/api/stores")).StatusCode);

        // A revoked terminal gets no new key.
        Assert.Equal(HttpStatusCode.Redirect, (await manager.PostFormAsync($"/stores/{app.Org.StoreA1}?handler=Revoke", new() { ["terminalId"] = Id(terminalId) })).StatusCode);
        await AssertProblem(await fresh.Get("/api/stores"), HttpStatusCode.Unauthorized, "auth.required");
        await AssertProblem(await manager.Http.PostJson($"/api/terminals/{terminalId}/rotate", new { }), HttpStatusCode.UnprocessableEntity, "terminal.revoked");
        Assert.Equal("manager-a", (await (await manager.Http.Get($"/api/stores/{app.Org.StoreA1}/terminals")).ReadJson()).EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == terminalId).GetProperty("revokedBy").GetString());
    }

    [Fact]
    public async Task UrlTampering_ManagerOfA_ReachesNoPageOfB1()
    {
        using var b1Pos = app.TerminalClient(app.Org.TerminalB1);
        var bName = "乙链会员";
        var bMember = (await (await b1Pos.PostJson("/api/members", new { name = bName, mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var cashierB1 = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "cashier-b1").Select(s => s.Id).SingleAsync());
        var manager = await app.SignInAsync("manager-a");
        var b1 = Id(app.Org.StoreB1);

        foreach (var (url, expected) in new (string, HttpStatusCode)[]
        {
            ($"/stores/{b1}", HttpStatusCode.NotFound),
            ($"/staff/{cashierB1}", HttpStatusCode.NotFound),
            ($"/care?storeId={b1}", HttpStatusCode.NotFound),
            ($"/catalogue?store={b1}", HttpStatusCode.NotFound),
            ($"/audit?storeId={b1}", HttpStatusCode.Redirect),
            ($"/members/{bMember}", HttpStatusCode.NotFound),
            ($"/members/{bMember}/care", HttpStatusCode.NotFound),
        })
        {
            var response = await manager.GetAsync(url);
            Assert.True(expected == response.StatusCode, $"{url}: {(int)response.StatusCode}");
            if (expected == HttpStatusCode.Redirect)
            {
                Assert.StartsWith("/denied", response.Headers.Location!.PathAndQuery);
            }

            var html = await response.ReadText();
            Assert.DoesNotContain("B一店", html);
            Assert.DoesNotContain("cashier-b1", html);
            Assert.DoesNotContain(bName, html);
        }

        // The finance view has no store in its URL: it shows only the caller's stores.
        Assert.DoesNotContain("B一店", await manager.GetPageAsync("/finance/liability"));
    }

    [Fact]
    public async Task CashiersAndMarketing_CannotCreateRotateOrRevokeTerminals_ThroughTheStorePage()
    {
        var a1 = app.Org.StoreA1.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var terminalA1 = await app.WithDbAsync(db => db.Terminals.Where(t => t.StoreId == app.Org.StoreA1 && t.RevokedAt == null).OrderBy(t => t.Id).Select(t => new { t.Id, t.KeyId }).FirstAsync());
        var before = await app.WithDbAsync(db => db.Terminals.CountAsync());
        foreach (var login in new[] { "cashier-a1", "marketing" })
        {
            var staff = await app.SignInAsync(login);
            var created = await staff.PostFormAsync($"/stores/{a1}?handler=CreateTerminal", new() { ["TerminalName"] = "偷偷的终端" });
            Assert.Contains("/denied", created.Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
            var id = terminalA1.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains("/denied", (await staff.PostFormAsync($"/stores/{a1}?handler=Rotate", new() { ["terminalId"] = id })).Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
            Assert.Contains("/denied", (await staff.PostFormAsync($"/stores/{a1}?handler=Revoke", new() { ["terminalId"] = id })).Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
        }

        // An administrator's nameless terminal: refused beside the name field, nothing made.
        var nameless = await (await app.SignInAsync("admin")).PostFormAsync($"/stores/{a1}?handler=CreateTerminal", new() { ["TerminalName"] = " " });
        Assert.Equal(HttpStatusCode.BadRequest, nameless.StatusCode);
        Assert.Matches("is-invalid\" name=\"TerminalName\"", await nameless.ReadText());
        Assert.Equal(before, await app.WithDbAsync(db => db.Terminals.CountAsync()));
        var after = await app.WithDbAsync(db => db.Terminals.Where(t => t.Id == terminalA1.Id).Select(t => new { t.KeyId, t.RevokedAt }).SingleAsync());
        Assert.Equal((terminalA1.KeyId, (DateTime?)null), (after.KeyId, after.RevokedAt));
    }
}

public sealed class StoreAdminSqliteTests(SqliteApp app) : StoreAdminTests(app), IClassFixture<SqliteApp>;

public sealed class StoreAdminPostgresTests(PostgresApp app) : StoreAdminTests(app), IClassFixture<PostgresApp>;
