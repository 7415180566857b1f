using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// The full member file on each database: profile fields checked and kept (the street address
/// only encrypted), contacts masked everywhere but the unmask page, completeness scored and
/// reported per enrolling staff member, core fields corrected with their uniqueness, organisation
/// members found by their purchasers' phones, second phones found and flagged as duplicates.
/// </summary>
public abstract class MemberProfileTests(PatronApp app)
{
    private const string Address = "朝阳区建国路88号3单元502";
    private const string Email = "zhang.wei@example.cn";

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    [Fact]
    public async Task Profile_IsKeptWithTheAddressEncrypted_ShownMasked_AndScoredForCompleteness()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync("档案完整");
        var bare = await (await _a1.Get($"/api/members/{member}/profile")).ReadJson();
        Assert.Equal(20, bare.GetProperty("completeness").GetInt32()); // name and phone only
        Assert.Contains("address", bare.GetProperty("missing").EnumerateArray().Select(x => x.GetString()));

        var phone2 = PatronApp.NewPhone();
        var saved = await _a1.PutJson($"/api/members/{member}/profile", FullProfile(phone2));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var view = await saved.ReadJson();
        Assert.Equal(90, view.GetProperty("completeness").GetInt32()); // all but the ID number
        Assert.True(view.GetProperty("complete").GetBoolean());
        Assert.Equal(["idNumber"], view.GetProperty("missing").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(("朝阳区", "建国路社区"), (view.GetProperty("district").GetString(), view.GetProperty("community").GetString()));
        Assert.Equal("****", view.GetProperty("address").GetString());
        Assert.Equal("z***@example.cn", view.GetProperty("email").GetString());
        Assert.Equal("wx****", view.GetProperty("weChat").GetString());
        Assert.Equal(phone2[..3] + "****" + phone2[^4..], view.GetProperty("phone2").GetString());
        Assert.Equal(["diabetes", "blood_pressure"], view.GetProperty("interests").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["老顾客", "社区团购"], view.GetProperty("tags").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal("正月初一", view.GetProperty("lunarBirthdayText").GetString()); // born 2024-02-10, the Spring Festival

        var row = await app.WithDbAsync(db => db.MemberProfiles.AsNoTracking().SingleAsync(p => p.MemberId == member));
        Assert.NotNull(row.AddressCipher);
        Assert.DoesNotContain("建国路88号", row.AddressCipher);
        Assert.Equal("|diabetes|blood_pressure|", row.Interests);

        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "member.profile_updated" && a.MemberId == member).SingleAsync());
        Assert.DoesNotContain(Email, audit.Detail);
        Assert.DoesNotContain("建国路88号", audit.Detail);
        Assert.Contains("birthday", audit.Detail); // which core fields changed, never their values

