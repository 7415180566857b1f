using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// A member's own data for a data-subject request, on each database: everything held about the
/// member in clear (profile with the ID number, consents, health file, cards, ledgers, purchases,
/// coupons, rewards, follow-ups, audit entries), balances equal to the ledgers; a ZIP of CSVs that
/// Excel opens; only for roles allowed to unmask in the member's scope, with a reason, audited
/// without personal data; an erased member's export holds no name or phone; the console page.
/// </summary>
public abstract class MemberDataExportTests(PatronApp app)
{
    private const string Program = """
        {
          "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01",
          "earning": { "amountPerPoint": 100 },
          "tiers": [ { "code": "standard", "name": "普通会员" } ],
          "returns": { "windowDays": 30 },
          "cards": { "subCards": { "max": 2 } },
          "storedValue": { "enabled": true, "minimumTopUp": 1000, "bonusTiers": [ { "minimum": 100000, "bonus": 10000 } ] },
          "coupons": {
            "onEnrolment": ["welcome"],
            "templates": [ { "code": "welcome", "name": "¥5 新会员券", "kind": "cash", "value": 500, "minimumSpend": 2000, "validDays": 30 } ]
          },
          "redemption": { "items": [ { "code": "check", "name": "免费体检", "points": 80, "kind": "service" } ] }
        }
        """;

