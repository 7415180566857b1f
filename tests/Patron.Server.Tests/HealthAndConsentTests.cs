using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Health data and consents on each database: kept only with consent and only encrypted,
/// summarised (never shown) by default, unmasked one member at a time by an allowed role with
/// the reason audited; a basket line tagged with an ingredient the member is allergic to is
/// flagged at quote and needs the pharmacist's acknowledgement, which is recorded; withdrawing
/// consent erases the health data at once.
/// </summary>
public abstract class HealthAndConsentTests(PatronApp app)
{
    private const string IdNumber = "11010519491231002X";

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    [Fact]
    public async Task AllergyOnFile_IsEncryptedAtRest_FlaggedAtQuote_AndASaleNeedsTheAcknowledgementWhichIsAudited()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync(withId: true);
        var health = new
        {
            conditions = new[] { "高血压" },
            allergies = new[] { "青霉素类" },
            medicines = new[] { new { name = "硝苯地平缓释片", sku = "NIF30", dailyDose = 1, packSize = 30 } },
        };

        await AssertProblem(await _a1.PutJson($"/api/members/{member}/health", health),
            HttpStatusCode.UnprocessableEntity, "consent.health_required");
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "store" })).StatusCode);
        var saved = await _a1.PutJson($"/api/members/{member}/health", health);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var summary = await saved.ReadJson();
        Assert.Equal((true, 1, 1, 1), (summary.GetProperty("consent").GetBoolean(), summary.GetProperty("conditions").GetInt32(), summary.GetProperty("allergies").GetInt32(), summary.GetProperty("medicines").GetInt32()));

        // At rest: neither the health file nor the ID number in clear text.
        var (cipher, idCipher) = await app.WithDbAsync(async db => (
            (await db.MemberHealth.AsNoTracking().SingleAsync(h => h.MemberId == member)).Cipher,
            (await db.Members.AsNoTracking().SingleAsync(m => m.Id == member)).IdNumberCipher!));
        Assert.DoesNotContain("青霉素", cipher);
        Assert.DoesNotContain("高血压", cipher);
        Assert.DoesNotContain(IdNumber, idCipher);

        // By default nobody sees what is on file: not the summary, not identify.
        Assert.DoesNotContain("青霉素", await (await _a1.Get($"/api/members/{member}/health")).ReadText());
        var identified = await (await _a1.PostJson("/api/checkout/identify", new { idNumber = IdNumber })).ReadText();
        Assert.Contains("allergies_on_file", identified);
        Assert.DoesNotContain("青霉素", identified);
        Assert.DoesNotContain(IdNumber, identified);

        object[] basket =
        [
            new { sku = "AMOX", quantity = 1, unitPrice = 2_500, name = "阿莫西林胶囊", allergens = new[] { "青霉素类", "阿莫西林" } },
            new { sku = "VC", quantity = 1, unitPrice = 1_000 },
        ];
        var quote = await (await _a1.PostJson("/api/checkout/quote", new { memberId = member, lines = basket })).ReadJson();
        var warning = Assert.Single(quote.GetProperty("allergyWarnings").EnumerateArray());
        Assert.Equal((1, "AMOX", "青霉素类"), (warning.GetProperty("line").GetInt32(), warning.GetProperty("sku").GetString(), warning.GetProperty("allergies")[0].GetString()));
        Assert.Contains("allergy", quote.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));

        var order = "AL-" + Guid.NewGuid().ToString("N")[..10];
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new { orderNumber = order, memberId = member, lines = basket }),
            HttpStatusCode.UnprocessableEntity, "allergy.unacknowledged", ("lines[0]", "allergy.unacknowledged"));
        Assert.False(await app.WithDbAsync(db => db.Sales.AnyAsync(s => s.OrderNumber == order)));

        var sold = await (await _a1.PostJson("/api/checkout/sales", new { orderNumber = order, memberId = member, lines = basket, allergiesAcknowledged = true })).ReadJson();
        var saleId = sold.GetProperty("saleId").GetInt64();
        var acknowledged = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "allergy.acknowledged" && a.EntityId == saleId));
        Assert.Equal(member, acknowledged.MemberId);
        Assert.DoesNotContain("青霉素", acknowledged.Detail ?? "");
    }

    [Fact]
    public async Task Unmask_OnlyAnAllowedRoleOfTheMembersStore_OneFieldWithAReason_Audited()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync(withId: true);
        var body = new { field = "id_number", reason = "会员本人到店核对身份" };

        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson($"/api/members/{member}/unmask", body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _a1.PostJson($"/api/members/{member}/unmask", body)).StatusCode);

        var manager = await app.SignInAsync("manager-a");
        await AssertProblem(await manager.Http.PostJson($"/api/members/{member}/unmask", new { field = "id_number" }),
            HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "unmask.reason_required"));
        var unmasked = await manager.Http.PostJson($"/api/members/{member}/unmask", body);
        Assert.Equal(HttpStatusCode.OK, unmasked.StatusCode);
        var clear = await unmasked.ReadText();
        Assert.Equal(IdNumber, System.Text.Json.JsonDocument.Parse(clear).RootElement.GetProperty("value").GetString());

        // The run-wide watch knows this ID number: anywhere but here it would have failed the response.
        Assert.Equal(IdNumber, PersonalDataWatch.Find(clear));
        Assert.Null(PersonalDataWatch.Find(await (await manager.Http.Get($"/api/members/{member}")).ReadText()));
        Assert.Contains("no-store", unmasked.Headers.CacheControl?.ToString());

        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "personal_data.unmasked" && a.MemberId == member).SingleAsync());
        Assert.Contains("会员本人到店核对身份", entry.Detail);
        Assert.DoesNotContain(IdNumber, entry.Detail);

        // Another program's member is not there for this manager at all.
        using var b1 = app.TerminalClient(app.Org.TerminalB1);
        var other = (await (await b1.PostJson("/api/members", new { name = "外连锁", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.NotFound, (await manager.Http.PostJson($"/api/members/{other}/unmask", body)).StatusCode);
    }

    [Fact]
    public async Task WithdrawingHealthConsent_ErasesTheHealthFileAtOnce_AndTheWarningsStop()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync(withId: false);
        await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "wechat" });
        await _a1.PutJson($"/api/members/{member}/health", new { allergies = new[] { "磺胺类" } });
        object[] basket = [new { sku = "SMZ", quantity = 1, unitPrice = 800, allergens = new[] { "磺胺类" } }];
        Assert.Equal(1, (await (await _a1.PostJson("/api/checkout/quote", new { memberId = member, lines = basket })).ReadJson()).GetProperty("allergyWarnings").GetArrayLength());

        var consents = await (await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = false, source = "phone" })).ReadJson();
        Assert.False(consents.GetProperty("current").EnumerateArray().Single(c => c.GetProperty("kind").GetString() == "health_data").GetProperty("granted").GetBoolean());
        Assert.Equal(2, consents.GetProperty("history").GetArrayLength());
        Assert.False(await app.WithDbAsync(db => db.MemberHealth.AnyAsync(h => h.MemberId == member)));
        Assert.Equal(0, (await (await _a1.PostJson("/api/checkout/quote", new { memberId = member, lines = basket })).ReadJson()).GetProperty("allergyWarnings").GetArrayLength());
        await AssertProblem(await _a1.PostJson($"/api/members/{member}/consents", new { kind = "spam", granted = true }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("kind", "consent.kind_unknown"));
    }

    [Fact]
    public async Task RefillReminders_FollowPurchasesPackSizeAndDailyDose_AndTheStoreListShowsWhoToCall()
    {
        await EnsureProgramAsync();
        app.Clock.Set(new DateTimeOffset(2026, 6, 1, 10, 0, 0, TimeSpan.FromHours(8)));
        var member = await EnrolAsync(withId: false);
        await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true });
        await _a1.PutJson($"/api/members/{member}/health", new { conditions = new[] { "高血压" }, medicines = new[] { new { name = "硝苯地平缓释片", sku = "NIF30", dailyDose = 1, packSize = 30 } } });
        var sale = await _a1.PostJson("/api/checkout/sales", new { orderNumber = "RF-" + Guid.NewGuid().ToString("N")[..10], memberId = member, lines = new[] { new { sku = "NIF30", quantity = 2, unitPrice = 3_500 } } });
        Assert.Equal(HttpStatusCode.OK, sale.StatusCode);

        var refill = Assert.Single((await (await _a1.Get($"/api/members/{member}/refills")).ReadJson()).EnumerateArray());
        Assert.Equal(("2026-06-01", "2026-07-31", "2026-07-28", false),
            (refill.GetProperty("lastBought").GetString(), refill.GetProperty("runsOutOn").GetString(), refill.GetProperty("remindOn").GetString(), refill.GetProperty("overdue").GetBoolean()));

        // Medicines are for the member's own store and head office: not another store's counter, not marketing.
        using (var a2 = app.TerminalClient(app.Org.TerminalA2))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await a2.Get($"/api/members/{member}/refills")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("marketing")).Http.Get($"/api/members/{member}/refills")).StatusCode);

        async Task<List<System.Text.Json.JsonElement>> DueAsync(int days) =>
            [.. (await (await _a1.Get($"/api/care/refills?storeId={app.Org.StoreA1}&days={days}")).ReadJson()).EnumerateArray().Where(d => d.GetProperty("memberId").GetInt64() == member)];
        Assert.Empty(await DueAsync(7));
        var soon = Assert.Single(await DueAsync(60));
        Assert.Equal("健***", soon.GetProperty("member").GetString());
        Assert.Contains("****", soon.GetProperty("mobile").GetString());

        app.Clock.Set(new DateTimeOffset(2026, 8, 5, 10, 0, 0, TimeSpan.FromHours(8)));
        var overdue = Assert.Single(await DueAsync(0));
        Assert.True(overdue.GetProperty("overdue").GetBoolean());
    }

    [Fact]
    public async Task FollowUps_ArePlannedForConsentingMembers_FlaggedOverdue_AndRecordedOnceWithEncryptedReadings()
    {
        await EnsureProgramAsync();
        app.Clock.Set(new DateTimeOffset(2026, 6, 1, 10, 0, 0, TimeSpan.FromHours(8)));
        var member = await EnrolAsync(withId: false);
        var without = await EnrolAsync(withId: false);
        await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true });
        await _a1.PutJson($"/api/members/{member}/health", new { conditions = new[] { "糖尿病" } });
        var manager = await app.SignInAsync("manager-a");

        await AssertProblem(await manager.Http.PostJson($"/api/members/{without}/care-tasks", new { kind = "call", dueOn = "2026-06-03", storeId = app.Org.StoreA1 }),
            HttpStatusCode.UnprocessableEntity, "consent.health_required");
        var planned = await (await manager.Http.PostJson($"/api/members/{member}/care-tasks", new { kind = "call", dueOn = "2026-06-03", note = "询问血糖控制", storeId = app.Org.StoreA1 })).ReadJson();
        var id = planned.GetProperty("id").GetInt64();
        Assert.False(planned.GetProperty("overdue").GetBoolean());

        app.Clock.Set(new DateTimeOffset(2026, 6, 5, 10, 0, 0, TimeSpan.FromHours(8)));
        manager = await app.SignInAsync("manager-a"); // the sign-in of four days ago has expired
        var list = await (await manager.Http.Get($"/api/care/tasks?storeId={app.Org.StoreA1}")).ReadJson();
        var open = list.EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == id);
        Assert.True(open.GetProperty("overdue").GetBoolean());
        Assert.DoesNotContain("血糖", list.GetRawText());

        await AssertProblem(await manager.Http.PostJson($"/api/care-tasks/{id}/done", new { outcome = "reached", systolic = 400, diastolic = 90 }),
            HttpStatusCode.BadRequest, Problem.ValidationCode, ("systolic", "care.blood_pressure_invalid"));
        var done = await (await manager.Http.PostJson($"/api/care-tasks/{id}/done", new { outcome = "reached", systolic = 135, diastolic = 85, glucose = 6.1m, note = "空腹血糖6.1" })).ReadJson();
        Assert.Equal((135, 6.1m), (done.GetProperty("readings").GetProperty("systolic").GetInt32(), done.GetProperty("readings").GetProperty("glucose").GetDecimal()));
        await AssertProblem(await manager.Http.PostJson($"/api/care-tasks/{id}/done", new { outcome = "reached" }), HttpStatusCode.UnprocessableEntity, "care.task_done");
        var cipher = await app.WithDbAsync(db => db.CareTasks.AsNoTracking().Where(t => t.Id == id).Select(t => t.Cipher).SingleAsync());
        Assert.DoesNotContain("血糖", cipher!);
        Assert.DoesNotContain((await (await manager.Http.Get($"/api/care/tasks?storeId={app.Org.StoreA1}")).ReadJson()).EnumerateArray(), t => t.GetProperty("id").GetInt64() == id);
    }

    [Fact]
    public async Task MemberExport_IsMaskedForEveryone_AndInClearOnlyForAllowedRolesWithAReason()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        Assert.Equal(HttpStatusCode.Created, (await _a1.PostJson("/api/members", new { name = "导出会员", mobile = phone, birthday = "1981-07-08" })).StatusCode);
        using var b1 = app.TerminalClient(app.Org.TerminalB1);
        var otherPhone = PatronApp.NewPhone();
        await b1.PostJson("/api/members", new { name = "外连锁", mobile = otherPhone });

        var manager = await app.SignInAsync("manager-a");
        var export = await manager.Http.Get("/api/members/export.csv");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        var bytes = await export.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal(System.Text.Encoding.UTF8.GetPreamble(), bytes[..3]);
        var csv = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.Contains($"导***,{phone[..3]}****{phone[^4..]},,unknown,1981,****", csv); // name, birthday and card masked too
        Assert.DoesNotContain(phone, csv);
        Assert.DoesNotContain("导出会员", csv);
        Assert.DoesNotContain("外连锁", csv); // another program's member is not the manager's
        Assert.Equal(HttpStatusCode.Forbidden, (await _a1.Get("/api/members/export.csv")).StatusCode); // terminals do not export

        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson("/api/members/export/unmask", new { reason = "x" })).StatusCode);
        await AssertProblem(await manager.Http.PostJson("/api/members/export/unmask", new { storeId = app.Org.StoreA1 }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "unmask.reason_required"));
        var clear = await (await manager.Http.PostJson("/api/members/export/unmask", new { storeId = app.Org.StoreA1, reason = "会员回访名单" })).ReadText();
        Assert.Contains($"导出会员,{phone},,unknown,1981-07-08,\"\t8801", clear); // the card number kept as text for Excel
        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "members.exported_unmasked").OrderByDescending(a => a.Id).FirstAsync());
        Assert.Contains("会员回访名单", entry.Detail);

        // An open-ended period is no error.
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.Get("/api/members/export.csv?from=2000-01-01&to=9999-12-31")).StatusCode);
    }

    [Fact]
    public async Task Anonymising_ErasesThePerson_KeepsTheLedgersAndTheReportsRight()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var member = (await (await _a1.PostJson("/api/members", new { name = "要注销", mobile = phone, birthday = "1980-02-03" })).ReadJson()).GetProperty("id").GetInt64();
        await _a1.PostJson("/api/checkout/sales", new { orderNumber = "AN-" + Guid.NewGuid().ToString("N")[..10], memberId = member, lines = new[] { new { sku = "A", quantity = 1, unitPrice = 12_300 } } });
        await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true });
        await _a1.PutJson($"/api/members/{member}/health", new { allergies = new[] { "青霉素类" } });
        var admin = await app.SignInAsync("admin");
        async Task<string> PointsTotalAsync() => (await (await admin.Http.Get("/api/finance/liability")).ReadJson()).GetProperty("totals").GetRawText();
        var (before, entriesBefore) = (await PointsTotalAsync(), await app.WithDbAsync(db => db.PointsEntries.CountAsync(e => e.MemberId == member)));

        var card = await app.WithDbAsync(db => db.Cards.Where(c => c.MemberId == member).Select(c => c.Number).FirstAsync());
        var manager = await app.SignInAsync("manager-a");
        Assert.Equal(HttpStatusCode.Forbidden, (await manager.Http.PostJson($"/api/members/{member}/anonymise", new { reason = "x" })).StatusCode);
        await AssertProblem(await admin.Http.PostJson($"/api/members/{member}/anonymise", new { }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "anonymise.reason_required"));
        var done = await (await admin.Http.PostJson($"/api/members/{member}/anonymise", new { reason = "会员申请注销 #2026-118" })).ReadJson();
        Assert.Equal("已注销会员", done.GetProperty("name").GetString());

        var row = await app.WithDbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Id == member));
        Assert.Equal((null, null, (DateOnly?)null), (row.IdNumberCipher, row.IdNumberHash, row.Birthday));
        Assert.NotEqual(phone, row.Mobile);
        Assert.False(await app.WithDbAsync(db => db.MemberHealth.AnyAsync(h => h.MemberId == member)));
        Assert.Equal(HttpStatusCode.NotFound, (await _a1.PostJson("/api/checkout/identify", new { phone })).StatusCode);
        var byCard = await (await _a1.PostJson("/api/checkout/identify", new { cardNumber = card })).ReadJson();
        Assert.False(byCard.GetProperty("card").GetProperty("usable").GetBoolean()); // the card buys nothing any more
        Assert.Equal("已注销会员", byCard.GetProperty("member").GetProperty("name").GetString());

        // The ledgers stay, so balances and reports are what they were.
        Assert.Equal(entriesBefore, await app.WithDbAsync(db => db.PointsEntries.CountAsync(e => e.MemberId == member)));
        Assert.Equal(before, await PointsTotalAsync());
        Assert.Equal(HttpStatusCode.Conflict, (await admin.Http.PostJson($"/api/members/{member}/anonymise", new { reason = "again" })).StatusCode);
    }

    [Fact]
    public async Task Duplicates_SameNameAndBirthday_AreListedTogether_Masked_AndOnlyInTheCallersStores()
    {
        await EnsureProgramAsync();
        var name = "重名" + Guid.NewGuid().ToString("N")[..6];
        var first = (await (await _a1.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone(), birthday = "1975-05-05" })).ReadJson()).GetProperty("id").GetInt64();
        using var a2 = app.TerminalClient(app.Org.TerminalA2);
        var second = (await (await a2.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone(), birthday = "1975-05-05" })).ReadJson()).GetProperty("id").GetInt64();
        await _a1.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone(), birthday = "1976-06-06" }); // same name, another person

        var manager = await app.SignInAsync("manager-a");
        var groups = (await (await manager.Http.Get($"/api/members/duplicates?programId={app.Org.ProgramA}")).ReadJson()).EnumerateArray()
            .Where(g => g.GetProperty("members")[0].GetProperty("name").GetString() == name).ToList();
        var group = Assert.Single(groups);
        Assert.Equal([first, second], group.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()));
        Assert.All(group.GetProperty("members").EnumerateArray(), m => Assert.Contains("****", m.GetProperty("mobile").GetString()));

        // A cashier of A1 sees only A1's members: one of the two is no group.
        var cashier = await app.SignInAsync("cashier-a1");
        Assert.DoesNotContain((await (await cashier.Http.Get($"/api/members/duplicates?programId={app.Org.ProgramA}")).ReadJson()).EnumerateArray(),
            g => g.GetProperty("members")[0].GetProperty("name").GetString() == name);
    }

    private async Task<long> EnrolAsync(bool withId)
    {
        if (withId)
        {
            // One person per program: a test class enrols the ID number once.
            var tail = IdNumber[^4..];
            var existing = await app.WithDbAsync(db => db.Members.Where(m => m.IdNumberTail == tail && m.ProgramId == app.Org.ProgramA).Select(m => (long?)m.Id).FirstOrDefaultAsync());
            if (existing is { } id)
            {
                return id;
            }
        }

        var response = await _a1.PostJson("/api/members", withId
            ? new { name = "健康档案", mobile = PatronApp.NewPhone(), idNumber = IdNumber }
            : (object)new { name = "健康档案", mobile = PatronApp.NewPhone() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
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

public sealed class HealthAndConsentSqliteTests(SqliteApp app) : HealthAndConsentTests(app), IClassFixture<SqliteApp>;

public sealed class HealthAndConsentPostgresTests(PostgresApp app) : HealthAndConsentTests(app), IClassFixture<PostgresApp>;
