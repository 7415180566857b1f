using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Patron.Domain.Care;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// The pharmacist's care pages on each database: a store's open follow-ups (overdue first and
/// flagged) and refill reminders, recording a follow-up and planning one from the console through
/// the same rules as the API, and who may see which store's list.
/// </summary>
public abstract partial class CareConsoleTests(PatronApp app)
{
    private static readonly DateTimeOffset June1 = new(2026, 6, 1, 10, 0, 0, TimeSpan.FromHours(8));
    private static readonly DateTimeOffset June5 = new(2026, 6, 5, 10, 0, 0, TimeSpan.FromHours(8));

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    [Fact]
    public async Task CarePage_ListsTheStoresOpenFollowUps_OverdueFirstAndFlagged_MaskedAndWithoutHealthDetail()
    {
        await EnsureProgramAsync();
        app.Clock.Set(June1);
        var (member, phone) = await EnrolCaringAsync("关怀甲");
        var manager = await app.SignInAsync("manager-a");
        var later = await PlanAsync(manager, member, "visit", "2026-06-12", "复查血压");
        var sooner = await PlanAsync(manager, member, "call", "2026-06-03", "询问血糖控制");

        app.Clock.Set(June5);
        var cashier = await app.SignInAsync("cashier-a1");
        var html = await cashier.GetPageAsync("/care"); // a cashier's only store is chosen for them
        Assert.Contains("A一店", html);
        Assert.Contains("慢病关怀", html);

        var overdueRow = Row(html, sooner);
        var laterRow = Row(html, later);
        Assert.Contains("data-overdue=\"true\"", overdueRow);
        Assert.Contains("data-testid=\"overdue\">逾期<", overdueRow);
        Assert.Contains("电话回访", overdueRow);
        Assert.Contains("2026-06-03", overdueRow);
        Assert.Contains("data-overdue=\"false\"", laterRow);
        Assert.DoesNotContain("data-testid=\"overdue\"", laterRow);
        Assert.Contains("上门回访", laterRow);
        Assert.True(html.IndexOf(overdueRow, StringComparison.Ordinal) < html.IndexOf(laterRow, StringComparison.Ordinal), "the overdue follow-up comes first");
        foreach (var m in OverdueFlags().Matches(html).Cast<Match>().Select(m => m.Groups[1].Value).SkipWhile(f => f == "true"))
        {
            Assert.Equal("false", m); // every overdue one before every other
        }

        // Masked name and phone; no plan note, reading or condition on the list.
        Assert.Contains($"data-testid=\"task-mobile\">{phone[..3]}****{phone[^4..]}<", overdueRow);
        Assert.Contains("关**", overdueRow);
        Assert.DoesNotContain(phone, html);
        Assert.DoesNotContain("关怀甲", html);
        Assert.DoesNotContain("询问血糖控制", html);
        Assert.DoesNotContain("复查血压", html);
        Assert.DoesNotContain("高血压", html);
        Assert.Contains("href=\"/care\"", html); // in the navigation
    }

    [Fact]
    public async Task CarePage_ShowsARefillReminderWithTheMedicineAndTheDateItRunsOut_InChineseOrEnglish()
    {
        await EnsureProgramAsync();
        app.Clock.Set(June1);
        var (member, phone) = await EnrolCaringAsync("续药乙", medicine: true);
        var sale = await _a1.PostJson("/api/checkout/sales", new { orderNumber = "CC-" + Guid.NewGuid().ToString("N")[..10], memberId = member, lines = new[] { new { sku = "NIF30", quantity = 2, unitPrice = 3_500 } } });
        Assert.Equal(HttpStatusCode.OK, sale.StatusCode);

        var cashier = await app.SignInAsync("cashier-a1");
        var week = await cashier.GetPageAsync($"/care?storeId={app.Org.StoreA1}");
        Assert.DoesNotContain($"data-member-id=\"{member}\"", week); // 2 packs of 30 at 1 a day last until 31 July: not within the default 7 days
        Assert.Contains("7 天内续药提醒", week);

        var html = await cashier.GetPageAsync($"/care?storeId={app.Org.StoreA1}&days=60");
        var row = RefillRow(html, member);
        Assert.Contains("硝苯地平缓释片", row);
        Assert.Contains("data-testid=\"runs-out\">2026-07-31<", row);
        Assert.Contains("2026-07-28", row); // reminded three days before
        Assert.Contains($"{phone[..3]}****{phone[^4..]}", row);
        Assert.DoesNotContain("run-out", row);
        Assert.Contains("value=\"2026-07-28\"", html); // "plan a call" proposes the reminder day

        app.Clock.Set(new DateTimeOffset(2026, 8, 5, 10, 0, 0, TimeSpan.FromHours(8)));
        cashier = await app.SignInAsync("cashier-a1");
        var late = await cashier.GetPageAsync($"/care?storeId={app.Org.StoreA1}&days=0");
        Assert.Contains("data-testid=\"run-out\">已断药<", RefillRow(late, member));

        await cashier.PostFormAsync("/culture", new() { ["culture"] = "en", ["returnUrl"] = "/care" });
        var english = await cashier.GetPageAsync($"/care?storeId={app.Org.StoreA1}&days=0");
        Assert.Contains("Refill reminders within 0 days", english);
        Assert.Contains("data-testid=\"run-out\">Run out<", RefillRow(english, member));
        Assert.Contains(">Care</a>", english);
    }