    private static readonly DateTimeOffset Today = new(2026, 6, 10, 10, 0, 0, TimeSpan.FromHours(8));

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    [Fact]
    public async Task Export_OfAMemberWithActivityEverywhere_HoldsAllOfItInClear_WithBalancesEqualToTheLedgers_AndIsAudited()
    {
        var (member, phone, idNumber) = await MemberWithActivityAsync();
        var manager = await app.SignInAsync("manager-a");

        var response = await manager.Http.PostJson($"/api/members/{member}/data-export", new { reason = "会员本人申请 #DSR-7", format = "json" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal($"member-{member}-data-20260610.json", disposition.FileName?.Trim('"'));
        var text = await response.ReadText();
        var doc = JsonDocument.Parse(text).RootElement;

        var profile = doc.GetProperty("profile");
        Assert.Equal(member, profile.GetProperty("memberId").GetInt64());
        Assert.Equal(("导出本人", phone, idNumber), (profile.GetProperty("name").GetString(), profile.GetProperty("mobile").GetString(), profile.GetProperty("idNumber").GetString()));
        Assert.Equal(("female", "1980-03-04", "wechat", "A一店"), (profile.GetProperty("gender").GetString(), profile.GetProperty("birthday").GetString(),
            profile.GetProperty("channel").GetString(), profile.GetProperty("enrolStore").GetString()));
        Assert.Equal("POS A1", profile.GetProperty("enrolTerminal").GetString());
        Assert.Equal(("徐汇区", "漕溪北路100弄5号", "export.me@example.cn", "sleep"), (profile.GetProperty("district").GetString(), profile.GetProperty("address").GetString(),
            profile.GetProperty("email").GetString(), profile.GetProperty("interests").GetString())); // the street address decrypted for its owner
        Assert.Contains("\"enrolledAt\": \"2026-06-10T10:00:00+08:00\"", text); // the program's time, its offset written plainly
        Assert.Equal(("Asia/Shanghai", "CNY"), (doc.GetProperty("timeZone").GetString(), doc.GetProperty("currency").GetString()));

        // Health file decrypted; follow-up readings decrypted.
        var health = Rows(doc, "health");
        Assert.Contains(health, h => h.GetProperty("kind").GetString() == "allergy" && h.GetProperty("item").GetString() == "青霉素类");
        Assert.Contains(health, h => h.GetProperty("kind").GetString() == "medicine" && h.GetProperty("sku").GetString() == "NIF30" && h.GetProperty("packSize").GetInt32() == 30);
        var care = Assert.Single(Rows(doc, "careTasks"));
        Assert.Equal(("call", "reached", 135, "血压平稳"), (care.GetProperty("kind").GetString(), care.GetProperty("outcome").GetString(), care.GetProperty("systolic").GetInt32(), care.GetProperty("note").GetString()));
        Assert.Equal(2, Rows(doc, "consents").Count);

        // Balances equal the ledgers, and the ledgers are all there.
        var (points, principal, bonus, entryCount) = await app.WithDbAsync(async db =>
        {
            var a = await db.MemberAccounts.AsNoTracking().SingleAsync(x => x.MemberId == member);
            return (a.Balance, a.StoredPrincipal, a.StoredBonus, await db.PointsEntries.CountAsync(e => e.MemberId == member));
        });
        var account = doc.GetProperty("account");
        var entries = Rows(doc, "pointsEntries");
        Assert.Equal(entryCount, entries.Count);
        Assert.Equal(points, account.GetProperty("points").GetInt64());
        Assert.Equal(points, entries.Sum(e => e.GetProperty("points").GetInt64()));
        Assert.Equal(points, Rows(doc, "pointsLots").Sum(l => l.GetProperty("remaining").GetInt64()));
        Assert.Contains(entries, e => e.GetProperty("cause").GetString() == "redemption" && e.GetProperty("points").GetInt64() == -80);
        var svEntries = Rows(doc, "storedValueEntries");
        Assert.Equal(principal / 100m, account.GetProperty("storedPrincipal").GetDecimal());
        Assert.Equal(principal / 100m, svEntries.Sum(e => e.GetProperty("principal").GetDecimal()));
        Assert.Equal(bonus / 100m, svEntries.Sum(e => e.GetProperty("bonus").GetDecimal()));
        var topUp = Assert.Single(Rows(doc, "topUps"));
        Assert.Equal((1_000.00m, 100.00m, "A一店"), (topUp.GetProperty("amount").GetDecimal(), topUp.GetProperty("bonus").GetDecimal(), topUp.GetProperty("store").GetString()));
        Assert.Contains("\"amount\": 1000.00", text); // money in yuan with two decimals

        // Purchases with their lines; the return names its sale.
        var sales = Rows(doc, "sales");
        Assert.Equal(["sale", "return"], sales.Select(s => s.GetProperty("kind").GetString()));
        var order = sales[0].GetProperty("orderNumber").GetString();
        Assert.Equal(order, sales[1].GetProperty("originalOrder").GetString());
        Assert.Equal(3, Rows(doc, "saleLines").Count);
        Assert.Contains(Rows(doc, "saleLines"), l => l.GetProperty("name").GetString() == "维生素C" && l.GetProperty("quantity").GetInt32() == -1);
        var use = Assert.Single(Rows(doc, "couponUses"));
        Assert.Equal((order, 5.00m), (use.GetProperty("order").GetString(), use.GetProperty("discount").GetDecimal()));
        Assert.Contains(Rows(doc, "coupons"), c => c.GetProperty("name").GetString() == "¥5 新会员券" && c.GetProperty("source").GetString() == "enrolment");

        // Rewards, cards, adjustments, the audit entries about the member.
        var redemption = Assert.Single(Rows(doc, "redemptions"));
        Assert.Equal(("免费体检", "service", 80L), (redemption.GetProperty("item").GetString(), redemption.GetProperty("kind").GetString(), redemption.GetProperty("points").GetInt64()));
        Assert.Equal("免费体检", Assert.Single(Rows(doc, "entitlements")).GetProperty("name").GetString());
        var cards = Rows(doc, "cards");
        Assert.Equal(2, cards.Count);
        Assert.Contains(cards, c => c.GetProperty("kind").GetString() == "sub_card" && c.GetProperty("holder").GetString() == "家属甲");
        Assert.NotEmpty(Rows(doc, "cardEvents"));
        Assert.Equal(50, Assert.Single(Rows(doc, "pointsAdjustments")).GetProperty("points").GetInt64());
        Assert.NotEmpty(Rows(doc, "tierChanges"));
        var log = Rows(doc, "auditLog");
        Assert.Contains(log, a => a.GetProperty("action").GetString() == "personal_data.unmasked" && a.GetProperty("actor").GetString() == "store_manager");

        // The export is on record before the content: with the format and counts, without personal data.
        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "member.data_exported" && a.MemberId == member));
        var detail = JsonDocument.Parse(entry.Detail!).RootElement;
        Assert.Equal(("json", "会员本人申请 #DSR-7"), (detail.GetProperty("format").GetString(), detail.GetProperty("reason").GetString()));
        Assert.Equal(entryCount, detail.GetProperty("sections").GetProperty("pointsEntries").GetInt32());
        Assert.Equal(1, detail.GetProperty("sections").GetProperty("healthFile").GetInt32());
        Assert.Equal(log.Count, detail.GetProperty("sections").GetProperty("auditLog").GetInt32());
        foreach (var personal in new[] { phone, idNumber, "导出本人", "青霉素", "血压平稳" })
        {
            Assert.DoesNotContain(personal, entry.Detail);
        }

        // The next export lists this one among the audit entries about the member.
        var again = JsonDocument.Parse(await (await manager.Http.PostJson($"/api/members/{member}/data-export", new { reason = "复核" })).ReadText()).RootElement;
        Assert.Contains(Rows(again, "auditLog"), a => a.GetProperty("action").GetString() == "member.data_exported");
    }

