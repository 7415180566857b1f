using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Scope on the server, for the API (terminal keys and staff cookies) and for the console pages:
/// store staff and terminals find any member of their own program by an exact identifier, but
/// list, browse and act only within their own stores, and never see another program.
/// </summary>
public abstract class ScopeTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    private static int _names;

    private sealed record Enrolled(long Id, string Name, string Phone, string Card);

    private async Task<Enrolled> EnrolAsync(string terminalKey)
    {
        var name = "测试" + (char)('甲' + (Interlocked.Increment(ref _names) % 200)) + Guid.NewGuid().ToString("N")[..4].Replace('0', '零');
        name = new string([.. name.Where(c => !char.IsAsciiDigit(c))]);
        var phone = PatronApp.NewPhone();
        var response = await app.TerminalClient(terminalKey).PostJson("/api/members", new { name, mobile = phone });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJson();
        return new(body.GetProperty("id").GetInt64(), name, phone, body.GetProperty("cards")[0].GetProperty("number").GetString()!);
    }

    [Fact]
    public async Task Lookup_TerminalOfA1_FindsMemberOfA2ByPhoneAndCard()
    {
        var m = await EnrolAsync(app.Org.TerminalA2);
        var a1 = app.TerminalClient(app.Org.TerminalA1);
        Assert.Equal(m.Id, Assert.Single(await Lookup(a1, new { phone = m.Phone })).GetProperty("id").GetInt64());
        Assert.Equal(m.Id, Assert.Single(await Lookup(a1, new { cardNumber = m.Card })).GetProperty("id").GetInt64());
        Assert.Equal(m.Id, Assert.Single(await Lookup(a1, new { name = m.Name, phoneTail = m.Phone[^4..] })).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Lookup_TerminalOrCashierOfA1_NeverSeesAnotherProgram()
    {
        var b = await EnrolAsync(app.Org.TerminalB1);
        var cashier = await app.SignInAsync("cashier-a1");
        foreach (var client in new[] { app.TerminalClient(app.Org.TerminalA1), cashier.Http })
        {
            Assert.Empty(await Lookup(client, new { phone = b.Phone }));
            Assert.Empty(await Lookup(client, new { cardNumber = b.Card }));
            Assert.Empty(await Lookup(client, new { name = b.Name, phoneTail = b.Phone[^4..] }));
        }

        var admin = await app.SignInAsync("admin");
        Assert.Single(await Lookup(admin.Http, new { phone = b.Phone }));
    }

    [Fact]
    public async Task List_TerminalOfA1_SeesOnlyMembersEnrolledAtA1()
    {
        var mine = await EnrolAsync(app.Org.TerminalA1);
        var other = await EnrolAsync(app.Org.TerminalA2);
        var a1 = app.TerminalClient(app.Org.TerminalA1);

        var page = await (await a1.Get("/api/members?pageSize=100")).ReadJson();
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.All(items, i => Assert.Equal(app.Org.StoreA1, i.GetProperty("enrolStoreId").GetInt64()));
        Assert.Contains(items, i => i.GetProperty("id").GetInt64() == mine.Id);
        Assert.DoesNotContain(items, i => i.GetProperty("id").GetInt64() == other.Id);
        Assert.Equal(await app.WithDbAsync(db => db.Members.CountAsync(m => m.EnrolStoreId == app.Org.StoreA1)), page.GetProperty("total").GetInt32());

        await AssertProblem(await a1.Get($"/api/members?storeId={app.Org.StoreA2}"), HttpStatusCode.Forbidden, "scope.store_forbidden");
        await AssertProblem(await a1.Get($"/api/members/{other.Id}"), HttpStatusCode.NotFound, "member.not_found");
        Assert.Equal(HttpStatusCode.OK, (await a1.Get($"/api/members/{mine.Id}")).StatusCode);
    }

    [Fact]
    public async Task List_ManagerOfA1AndA2_SeesBothButNotB1_AdminSeesAll()
    {
        var a1 = await EnrolAsync(app.Org.TerminalA1);
        var a2 = await EnrolAsync(app.Org.TerminalA2);
        var b1 = await EnrolAsync(app.Org.TerminalB1);
        var manager = await app.SignInAsync("manager-a");
        var ids = (await (await manager.Http.Get("/api/members?pageSize=100")).ReadJson()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToList();
        Assert.Contains(a1.Id, ids);
        Assert.Contains(a2.Id, ids);
        Assert.DoesNotContain(b1.Id, ids);
        await AssertProblem(await manager.Http.Get($"/api/members?storeId={app.Org.StoreB1}"), HttpStatusCode.Forbidden, "scope.store_forbidden");

        var admin = await app.SignInAsync("admin");
        var all = await (await admin.Http.Get($"/api/members?storeId={app.Org.StoreB1}&pageSize=100")).ReadJson();
        Assert.Contains(all.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetInt64() == b1.Id);
    }

    [Fact]
    public async Task Enrol_AsAnotherStore_IsForbidden_AndWritesNothing()
    {
        var before = await app.MemberCountAsync();
        var terminal = app.TerminalClient(app.Org.TerminalA1);
        await AssertProblem(await terminal.PostJson("/api/members", new { name = "钱多多", mobile = PatronApp.NewPhone(), storeId = app.Org.StoreA2 }), HttpStatusCode.Forbidden, "scope.store_forbidden");
        var cashier = await app.SignInAsync("cashier-a1");
        await AssertProblem(await cashier.Http.PostJson("/api/members", new { name = "钱多多", mobile = PatronApp.NewPhone(), storeId = app.Org.StoreB1 }), HttpStatusCode.Forbidden, "scope.store_forbidden");
        var auditor = await app.SignInAsync("auditor");
        await AssertProblem(await auditor.Http.PostJson("/api/members", new { name = "钱多多", mobile = PatronApp.NewPhone(), storeId = app.Org.StoreA1 }), HttpStatusCode.Forbidden, "auth.forbidden");
        Assert.Equal(before, await app.MemberCountAsync());

        // A cashier with one store enrols there without naming it.
        var ok = await cashier.Http.PostJson("/api/members", new { name = "钱多多", mobile = PatronApp.NewPhone() });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal(app.Org.StoreA1, (await ok.ReadJson()).GetProperty("enrolStoreId").GetInt64());
    }

    [Fact]
    public async Task Stores_StoreStaffSeeTheirStores_HeadOfficeSeesAll()
    {
        async Task<List<string>> Codes(HttpClient c) =>
            [.. (await (await c.Get("/api/stores")).ReadJson()).EnumerateArray().Select(s => s.GetProperty("code").GetString()!)];

        Assert.Equal(["A1"], await Codes((await app.SignInAsync("cashier-a1")).Http));
        Assert.Equal(["A1", "A2"], await Codes((await app.SignInAsync("manager-a")).Http));
        Assert.Equal(["B1"], await Codes(app.TerminalClient(app.Org.TerminalB1)));
        Assert.Equal(["A1", "A2", "B1"], await Codes((await app.SignInAsync("auditor")).Http));
    }

    [Fact]
    public async Task Terminals_ManagerCreatesForOwnStoreOnly_AndRevokedKeyIsRefused()
    {
        var manager = await app.SignInAsync("manager-a");
        var created = await manager.Http.PostJson($"/api/stores/{app.Org.StoreA2}/terminals", new { name = "A2 POS 9" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJson();
        var key = body.GetProperty("apiKey").GetString()!;
        var terminalId = body.GetProperty("terminal").GetProperty("id").GetInt64();
        var stored = await app.WithDbAsync(db => db.Terminals.AsNoTracking().SingleAsync(t => t.Id == terminalId));
        Assert.DoesNotContain(stored.KeyHash, key);
        Assert.DoesNotContain(key[(key.IndexOf('_', 4) + 1)..], stored.KeyHash); // the secret part (it may itself hold '_')

        var listed = await (await manager.Http.Get($"/api/stores/{app.Org.StoreA2}/terminals")).ReadText();
        Assert.DoesNotContain(key, listed);

        var terminal = app.TerminalClient(key);
        Assert.Equal(HttpStatusCode.OK, (await terminal.Get("/api/stores")).StatusCode);

        await AssertProblem(await manager.Http.PostJson($"/api/stores/{app.Org.StoreB1}/terminals", new { name = "x" }), HttpStatusCode.NotFound, "store.not_found"); // another store is not found, as one that does not exist
        var cashier = await app.SignInAsync("cashier-a2");
        await AssertProblem(await cashier.Http.PostJson($"/api/stores/{app.Org.StoreA2}/terminals", new { name = "x" }), HttpStatusCode.Forbidden, "auth.forbidden");

        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PostJson($"/api/terminals/{terminalId}/revoke", new { })).StatusCode);
        await AssertProblem(await terminal.Get("/api/stores"), HttpStatusCode.Unauthorized, "auth.required");
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.EntityType == "terminal" && a.EntityId == terminalId).Select(a => a.Action).ToListAsync());
        Assert.Equal(["terminal.created", "terminal.revoked"], audit.Order());
    }

    [Fact]
    public async Task MembersPage_CashierOfA1_ListsOnlyA1Members_AndCannotOpenA2()
    {
        var mine = await EnrolAsync(app.Org.TerminalA1);
        var other = await EnrolAsync(app.Org.TerminalA2);
        var cashier = await app.SignInAsync("cashier-a1");

        var html = await cashier.GetPageAsync("/members");
        Assert.Contains(mine.Card, html);
        Assert.DoesNotContain(other.Card, html);
        Assert.DoesNotContain(mine.Phone, html);
        Assert.Contains($"{mine.Phone[..3]}****{mine.Phone[^4..]}", html);

        var forbidden = await cashier.GetAsync($"/members?storeId={app.Org.StoreA2}");
        Assert.Equal(HttpStatusCode.Redirect, forbidden.StatusCode);
        Assert.StartsWith("/denied", forbidden.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.NotFound, (await cashier.GetAsync($"/members/{other.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cashier.GetAsync($"/members/{mine.Id}")).StatusCode);
    }

    [Fact]
    public async Task SearchBox_CashierOfA1_FindsA2MemberByPhone_ButNotByNameAlone()
    {
        var other = await EnrolAsync(app.Org.TerminalA2);
        var cashier = await app.SignInAsync("cashier-a1");
        await cashier.GetPageAsync("/members");

        var byPhone = await (await cashier.PostFormAsync("/members?handler=Search", new() { ["q"] = other.Phone }, htmx: true)).ReadText();
        Assert.Contains(other.Card, byPhone);
        var byName = await (await cashier.PostFormAsync("/members?handler=Search", new() { ["q"] = other.Name }, htmx: true)).ReadText();
        Assert.DoesNotContain(other.Card, byName);

        var b = await EnrolAsync(app.Org.TerminalB1);
        var otherProgram = await (await cashier.PostFormAsync("/members?handler=Search", new() { ["q"] = b.Phone }, htmx: true)).ReadText();
        Assert.DoesNotContain(b.Card, otherProgram);
    }

    [Fact]
    public async Task EnrolPage_CashierOfA1_EnrolsAtA1_ButNotAsA2()
    {
        var cashier = await app.SignInAsync("cashier-a1");
        await cashier.GetPageAsync("/members");
        var before = await app.MemberCountAsync();
        var refused = await cashier.PostFormAsync("/members?handler=Enrol", new() { ["Enrol.Name"] = "郑和", ["Enrol.Mobile"] = PatronApp.NewPhone(), ["Enrol.StoreId"] = app.Org.StoreA2.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("无权以该门店身份操作", await refused.ReadText());
        Assert.Equal(before, await app.MemberCountAsync());

        var phone = PatronApp.NewPhone();
        var ok = await cashier.PostFormAsync("/members?handler=Enrol", new() { ["Enrol.Name"] = "郑和", ["Enrol.Mobile"] = phone, ["Enrol.StoreId"] = app.Org.StoreA1.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Enrol.Channel"] = "wechat" });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var member = await app.WithDbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Mobile == phone));
        Assert.Equal(app.Org.StoreA1, member.EnrolStoreId);
        Assert.NotNull(member.EnrolStaffId);
        Assert.Equal("wechat", member.Channel);
        Assert.Equal($"/members/{member.Id}", ok.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task EnrolPage_InvalidInput_ShowsChineseFieldErrors_AndWritesNothing()
    {
        var cashier = await app.SignInAsync("cashier-a1");
        await cashier.GetPageAsync("/members");
        var before = await app.MemberCountAsync();
        var response = await cashier.PostFormAsync("/members?handler=Enrol", new() { ["Enrol.Name"] = "", ["Enrol.Mobile"] = "12345", ["Enrol.IdNumber"] = "110101199003071234" });
        var html = await response.ReadText();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("请填写姓名", html);
        Assert.Contains("手机号格式不正确", html);
        Assert.Contains("身份证号无效", html);
        Assert.Equal(before, await app.MemberCountAsync());
    }
}

public sealed class ScopeSqliteTests(SqliteApp app) : ScopeTests(app), IClassFixture<SqliteApp>;

public sealed class ScopePostgresTests(PostgresApp app) : ScopeTests(app), IClassFixture<PostgresApp>;