    [Fact]
    public async Task RecordingAFollowUpFromTheForm_SavesEncryptedReadings_ABadReadingIsRefusedBesideTheFieldAndNothingIsSaved()
    {
        await EnsureProgramAsync();
        app.Clock.Set(June1);
        var (member, _) = await EnrolCaringAsync("记录丙");
        var cashier = await app.SignInAsync("cashier-a1");
        var task = await PlanAsync(cashier, member, "call", "2026-06-02", null);
        var url = $"/care?handler=Done&storeId={app.Org.StoreA1}&days=7&taskPage=1&refillPage=1";
        await cashier.GetPageAsync($"/care?storeId={app.Org.StoreA1}");

        var bad = await cashier.PostFormAsync(url, new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "reached", ["Done.Systolic"] = "400", ["Done.Diastolic"] = "90", ["Done.Glucose"] = "abc" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var form = await bad.ReadText();
        Assert.Contains($"class=\"collapse show\" id=\"done-{task}\"", form); // the refused form stays open
        Assert.Matches($"id=\"done-{task}-systolic\" name=\"Done.Systolic\" value=\"400\"", form);
        Assert.Contains("data-testid=\"systolic-error\">血压须同时填写收缩压", form);
        Assert.Contains("data-testid=\"glucose-error\">血糖须在 0.5–50 mmol/L 之间。<", form);
        var untouched = await TaskAsync(task);
        Assert.Null(untouched.DoneAt);
        Assert.Null(untouched.Cipher);

        var unknown = await cashier.PostFormAsync(url, new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "cured" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("is-invalid\" id=\"done-" + task + "-outcome\"", await unknown.ReadText());
        Assert.Null((await TaskAsync(task)).DoneAt);

        var ok = await cashier.PostFormAsync(url, new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "reached", ["Done.Systolic"] = "135", ["Done.Diastolic"] = "85", ["Done.Glucose"] = "6.1", ["Done.Note"] = "空腹血糖偏高" });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        Assert.StartsWith($"/care?storeId={app.Org.StoreA1}", ok.Headers.Location!.OriginalString);
        var done = await TaskAsync(task);
        Assert.Equal("reached", done.Outcome);
        Assert.NotNull(done.DoneAt);
        Assert.DoesNotContain("空腹", done.Cipher!);
        Assert.DoesNotContain("135", done.Cipher!);

        var after = await cashier.GetPageAsync(ok.Headers.Location.OriginalString);
        Assert.Contains("回访已登记", after);
        Assert.DoesNotContain($"data-task-id=\"{task}\"", after);
        Assert.DoesNotContain("空腹血糖偏高", after);

        // Where the API shows readings (the member's own care section, to the store that followed up).
        var own = await cashier.GetPageAsync($"/members/{member}/care");
        var readings = Regex.Match(own, $"data-task-id=\"{task}\"[\\s\\S]*?data-testid=\"task-readings\">([\\s\\S]*?)</td>").Groups[1].Value;
        Assert.Contains("135/85 mmHg", readings);
        Assert.Contains("6.1 mmol/L", readings);
        Assert.Contains("空腹血糖偏高", readings);
        Assert.Contains("已联系", own);

        // Recorded once.
        var again = await cashier.PostFormAsync(url, new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "reached" });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("该回访已登记", await again.ReadText());
    }