    [Fact]
    public async Task Zip_HoldsTheDocumentAndOneCsvPerSection_WithBom_ThatParse_AndKeepFormulasAndLongNumbersInert()
    {
        var (member, _, idNumber) = await MemberWithActivityAsync();
        var admin = await app.SignInAsync("admin");
        var response = await admin.Http.PostJson($"/api/members/{member}/data-export", new { reason = "会员本人申请", format = "zip" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"member-{member}-data-20260610.zip", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)));

        var doc = JsonDocument.Parse(Read(zip, "member.json", out _)).RootElement;
        Assert.Equal(idNumber, doc.GetProperty("profile").GetProperty("idNumber").GetString());
        var sections = doc.EnumerateObject().Where(p => p.Value.ValueKind is JsonValueKind.Array or JsonValueKind.Object).Select(p => p.Name).ToList();
        Assert.Equal(23, sections.Count);
        Assert.Equal(sections.Count + 1, zip.Entries.Count);

        foreach (var section in sections)
        {
            var file = JsonNamingPolicy.SnakeCaseLower.ConvertName(section) + ".csv";
            var rows = Csv(Read(zip, file, out var bom));
            Assert.True(bom, file + " starts with a BOM");
            Assert.All(rows, r => Assert.Equal(rows[0].Count, r.Count));
            var json = doc.GetProperty(section);
            Assert.Equal(json.ValueKind == JsonValueKind.Array ? json.GetArrayLength() + 1 : json.EnumerateObject().Count() + 1, rows.Count);
        }