        // Anyone in the program sees the same masked profile; no contact in clear in the member's answer either.
        using var a2 = app.TerminalClient(app.Org.TerminalA2);
        var seen = await (await a2.Get($"/api/members/{member}/profile")).ReadText();
        Assert.DoesNotContain(Email, seen);
        Assert.DoesNotContain("建国路88号", seen);
    }

    [Fact]
    public async Task BadProfile_IsRefusedFieldByField_AndNothingIsSaved()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync("档案有误");
        await _a1.PutJson($"/api/members/{member}/profile", new { district = "海淀区" });

        var bad = await _a1.PutJson($"/api/members/{member}/profile", new
        {
            district = "西城区",
            email = "not-an-address",
            phone2 = "12345",
            interests = new[] { "astrology" },
            tags = Enumerable.Range(1, 21).Select(i => "t" + i).ToArray(),
            insured = true,
            insuranceType = "gold",
            kind = "robot",
            name = "",
        });
        await AssertProblem(bad, HttpStatusCode.BadRequest, Problem.ValidationCode,
            ("email", "profile.email_invalid"), ("phone2", "member.phone_invalid"), ("interests", "profile.interest_unknown"),
            ("tags", "profile.tags_invalid"), ("insuranceType", "profile.insurance_type_invalid"), ("kind", "profile.kind_invalid"), ("name", "member.name_required"));
        var after = await (await _a1.Get($"/api/members/{member}/profile")).ReadJson();
        Assert.Equal("海淀区", after.GetProperty("district").GetString());
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "member.profile_updated" && a.MemberId == member)));

        var auditor = await app.SignInAsync("auditor");
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.Http.PutJson($"/api/members/{member}/profile", new { district = "东城区" })).StatusCode);
    }

    [Fact]
    public async Task CorrectingThePhone_NeedsCounterStaffAndAReason_KeepsItUnique_AndTheNewPhoneIdentifiesTheMember()
    {
        await EnsureProgramAsync();
        var oldPhone = PatronApp.NewPhone();
        var member = (await (await _a1.PostJson("/api/members", new { name = "换号码", mobile = oldPhone })).ReadJson()).GetProperty("id").GetInt64();
        var taken = PatronApp.NewPhone();
        await _a1.PostJson("/api/members", new { name = "占号码", mobile = taken });
        var newPhone = PatronApp.NewPhone();

        // A POS terminal and marketing do not re-point who a phone finds; staff at the counter do, with a reason.
        await AssertProblem(await _a1.PutJson($"/api/members/{member}/profile", new { mobile = newPhone, reason = "x" }), HttpStatusCode.Forbidden, "profile.identity_change_forbidden");
        var marketing = await app.SignInAsync("marketing");
        await AssertProblem(await marketing.Http.PutJson($"/api/members/{member}/profile", new { mobile = newPhone, reason = "x" }), HttpStatusCode.Forbidden, "profile.identity_change_forbidden");
        var cashier = await app.SignInAsync("cashier-a1");
        await AssertProblem(await cashier.Http.PutJson($"/api/members/{member}/profile", new { mobile = newPhone }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "profile.reason_required"));
        await AssertProblem(await cashier.Http.PutJson($"/api/members/{member}/profile", new { mobile = taken, reason = "会员换号" }), HttpStatusCode.Conflict, "member.phone_taken");
        Assert.Equal(HttpStatusCode.OK, (await cashier.Http.PutJson($"/api/members/{member}/profile", new { mobile = newPhone, gender = "female", reason = "会员换号" })).StatusCode);

        var found = await (await _a1.PostJson("/api/checkout/identify", new { phone = newPhone })).ReadJson();
        Assert.Equal(member, found.GetProperty("member").GetProperty("id").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await _a1.PostJson("/api/checkout/identify", new { phone = oldPhone })).StatusCode);
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "member.profile_updated" && a.MemberId == member).SingleAsync());
        Assert.Contains("会员换号", audit.Detail);
        Assert.Contains(newPhone[^4..], audit.Detail); // old and new, masked
        Assert.Contains(oldPhone[^4..], audit.Detail);
        Assert.DoesNotContain(newPhone, audit.Detail);
        Assert.DoesNotContain(oldPhone, audit.Detail);
    }

    [Fact]
    public async Task MaskedContacts_AreKeptWhenLeftOut_RemovedWhenEmpty_AndAMaskSentBackIsRefused()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync("读改写");
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{member}/profile", FullProfile(PatronApp.NewPhone()))).StatusCode);

        // What a client reads back, sent again: the masks are refused and nothing changes.
        var read = await (await _a1.Get($"/api/members/{member}/profile")).ReadJson();
        var echo = await _a1.PutJson($"/api/members/{member}/profile", new { district = "海淀区", email = read.GetProperty("email").GetString(), address = read.GetProperty("address").GetString() });
        await AssertProblem(echo, HttpStatusCode.BadRequest, Problem.ValidationCode, ("email", "profile.masked_value"), ("address", "profile.masked_value"));

        // Left out: kept. Empty: removed.
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{member}/profile", new { district = "海淀区", weChat = "" })).StatusCode);
        var row = await app.WithDbAsync(db => db.MemberProfiles.AsNoTracking().SingleAsync(p => p.MemberId == member));
        Assert.Equal((Email, "海淀区", (string?)null), (row.Email, row.District, row.WeChat));
        Assert.NotNull(row.AddressCipher);
        Assert.NotNull(row.Phone2);
    }

    [Fact]
    public async Task OrganisationMember_IsFoundAtTheCounterByAPurchasersPhone_AndScoredOnItsOwnFields()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync("某某物业公司");
        var buyer = PatronApp.NewPhone();
        await AssertProblem(await _a1.PostJson($"/api/members/{member}/purchasers", new { name = "李采购", mobile = buyer }),
            HttpStatusCode.UnprocessableEntity, "profile.not_organisation");

        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{member}/profile", new { kind = "organisation", district = "朝阳区", community = "CBD", address = Address, email = Email, weChat = "wuye_cbd", interests = new[] { "nutrition" } })).StatusCode);
        var withBuyer = await (await _a1.PostJson($"/api/members/{member}/purchasers", new { name = "李采购", mobile = buyer, role = "行政" })).ReadJson();
        Assert.Equal(100, withBuyer.GetProperty("completeness").GetInt32()); // no birthday, gender or ID number asked of an organisation
        Assert.Equal("organisation", withBuyer.GetProperty("kind").GetString());
        await AssertProblem(await _a1.PostJson($"/api/members/{member}/purchasers", new { name = "李采购", mobile = buyer }), HttpStatusCode.Conflict, "profile.purchaser_exists");
        await AssertProblem(await _a1.PutJson($"/api/members/{member}/profile", new { kind = "organisation", idNumber = "11010519491231002X" }),
            HttpStatusCode.BadRequest, Problem.ValidationCode, ("idNumber", "profile.organisation_id_number"));

        var identified = await (await _a1.PostJson("/api/checkout/identify", new { phone = buyer })).ReadJson();
        Assert.Equal(member, identified.GetProperty("member").GetProperty("id").GetInt64());

        // Made a person again, the member has no purchasers: the buyer's phone no longer finds it.
        var person = await (await _a1.PutJson($"/api/members/{member}/profile", new { kind = "person" })).ReadJson();
        Assert.Empty(person.GetProperty("purchasers").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await _a1.PostJson("/api/checkout/identify", new { phone = buyer })).StatusCode);
        await _a1.PutJson($"/api/members/{member}/profile", new { kind = "organisation" });
        withBuyer = await (await _a1.PostJson($"/api/members/{member}/purchasers", new { name = "李采购", mobile = buyer })).ReadJson();
        var purchaserId = withBuyer.GetProperty("purchasers")[0].GetProperty("id").GetInt64();
        var removed = await (await _a1.Delete($"/api/members/{member}/purchasers/{purchaserId}")).ReadJson();
        Assert.Empty(removed.GetProperty("purchasers").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await _a1.PostJson("/api/checkout/identify", new { phone = buyer })).StatusCode);
    }

    [Fact]
    public async Task SecondPhone_FindsTheMember_AndLinksTwoFilesAsLikelyDuplicates()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var first = (await (await _a1.PostJson("/api/members", new { name = "王芳", mobile = phone })).ReadJson()).GetProperty("id").GetInt64();
        var second = await EnrolAsync("王芳芳");
        await _a1.PutJson($"/api/members/{second}/profile", new { phone2 = phone });

        // The member's own phone wins at the counter.
        var found = await (await _a1.PostJson("/api/checkout/identify", new { phone })).ReadJson();
        Assert.Equal(first, found.GetProperty("member").GetProperty("id").GetInt64());

        var third = await EnrolAsync("赵六");
        var spare = PatronApp.NewPhone();
        await _a1.PutJson($"/api/members/{third}/profile", new { phone2 = spare });
        var bySpare = await (await _a1.PostJson("/api/members/lookup", new { phone = spare })).ReadJson();
        Assert.Equal(third, Assert.Single(bySpare.EnumerateArray()).GetProperty("id").GetInt64());

        var admin = await app.SignInAsync("admin");
        var groups = (await (await admin.Http.Get($"/api/members/duplicates?programId={app.Org.ProgramA}")).ReadJson()).EnumerateArray()
            .Where(g => g.GetProperty("reason").GetString() == "phone").ToList();
        var group = Assert.Single(groups, g => g.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("id").GetInt64() == first));
        Assert.Equal([first, second], group.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task CompletenessReport_CountsCompleteFilesPerEnrollingStaffMember_InTheCallersStores()
    {
        await EnsureProgramAsync();
        var cashier = await app.SignInAsync("cashier-a2");
        async Task<long> EnrolByCashierAsync(string name) =>
            (await (await cashier.Http.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var complete = await EnrolByCashierAsync("完整甲");
        await EnrolByCashierAsync("不全乙");
        Assert.Equal(HttpStatusCode.OK, (await cashier.Http.PutJson($"/api/members/{complete}/profile", FullProfile(PatronApp.NewPhone()))).StatusCode);

        var today = app.Clock.GetUtcNow().AddHours(8).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var manager = await app.SignInAsync("manager-a");
        var report = await (await manager.Http.Get($"/api/members/completeness?programId={app.Org.ProgramA}&from={today}&to={today}")).ReadJson();
        Assert.Equal(80, report.GetProperty("completeAt").GetInt32());
        var row = Assert.Single(report.GetProperty("rows").EnumerateArray(), r => r.GetProperty("staffName").GetString() == StaffName("cashier-a2"));
        Assert.Equal((2, 1), (row.GetProperty("enrolled").GetInt32(), row.GetProperty("complete").GetInt32()));
        Assert.Equal((90 + 20) / 2, row.GetProperty("averageScore").GetInt32());

        // Cashier A1 sees only store A1's enrolments.
        var a1 = await app.SignInAsync("cashier-a1");
        var own = await (await a1.Http.Get($"/api/members/completeness?programId={app.Org.ProgramA}&from={today}&to={today}")).ReadJson();
        Assert.DoesNotContain(own.GetProperty("rows").EnumerateArray(), r => r.GetProperty("staffName").GetString() == StaffName("cashier-a2"));
        await AssertProblem(await manager.Http.Get($"/api/members/completeness?programId={app.Org.ProgramA}&from=2026-01-01&to=2025-01-01"),
            HttpStatusCode.BadRequest, Problem.ValidationCode, ("to", "report.period_invalid"));
    }

    [Fact]
    public async Task Contacts_AreUnmaskedOnlyForAllowedRolesWithAReason_AndErasedWithTheMember()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync("联系方式");
        var phone2 = PatronApp.NewPhone();
        await _a1.PutJson($"/api/members/{member}/profile", FullProfile(phone2));
        var body = new { field = "contacts", reason = "寄送会员礼品" };

        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson($"/api/members/{member}/unmask", body)).StatusCode);
        var manager = await app.SignInAsync("manager-a");
        var clear = await (await manager.Http.PostJson($"/api/members/{member}/unmask", body)).ReadJson();
        var contacts = clear.GetProperty("contacts");
        Assert.Equal((Address, Email, phone2, "wx_zhangwei"), (contacts.GetProperty("address").GetString(), contacts.GetProperty("email").GetString(), contacts.GetProperty("phone2").GetString(), contacts.GetProperty("weChat").GetString()));
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "personal_data.unmasked" && a.MemberId == member).SingleAsync());
        Assert.Contains("contacts", audit.Detail);
        Assert.DoesNotContain(Email, audit.Detail);

        var admin = await app.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{member}/anonymise", new { reason = "本人申请" })).StatusCode);
        var erased = await app.WithDbAsync(db => db.MemberProfiles.AsNoTracking().SingleAsync(p => p.MemberId == member));
        Assert.Equal((null, null, null, null, null, ""), (erased.AddressCipher, erased.Email, erased.Phone2, erased.WeChat, erased.District, erased.Tags));
        await AssertProblem(await admin.Http.PutJson($"/api/members/{member}/profile", new { district = "朝阳区" }), HttpStatusCode.UnprocessableEntity, "member.anonymised");
    }

    [Fact]
    public async Task ConsolePages_EditTheFile_RecordConsentAndHealth_AndShowNothingInClearButOnTheUnmaskPage()
    {
        await EnsureProgramAsync();
        var idNumber = "110105194912310038";
        var phone = PatronApp.NewPhone();
        var member = (await (await _a1.PostJson("/api/members", new { name = "控制台档案", mobile = phone, idNumber })).ReadJson()).GetProperty("id").GetInt64();
        var cashier = await app.SignInAsync("cashier-a1");
        var url = $"/members/{member}/profile";
        var form = await cashier.GetPageAsync(url);
        Assert.Contains("data-testid=\"profile-form\"", form, StringComparison.Ordinal);
        Assert.Contains("体重管理", form, StringComparison.Ordinal); // the program's interests, in Chinese

        var bad = await cashier.PostFormAsync(url, new() { ["Input.Name"] = "控制台档案", ["Input.Email"] = "nope", ["Input.District"] = "东城区" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var badPage = await bad.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("电子邮箱格式不正确", badPage, StringComparison.Ordinal);
        Assert.False(await app.WithDbAsync(db => db.MemberProfiles.AnyAsync(p => p.MemberId == member)));

        var good = await cashier.PostFormAsync(url, new()
        {
            ["Input.Name"] = "控制台档案",
            ["Input.Kind"] = "person",
            ["Input.Gender"] = "male",
            ["Input.Birthday"] = "1949-12-31",
            ["Input.District"] = "东城区",
            ["Input.Community"] = "和平里",
            ["Input.Address"] = Address,
            ["Input.Email"] = Email,
            ["Input.Insured"] = "yes",
            ["Input.InsuranceType"] = "employee",
            ["Input.Interests"] = "sleep",
            ["Input.Tags"] = "老顾客，常客",
        });
        Assert.Equal(HttpStatusCode.Redirect, good.StatusCode);

        // Saved again with the masked fields left blank: what is on file stays.
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync(url, new() { ["Input.Name"] = "控制台档案", ["Input.Gender"] = "male", ["Input.Birthday"] = "1949-12-31", ["Input.District"] = "东城区", ["Input.Tags"] = "老顾客" })).StatusCode);
        var contacts = await app.WithDbAsync(db => db.MemberProfiles.AsNoTracking().SingleAsync(p => p.MemberId == member));
        Assert.Equal(Email, contacts.Email);
        Assert.NotNull(contacts.AddressCipher);
        Assert.Equal("|老顾客|", contacts.Tags);

        var detail = await cashier.GetPageAsync($"/members/{member}");
        foreach (var page in new[] { detail, await cashier.GetPageAsync(url), await cashier.GetPageAsync($"/members/{member}/health") })
        {
            Assert.DoesNotContain(phone, page, StringComparison.Ordinal);
            Assert.DoesNotContain(idNumber, page, StringComparison.Ordinal);
            Assert.DoesNotContain(Email, page, StringComparison.Ordinal);
            Assert.DoesNotContain("建国路88号", page, StringComparison.Ordinal);
        }

        Assert.Contains("data-testid=\"member-completeness\"", detail, StringComparison.Ordinal);

        // Consent and an empty health file at the counter; then only counts are shown.
        var health = $"/members/{member}/health";
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{health}?handler=Consent", new() { ["ConsentKind"] = "health_data", ["ConsentSource"] = "paper", ["Granted"] = "true" })).StatusCode);
        var badHealth = await cashier.PostFormAsync($"{health}?handler=Save", new() { ["Allergies"] = "磺胺类", ["Medicines"] = "二甲双胍, lots, 60" });
        Assert.Equal(HttpStatusCode.BadRequest, badHealth.StatusCode);
        Assert.Contains("每种药需有药名", await badHealth.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{health}?handler=Save", new() { ["Conditions"] = "2型糖尿病", ["Allergies"] = "磺胺类，青霉素类", ["Medicines"] = "二甲双胍, 3, 60, MET500" })).StatusCode);
        var healthPage = await cashier.GetPageAsync(health);
        Assert.Contains("data-testid=\"allergy-count\">2<", healthPage, StringComparison.Ordinal);
        Assert.DoesNotContain("磺胺", healthPage, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"health-form\"", healthPage, StringComparison.Ordinal); // a file on record is changed after unmasking

        // The unmask page: refused to a cashier; a store manager with a reason sees and can change the file.
        var denied = await cashier.GetAsync($"/members/{member}/unmask");
        Assert.Contains("/denied", denied.Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
        var manager = await app.SignInAsync("manager-a");
        var noReason = await manager.PostFormAsync($"/members/{member}/unmask", new() { ["Field"] = "health" });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        var shown = await manager.PostFormAsync($"/members/{member}/unmask", new() { ["Field"] = "health", ["Reason"] = "药师复核过敏史" });
        var shownPage = await shown.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("磺胺类, 青霉素类", shownPage, StringComparison.Ordinal);
        Assert.Contains("二甲双胍, 3, 60, MET500", shownPage, StringComparison.Ordinal);
        Assert.Contains("no-store", shown.Headers.CacheControl?.ToString());
        var id = await manager.PostFormAsync($"/members/{member}/unmask", new() { ["Field"] = "id_number", ["Reason"] = "核对身份" });
        Assert.Contains(idNumber, await id.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(2, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "personal_data.unmasked" && a.MemberId == member)));
    }

    [Fact]
    public async Task AHealthFileOnRecord_IsReplacedOnlyByThoseWhoMayReadIt()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync("覆盖健康档案");
        await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true });
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{member}/health", new { allergies = new[] { "青霉素类" } })).StatusCode); // an empty file is filled at the counter

        await AssertProblem(await _a1.PutJson($"/api/members/{member}/health", new { allergies = Array.Empty<string>() }), HttpStatusCode.Forbidden, "health.replace_forbidden");
        var cashier = await app.SignInAsync("cashier-a1");
        await AssertProblem(await cashier.Http.PutJson($"/api/members/{member}/health", new { allergies = Array.Empty<string>() }), HttpStatusCode.Forbidden, "health.replace_forbidden");
        Assert.Equal(1, (await (await _a1.Get($"/api/members/{member}/health")).ReadJson()).GetProperty("allergies").GetInt32());

        var manager = await app.SignInAsync("manager-a");
        var replaced = await (await manager.Http.PutJson($"/api/members/{member}/health", new { allergies = new[] { "青霉素类", "磺胺类" } })).ReadJson();
        Assert.Equal(2, replaced.GetProperty("allergies").GetInt32());
    }

    [Fact]
    public async Task ErasingAMember_ErasesTheDuplicatesMergedIntoIt_AndTheOwnDataExportListedThem()
    {
        await EnsureProgramAsync();
        var name = "合并后注销" + Guid.NewGuid().ToString("N")[..4];
        var keptPhone = PatronApp.NewPhone();
        var duplicatePhone = PatronApp.NewPhone();
        var kept = (await (await _a1.PostJson("/api/members", new { name, mobile = keptPhone })).ReadJson()).GetProperty("id").GetInt64();
        var duplicate = (await (await _a1.PostJson("/api/members", new { name, mobile = duplicatePhone })).ReadJson()).GetProperty("id").GetInt64();
        await _a1.PutJson($"/api/members/{duplicate}/profile", new { email = Email });
        var admin = await app.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = kept, mergedId = duplicate, reason = "重复登记" })).StatusCode);

        var export = await (await admin.Http.PostJson($"/api/members/{kept}/data-export", new { reason = "本人申请查阅", format = "json" })).ReadJson();
        var listed = Assert.Single(export.GetProperty("mergedMembers").EnumerateArray());
        Assert.Equal((duplicate, duplicatePhone), (listed.GetProperty("memberId").GetInt64(), listed.GetProperty("mobile").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{kept}/anonymise", new { reason = "本人申请注销" })).StatusCode);
        var rows = await app.WithDbAsync(db => db.Members.AsNoTracking().Where(m => m.Id == kept || m.Id == duplicate).ToListAsync());
        Assert.All(rows, r => Assert.NotNull(r.AnonymisedAt));
        Assert.DoesNotContain(rows, r => r.Name == name || r.Mobile == keptPhone || r.Mobile == duplicatePhone);
        Assert.Null((await app.WithDbAsync(db => db.MemberProfiles.AsNoTracking().SingleAsync(p => p.MemberId == kept))).Email); // the duplicate's file moved to the kept member, and went with it
        Assert.Equal(HttpStatusCode.NotFound, (await _a1.PostJson("/api/checkout/identify", new { phone = duplicatePhone })).StatusCode);
    }

    private static object FullProfile(string phone2) => new
    {
        gender = "male",
        birthday = "2024-02-10",
        lunarBirthday = true,
        phone2,
        district = "朝阳区",
        community = "建国路社区",
        address = Address,
        weChat = "wx_zhangwei",
        email = Email,
        insured = true,
        insuranceType = "employee",
        interests = new[] { "diabetes", "blood_pressure" },
        tags = new[] { "老顾客", "社区团购", "老顾客" },
        notes = "喜欢电话联系",
    };

    private static string StaffName(string login) => TestOrg.People.Single(p => p.Login == login).Login;

    private async Task<long> EnrolAsync(string name)
    {
        var response = await _a1.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone() });
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

public sealed class MemberProfileSqliteTests(SqliteApp app) : MemberProfileTests(app), IClassFixture<SqliteApp>;

public sealed class MemberProfilePostgresTests(PostgresApp app) : MemberProfileTests(app), IClassFixture<PostgresApp>;