    [Fact]
    public async Task RecordingAFollowUp_IsRefusedOnceTheMemberWithdrewHealthConsent()
    {
        await EnsureProgramAsync();
        app.Clock.Set(June1);
        var (member, _) = await EnrolCaringAsync("撤回丁");
        var cashier = await app.SignInAsync("cashier-a1");
        var task = await PlanAsync(cashier, member, "call", "2026-06-02", null);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = false })).StatusCode);

        await cashier.GetPageAsync($"/care?storeId={app.Org.StoreA1}");
        var refused = await cashier.PostFormAsync($"/care?handler=Done&storeId={app.Org.StoreA1}", new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "reached", ["Done.Systolic"] = "120", ["Done.Diastolic"] = "80" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("请先登记会员保存健康信息的授权", await refused.ReadText());
        var row = await TaskAsync(task);
        Assert.Null(row.DoneAt);
        Assert.Null(row.Cipher);
    }

    [Fact]
    public async Task PlanningFromTheMembersCarePage_AndFromARefillReminder_GoesThroughTheSameRules()
    {
        await EnsureProgramAsync();
        app.Clock.Set(June1);
        var (member, phone) = await EnrolCaringAsync("计划戊", medicine: true);
        var manager = await app.SignInAsync("manager-a");
        var page = await manager.GetPageAsync($"/members/{member}/care");
        Assert.Contains("data-testid=\"plan-form\"", page);
        Assert.Contains("硝苯地平缓释片", page);
        Assert.Contains("value=\"2026-06-01\"", page); // due today unless changed
        Assert.Contains($"{phone[..3]}****{phone[^4..]}", page);
        Assert.DoesNotContain(phone, page);

        var count = await TaskCountAsync(member);
        var noDate = await manager.PostFormAsync($"/members/{member}/care?handler=Plan", new() { ["Plan.Kind"] = "visit", ["Plan.DueOn"] = "", ["Plan.Note"] = "复查" });
        Assert.Equal(HttpStatusCode.BadRequest, noDate.StatusCode);
        var html = await noDate.ReadText();
        Assert.Contains("is-invalid\" id=\"Plan_DueOn\"", html);
        Assert.Contains("请填写计划日期。", html);
        var badKind = await manager.PostFormAsync($"/members/{member}/care?handler=Plan", new() { ["Plan.Kind"] = "sms", ["Plan.DueOn"] = "2026-06-20" });
        Assert.Contains("回访方式须为电话回访或上门回访。", await badKind.ReadText());
        Assert.Equal(count, await TaskCountAsync(member));

        var planned = await manager.PostFormAsync($"/members/{member}/care?handler=Plan", new() { ["Plan.Kind"] = "visit", ["Plan.DueOn"] = "2026-06-20", ["Plan.Note"] = "复查血压" });
        Assert.Equal(HttpStatusCode.Redirect, planned.StatusCode);
        var visit = await app.WithDbAsync(db => db.CareTasks.AsNoTracking().Where(t => t.MemberId == member).OrderByDescending(t => t.Id).FirstAsync());
        Assert.Equal((CareTaskKind.Visit, new DateOnly(2026, 6, 20), app.Org.StoreA1), (visit.Kind, visit.DueOn, visit.StoreId));
        Assert.DoesNotContain("复查血压", visit.Cipher!);
        var shown = await manager.GetPageAsync($"/members/{member}/care");
        Assert.Contains("已安排回访，计划日期 2026-06-20。", shown);
        Assert.Contains("复查血压", shown);

        // From the store's refill reminder row, for the chosen store.
        await manager.GetPageAsync($"/care?storeId={app.Org.StoreA1}&days=90");
        var fromList = await manager.PostFormAsync($"/care?handler=Plan&storeId={app.Org.StoreA1}&days=90", new() { ["PlanMemberId"] = Id(member), ["Plan.Kind"] = "call", ["Plan.DueOn"] = "2026-06-25" });
        Assert.Equal(HttpStatusCode.Redirect, fromList.StatusCode);
        var call = await app.WithDbAsync(db => db.CareTasks.AsNoTracking().Where(t => t.MemberId == member).OrderByDescending(t => t.Id).FirstAsync());
        Assert.Equal((CareTaskKind.Call, new DateOnly(2026, 6, 25), app.Org.StoreA1), (call.Kind, call.DueOn, call.StoreId));

        // Without health consent: nothing to plan, and a forged form saves nothing.
        var without = (await (await _a1.PostJson("/api/members", new { name = "未授权", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var none = await manager.GetPageAsync($"/members/{without}/care");
        Assert.Contains("data-testid=\"no-health-consent\"", none);
        Assert.DoesNotContain("data-testid=\"plan-form\"", none);
        var forged = await manager.PostFormAsync($"/members/{without}/care?handler=Plan", new() { ["Plan.Kind"] = "call", ["Plan.DueOn"] = "2026-06-20" });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("请先登记会员保存健康信息的授权", await forged.ReadText());
        Assert.Equal(0, await TaskCountAsync(without));
    }

    [Fact]
    public async Task Scope_OtherStoresCashiersAndMarketingSeeNothing_EvenByEditingTheUrl()
    {
        await EnsureProgramAsync();
        app.Clock.Set(June1);
        var (member, phone) = await EnrolCaringAsync("范围己", medicine: true);
        var manager = await app.SignInAsync("manager-a");
        var task = await PlanAsync(manager, member, "call", "2026-06-02", null);
        var masked = $"{phone[..3]}****{phone[^4..]}";

        // A cashier of another chain sees their own store, and nothing of A1 by changing storeId.
        var b1 = await app.SignInAsync("cashier-b1");
        var own = await b1.GetPageAsync("/care");
        Assert.Contains("B一店", own);
        Assert.DoesNotContain($"data-task-id=\"{task}\"", own);
        Assert.DoesNotContain(masked, own);
        var tampered = await b1.GetAsync($"/care?storeId={app.Org.StoreA1}&days=90");
        Assert.Equal(HttpStatusCode.NotFound, tampered.StatusCode);
        var tamperedHtml = await tampered.ReadText();
        Assert.DoesNotContain(masked, tamperedHtml);
        Assert.DoesNotContain($"data-task-id=\"{task}\"", tamperedHtml);
        Assert.Equal(HttpStatusCode.NotFound, (await b1.GetAsync($"/members/{member}/care")).StatusCode);
        var forged = await b1.PostFormAsync($"/care?handler=Done&storeId={app.Org.StoreB1}", new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "reached" });
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        var forgedA1 = await b1.PostFormAsync($"/care?handler=Done&storeId={app.Org.StoreA1}", new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "reached" });
        Assert.Equal(HttpStatusCode.NotFound, forgedA1.StatusCode);

        // A cashier of the same chain's other store: the same.
        var a2 = await app.SignInAsync("cashier-a2");
        Assert.DoesNotContain($"data-task-id=\"{task}\"", await a2.GetPageAsync("/care"));
        Assert.Equal(HttpStatusCode.NotFound, (await a2.GetAsync($"/care?storeId={app.Org.StoreA1}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a2.GetAsync($"/members/{member}/care")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a2.PostFormAsync($"/care?handler=Done&storeId={app.Org.StoreA2}", new() { ["TaskId"] = Id(task), ["Done.Outcome"] = "reached" })).StatusCode);

        // Marketing: no page, no link, no list through the API either.
        var marketing = await app.SignInAsync("marketing");
        foreach (var url in new[] { $"/care?storeId={app.Org.StoreA1}", $"/members/{member}/care" })
        {
            var denied = await marketing.GetAsync(url);
            Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
            Assert.StartsWith("/denied", denied.Headers.Location!.PathAndQuery);
        }

        Assert.DoesNotContain("href=\"/care\"", await marketing.GetPageAsync("/"));
        Assert.Equal(HttpStatusCode.Forbidden, (await marketing.Http.Get($"/api/care/tasks?storeId={app.Org.StoreA1}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketing.Http.Get($"/api/care/refills?storeId={app.Org.StoreA1}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketing.Http.PostJson($"/api/care-tasks/{task}/done", new { outcome = "reached" })).StatusCode);

        // Auditors read the ledgers, not medicines and follow-ups: neither the pages nor the API.
        var auditor = await app.SignInAsync("auditor");
        var audited = await auditor.GetAsync($"/care?storeId={app.Org.StoreA1}");
        Assert.Equal(HttpStatusCode.Redirect, audited.StatusCode);
        Assert.StartsWith("/denied", audited.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.Http.Get($"/api/care/tasks?storeId={app.Org.StoreA1}")).StatusCode);

        // The store manager picks between their stores.
        var picker = await manager.GetPageAsync($"/care?storeId={app.Org.StoreA2}");
        Assert.Contains("data-testid=\"store-picker\"", picker);
        Assert.DoesNotContain($"data-task-id=\"{task}\"", picker);
        Assert.DoesNotContain("B一店", picker);
        Assert.Null((await TaskAsync(task)).DoneAt);
    }

    [Fact]
    public async Task CareList_IsPagedOnTheServer()
    {
        await EnsureProgramAsync();
        app.Clock.Set(June1);
        var (member, _) = await EnrolCaringAsync("分页庚");
        var manager = await app.SignInAsync("manager-a");
        var before = await app.WithDbAsync(db => db.CareTasks.CountAsync(t => t.StoreId == app.Org.StoreA2 && t.DoneAt == null));
        for (var i = 0; i < 21 - before; i++)
        {
            var r = await manager.Http.PostJson($"/api/members/{member}/care-tasks", new { kind = "call", dueOn = "2026-07-01", storeId = app.Org.StoreA2 });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var first = await manager.GetPageAsync($"/care?storeId={app.Org.StoreA2}");
        Assert.Equal(20, Regex.Matches(first, "data-testid=\"task-row\"").Count);
        Assert.Contains("1 / 2", first);
        Assert.Contains("data-testid=\"task-total\">21<", first);
        var second = await manager.GetPageAsync($"/care?storeId={app.Org.StoreA2}&taskPage=2");
        Assert.Single(Regex.Matches(second, "data-testid=\"task-row\""));
        Assert.Contains("2 / 2", second);
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The open follow-up's row on the care page (up to its record form or the next row).</summary>
    private static string Row(string html, long task)
    {
        var m = Regex.Match(html, $"<tr data-testid=\"task-row\" data-task-id=\"{task}\"[\\s\\S]*?</tr>");
        Assert.True(m.Success, $"follow-up {task} is on the page");
        return m.Value;
    }

    private static string RefillRow(string html, long member)
    {
        var m = Regex.Match(html, $"<tr data-testid=\"refill-row\" data-member-id=\"{member}\"[\\s\\S]*?</tr>");
        Assert.True(m.Success, $"a refill reminder for member {member} is on the page");
        return m.Value;
    }

    [GeneratedRegex("data-testid=\"task-row\" data-task-id=\"\\d+\" data-overdue=\"(true|false)\"")]
    private static partial Regex OverdueFlags();

    private Task<CareTask> TaskAsync(long id) => app.WithDbAsync(db => db.CareTasks.AsNoTracking().SingleAsync(t => t.Id == id));

    private Task<int> TaskCountAsync(long member) => app.WithDbAsync(db => db.CareTasks.CountAsync(t => t.MemberId == member));

    private async Task<long> PlanAsync(ConsoleClient console, long member, string kind, string dueOn, string? note)
    {
        var response = await console.Http.PostJson($"/api/members/{member}/care-tasks", new { kind, dueOn, note, storeId = app.Org.StoreA1 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
    }

    /// <summary>A member of store A1 with health consent and a health file (a long-term medicine if asked).</summary>
    private async Task<(long Id, string Phone)> EnrolCaringAsync(string name, bool medicine = false)
    {
        var phone = PatronApp.NewPhone();
        var created = await _a1.PostJson("/api/members", new { name, mobile = phone });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/members/{id}/consents", new { kind = "health_data", granted = true })).StatusCode);
        var health = medicine
            ? (object)new { conditions = new[] { "高血压" }, medicines = new[] { new { name = "硝苯地平缓释片", sku = "NIF30", dailyDose = 1, packSize = 30 } } }
            : new { conditions = new[] { "高血压" } };
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{id}/health", health)).StatusCode);
        return (id, phone);
    }

    private async Task EnsureProgramAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", """{ "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01", "tiers": [ { "code": "standard", "name": "普通" } ] }""");
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }
}

public sealed class CareConsoleSqliteTests(SqliteApp app) : CareConsoleTests(app), IClassFixture<SqliteApp>;

public sealed class CareConsolePostgresTests(PostgresApp app) : CareConsoleTests(app), IClassFixture<PostgresApp>;