        var profile = Csv(Read(zip, "profile.csv", out _));
        Assert.Equal(["项目", "内容"], profile[0]);
        Assert.Contains(profile, r => r[0] == "身份证号" && r[1] == (idNumber.All(char.IsAsciiDigit) ? "\t" : "") + idNumber); // text for Excel, not 1.1E+17
        Assert.Contains(profile, r => r[0] == "性别" && r[1] == "女");
        var entries = Csv(Read(zip, "points_entries.csv", out _));
        Assert.Equal("时间", entries[0][0]);
        Assert.Contains(entries, r => r[1] == "-80" && r[2] == "兑换"); // a negative number stays a number
        var adjustment = Csv(Read(zip, "points_adjustments.csv", out _))[1];
        Assert.Equal("'=补录积分", adjustment[2]); // a formula stays text
        Assert.Contains(Csv(Read(zip, "health.csv", out _)), r => r[0] == "过敏" && r[1] == "青霉素类");
    }

    [Fact]
    public async Task Export_IsRefused_ToOtherRoles_OtherStores_AndWithoutAReason_AndRefusalsLeaveNoRecord()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync("拒绝导出", PatronApp.NewPhone(), null);
        var body = new { reason = "会员本人申请", format = "json" };
        var url = $"/api/members/{member}/data-export";

        foreach (var login in new[] { "cashier-a1", "marketing", "auditor" })
        {
            await AssertProblem(await (await app.SignInAsync(login)).Http.PostJson(url, body), HttpStatusCode.Forbidden, "auth.forbidden");
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await _a1.PostJson(url, body)).StatusCode); // a POS never exports

        // A store manager of another store of the same program.
        var admin = await app.SignInAsync("admin");
        var login2 = "mgr-a2-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await admin.Http.PostJson("/api/staff", new { login = login2, displayName = "A2店长", role = "store_manager", storeIds = new[] { app.Org.StoreA2 }, password = "a-long-password" })).StatusCode);
        var otherManager = await app.SignInAsync(login2, "a-long-password");
        await AssertProblem(await otherManager.Http.PostJson(url, body), HttpStatusCode.Forbidden, "scope.store_forbidden");
        Assert.StartsWith("/denied", (await otherManager.GetAsync($"/members/{member}/data-export")).Headers.Location!.PathAndQuery);

        // Another program's member does not exist for this manager.
        using var b1 = app.TerminalClient(app.Org.TerminalB1);
        var foreign = (await (await b1.PostJson("/api/members", new { name = "外连锁", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var manager = await app.SignInAsync("manager-a");
        await AssertProblem(await manager.Http.PostJson($"/api/members/{foreign}/data-export", body), HttpStatusCode.NotFound, "member.not_found");

        await AssertProblem(await manager.Http.PostJson(url, new { format = "zip" }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "data_export.reason_required"));
        await AssertProblem(await manager.Http.PostJson(url, new { reason = " " }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "data_export.reason_required"));
        await AssertProblem(await manager.Http.PostJson(url, new { reason = "x", format = "csv" }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("format", "data_export.format_unknown"));

        Assert.False(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "member.data_exported" && (a.MemberId == member || a.MemberId == foreign))));
    }

    [Fact]
    public async Task Export_OfAnErasedMember_HoldsNoNameOrPhone_ButTheLedgersUnderTheMemberId()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var idNumber = IdNumbers.Make("310104", new DateOnly(1975, 1, 2), male: true);
        var member = await EnrolAsync("将注销者", phone, idNumber);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", new { orderNumber = Order(), memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 12_300 } } })).StatusCode);
        var admin = await app.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{member}/anonymise", new { reason = "会员申请注销 #9" })).StatusCode);

        var response = await admin.Http.PostJson($"/api/members/{member}/data-export", new { reason = "注销后核对" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.ReadText();
        foreach (var personal in new[] { phone, idNumber, "将注销者" })
        {
            Assert.DoesNotContain(personal, text);
        }

        Assert.Null(PersonalDataWatch.Find(text));
        var doc = JsonDocument.Parse(text).RootElement;
        var profile = doc.GetProperty("profile");
        Assert.Equal(JsonValueKind.Null, profile.GetProperty("name").ValueKind);
        Assert.Equal(JsonValueKind.Null, profile.GetProperty("mobile").ValueKind);
        Assert.Equal(JsonValueKind.Null, profile.GetProperty("idNumber").ValueKind);
        Assert.EndsWith("+08:00", profile.GetProperty("erasedAt").GetString());
        Assert.Equal(123L, Assert.Single(Rows(doc, "sales")).GetProperty("points").GetInt64());
        Assert.Equal(123L, doc.GetProperty("account").GetProperty("points").GetInt64());
        Assert.Equal(4, Rows(doc, "consents").Count(c => !c.GetProperty("granted").GetBoolean() && c.GetProperty("source").GetString() == "request"));
    }

    [Fact]
    public async Task ConsolePage_AsksForTheReason_ShowsErrorsBesideTheField_AndDownloads()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var member = await EnrolAsync("页面导出", phone, null);
        var page = $"/members/{member}/data-export";

        var cashier = await app.SignInAsync("cashier-a1");
        Assert.StartsWith("/denied", (await cashier.GetAsync(page)).Headers.Location!.PathAndQuery);

        var manager = await app.SignInAsync("manager-a");
        var html = await manager.GetPageAsync(page);
        Assert.Contains("导出会员本人数据", html);
        Assert.Contains("原因或申请编号", html);
        Assert.Contains("页面导出", html);

        var refused = await manager.PostFormAsync(page, new() { ["Reason"] = "", ["Format"] = "zip" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = await refused.ReadText();
        Assert.Matches("is-invalid\"[^>]*name=\"Reason\"|name=\"Reason\"[^>]*is-invalid", errors);
        Assert.Contains("请填写导出原因", errors);
        Assert.Equal(0, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "member.data_exported" && a.MemberId == member)));

        var download = await manager.PostFormAsync(page, new() { ["Reason"] = "会员到店申请", ["Format"] = "zip" });
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/zip", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Contains("no-store", download.Headers.CacheControl?.ToString());
        using var zip = new ZipArchive(new MemoryStream(await download.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)));
        Assert.Contains(Csv(Read(zip, "profile.csv", out _)), r => r[1] == phone);
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "member.data_exported" && a.MemberId == member)));
    }

    /// <summary>A member with a record in every section: consents, health file, top-up, a sale paid partly with stored value and a coupon, a return, an adjustment, a redemption, a sub-card, a follow-up, an unmasking.</summary>
    private async Task<(long Id, string Phone, string IdNumber)> MemberWithActivityAsync()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var idNumber = IdNumbers.Make("110105", new DateOnly(1980, 3, 4), male: false);
        var created = await _a1.PostJson("/api/members", new { name = "导出本人", mobile = phone, idNumber, gender = "female", birthday = "1980-03-04", channel = "wechat" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var member = (await created.ReadJson()).GetProperty("id").GetInt64();

        await Ok(_a1.PostJson($"/api/members/{member}/consents", new { kind = "marketing_sms", granted = true, source = "store" }));
        await Ok(_a1.PutJson($"/api/members/{member}/profile", new { district = "徐汇区", address = "漕溪北路100弄5号", email = "export.me@example.cn", interests = new[] { "sleep" } }));
        await Ok(_a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "store" }));
        await Ok(_a1.PutJson($"/api/members/{member}/health", new
        {
            conditions = new[] { "高血压" },
            allergies = new[] { "青霉素类" },
            medicines = new[] { new { name = "硝苯地平缓释片", sku = "NIF30", dailyDose = 1, packSize = 30 } },
        }));
        await Ok(_a1.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), memberId = member, amount = 100_000 }));

        var welcome = (await (await _a1.Get($"/api/members/{member}/coupons")).ReadJson()).EnumerateArray().Single().GetProperty("code").GetString();
        var order = Order();
        await Ok(_a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = order,
            memberId = member,
            lines = new[] { new { sku = "NIF30", quantity = 2, unitPrice = 3_500, name = "硝苯地平缓释片" }, new { sku = "VC", quantity = 1, unitPrice = 30_000, name = "维生素C" } },
            coupons = new[] { welcome },
            payments = new[] { new { method = "stored_value", amount = 10_000 }, new { method = "cash", amount = 26_500 } },
        }));
        await Ok(_a1.PostJson("/api/checkout/returns", new { orderNumber = order, lines = new[] { new { line = 2 } } }));

        var manager = await app.SignInAsync("manager-a");
        await Ok(manager.Http.PostJson($"/api/members/{member}/points/adjustments", new { points = 50, reason = "=补录积分", storeId = app.Org.StoreA1 }));
        await Ok(_a1.PostJson($"/api/members/{member}/redemptions", new { item = "check" }));
        await Ok(_a1.PostJson($"/api/members/{member}/sub-cards", new { holder = "家属甲" }));
        var task = (await (await manager.Http.PostJson($"/api/members/{member}/care-tasks", new { kind = "call", dueOn = "2026-06-12", note = "询问血压", storeId = app.Org.StoreA1 })).ReadJson()).GetProperty("id").GetInt64();
        await Ok(manager.Http.PostJson($"/api/care-tasks/{task}/done", new { outcome = "reached", systolic = 135, diastolic = 85, glucose = 6.1m, note = "血压平稳" }));
        await Ok(manager.Http.PostJson($"/api/members/{member}/unmask", new { field = "id_number", reason = "核对身份" }));
        return (member, phone, idNumber);
    }

    private static async Task Ok(Task<HttpResponseMessage> call)
    {
        var response = await call;
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {await response.ReadText()}");
    }

    private async Task<long> EnrolAsync(string name, string phone, string? idNumber)
    {
        var response = await _a1.PostJson("/api/members", idNumber is null ? new { name, mobile = phone } : new { name, mobile = phone, idNumber });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
    }

    private async Task EnsureProgramAsync()
    {
        app.Clock.Set(Today);
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", Program);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }

    private static string Order() => "DX-" + Guid.NewGuid().ToString("N")[..12];

    private static List<JsonElement> Rows(JsonElement doc, string section) => [.. doc.GetProperty(section).EnumerateArray()];

    private static string Read(ZipArchive zip, string name, out bool bom)
    {
        var entry = zip.GetEntry(name) ?? throw new Xunit.Sdk.XunitException($"{name} is not in the ZIP.");
        using var stream = entry.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        bom = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble);
        return Encoding.UTF8.GetString(bom ? bytes[3..] : bytes);
    }

    /// <summary>RFC 4180: quoted fields with doubled quotes, commas and line breaks inside quotes, CRLF between records.</summary>
    private static List<List<string>> Csv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
                i++;
            }
            else
            {
                field.Append(c);
            }
        }

        Assert.False(quoted, "an unclosed quote");
        Assert.Empty(row);
        return rows;
    }
}

public sealed class MemberDataExportSqliteTests(SqliteApp app) : MemberDataExportTests(app), IClassFixture<SqliteApp>;

public sealed class MemberDataExportPostgresTests(PostgresApp app) : MemberDataExportTests(app), IClassFixture<PostgresApp>;

/// <summary>The leak watch lets clear personal data through for a member's own export file only, not its page, errors or other paths.</summary>
public sealed class MemberDataExportWatchTests
{
    [Theory]
    [InlineData("POST", "/api/members/42/data-export", 200, "attachment; filename=member-42-data-20260610.json", true)]
    [InlineData("POST", "/members/42/data-export", 200, "attachment; filename=member-42-data-20260610.zip", true)]
    [InlineData("GET", "/members/42/data-export", 200, null, false)]
    [InlineData("POST", "/members/42/data-export", 400, null, false)]
    [InlineData("POST", "/api/members/42/data-export", 200, null, false)]
    [InlineData("POST", "/api/members/42/data-export/x", 200, "attachment; filename=x.json", false)]
    [InlineData("POST", "/api/members/export.csv", 200, "attachment; filename=members.csv", false)]
    [InlineData("POST", "/api/members/42/data-exports", 200, "attachment; filename=x.json", false)]
    public void OwnDataExportFile_IsTheOnlyNewPlaceForClearData(string method, string path, int status, string? disposition, bool allowed) =>
        Assert.Equal(allowed, PersonalDataWatch.IsOwnDataExportFile(method, new PathString(path), status, disposition));
}
