using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Domain.Calendars;
using Patron.Domain.Programs;
using Patron.Server.Features.Programs;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// The program settings editor on each database: head office makes a draft from the version in
/// force, changes fields and saves through the program file's own validation (errors beside the
/// field, nothing saved), previews lunar member days on a calendar that agrees with the engine,
/// and publishes with an effective date; published versions and store staff cannot change
/// anything, and every change is audited.
/// </summary>
public abstract partial class ProgramSettingsTests(PatronApp app)
{
    /// <summary>Three automatic tiers, a 2% discount every day and 5% on lunar days 8, 18 and 28 (the P2 pattern).</summary>
    public const string Program = """
        {
          "code": "CODE", "name": "连锁", "effectiveFrom": "2026-01-01",
          "earning": { "amountPerPoint": 100, "excluded": { "flags": ["special_price"] } },
          "tiers": [
            { "code": "standard", "name": "普通" },
            { "code": "silver", "name": "银卡", "qualification": { "kind": "cumulative_points", "threshold": 100000 }, "percentOff": 10 },
            { "code": "gold", "name": "金卡", "qualification": { "kind": "cumulative_points", "threshold": 200000 }, "percentOff": 15 }
          ],
          "pricing": {
            "noDiscount": { "flags": ["special_price"] },
            "discounts": [
              { "id": "everyday", "percentOff": 2 },
              { "id": "lunar", "name": "农历会员日", "percentOff": 5, "when": { "lunarDaysOfMonth": [8, 18, 28] } }
            ]
          },
          "redemption": { "items": [ { "code": "c5", "name": "¥5 券", "points": 500, "kind": "coupon", "value": 500 } ] }
        }
        """;

    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task HeadOffice_EditsATierThresholdInADraftFromTheVersionInForce_TheStoredFileHasIt_AndEachStepIsAudited()
    {
        await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var version = await NewDraftAsync(admin, app.Org.ProgramA);
        var url = EditUrl(app.Org.ProgramA, version);
        var before = await DefinitionAsync(app.Org.ProgramA, version);
        var fields = FormFields(await admin.GetPageAsync(url));
        Assert.Equal("100000", fields["tiers[1].qualification.threshold"]);
        Assert.Equal(Today(), fields["effectiveFrom"]);

        fields["tiers[1].qualification.threshold"] = "120000";
        fields["tiers[3].code"] = "diamond"; // the empty row adds a tier
        fields["tiers[3].name"] = "钻石卡";
        fields["tiers[3].qualification.kind"] = "cumulative_points";
        fields["tiers[3].qualification.threshold"] = "400000";
        var saved = await admin.PostFormAsync(url + "?handler=Save", fields);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);

        var rules = ProgramFile.Parse(await DefinitionAsync(app.Org.ProgramA, version));
        Assert.Equal(120_000, rules.Tiers[1].Qualification.Threshold);
        Assert.Equal(("diamond", 400_000L), (rules.Tiers[3].Code, rules.Tiers[3].Qualification.Threshold));
        var old = ProgramFile.Parse(before);
        Assert.Equal(J(old.Pricing), J(rules.Pricing)); // the rest of the file is kept
        Assert.Equal(J(old.Redemption), J(rules.Redemption));
        Assert.Equal(J(old.Earning), J(rules.Earning));
        Assert.Contains("data-testid=\"flash\"", await admin.GetPageAsync(url));

        var adminId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "admin").Select(s => s.Id).SingleAsync());
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.EntityType == "program" && a.EntityId == app.Org.ProgramA && a.ActorId == adminId).ToListAsync());
        var created = Assert.Single(audit, a => a.Action == "program.draft_created" && a.Detail!.Contains($"\"version\":{version}", StringComparison.Ordinal));
        var edited = Assert.Single(audit, a => a.Action == "program.draft_saved" && a.Detail!.Contains($"\"version\":{version}", StringComparison.Ordinal));
        Assert.Contains("tiers", edited.Detail!);
        Assert.DoesNotContain("redemption", edited.Detail!);
        Assert.True(edited.At >= created.At);
        Assert.Contains("program.draft_saved", await admin.GetPageAsync("/audit?action=program."));
    }

    [Fact]
    public async Task InvalidFields_AreShownBesideTheField_AndNothingIsSaved()
    {
        await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var version = await NewDraftAsync(admin, app.Org.ProgramA);
        var url = EditUrl(app.Org.ProgramA, version);
        var stored = await DefinitionAsync(app.Org.ProgramA, version);
        var fields = FormFields(await admin.GetPageAsync(url));

        (string Field, string Value, string ErrorAt, string Text)[] cases =
        [
            ("tiers[1].qualification.threshold", "-5", "tiers[1].qualification.threshold", "不能为负"),
            ("tiers[1].qualification.threshold", "a lot", "tiers[1].qualification.threshold", "请填写整数"),
            ("tiers[2].code", "silver", "tiers[2].code", "编码须唯一且不能为空"),
            ("tiers[2].qualification.threshold", "50000", "tiers[2].qualification.threshold", "门槛须逐级升高"),
            ("effectiveFrom", "2026-13-01", "effectiveFrom", "yyyy-MM-dd"),
            ("earning.amountPerPoint", "0", "earning.amountPerPoint", "至少 1 分"),
            ("pricing.discounts[1].when.lunarDaysOfMonth", "8, 31", "pricing.discounts[1].when.lunarDaysOfMonth", "农历日为 1–30"),
            ("section.other", "{ \"returns\": ", "section.other", "不是有效的 JSON"),
            ("section.other", "{ \"returnz\": {} }", "section.other", "returnz"),
            ("section.other", "{ \"coupons\": {} }", "section.other", "coupons"), // a section with fields of its own
            ("section.other", "{ \"pointCashValue\": 2, \"pointCashValue\": 3 }", "section.other", "不是有效的 JSON"), // a key given twice
            ("coupons.maxPerOrder", "0", "coupons.maxPerOrder", "1–20"),
            ("storedValue.minimumTopUp", "a lot", "storedValue.minimumTopUp", "请填写整数"),
            ("cards.validity.kind", "years", "cards.validity.length", "长度须至少为 1"), // the stored length is 0
            ("redemption.items[0].stock", "true", "redemption.items[0].stock", "只有礼品有库存"), // a coupon item
            ("redemption.items[0].points", "0", "redemption.items[0].points", "须至少为 1"),

            // A blank number the file has no default for is required; the others take the file's default.
            ("redemption.items[0].points", "", "redemption.items[0].points", "必填"),
            ("tiers[1].qualification.threshold", "", "tiers[1].qualification.threshold", "必填"),
            ("pricing.discounts[1].percentOff", "", "pricing.discounts[1].percentOff", "必填"),
        ];

        foreach (var (field, value, errorAt, text) in cases)
        {
            var response = await admin.PostFormAsync(url + "?handler=Save", new(fields) { [field] = value });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}={value}: {(int)response.StatusCode}");
            var html = await response.ReadText();
            var error = Regex.Match(html, $"data-testid=\"error-{Regex.Escape(errorAt)}\">([^<]*)<");
            Assert.True(error.Success, $"{field}={value}: no error beside {errorAt}");
            Assert.Contains(text, WebUtility.HtmlDecode(error.Groups[1].Value));
            Assert.Contains(WebUtility.HtmlEncode(value), html); // what was typed is kept
            Assert.Equal(stored, await DefinitionAsync(app.Org.ProgramA, version));
        }

        // A removed tier shifts the rows after it: the error still shows on the row it came from.
        var shifted = await admin.PostFormAsync(url + "?handler=Save", new(fields) { ["tiers[0].remove"] = "true", ["tiers[2].qualification.threshold"] = "90000" });
        Assert.Equal(HttpStatusCode.BadRequest, shifted.StatusCode);
        Assert.Contains("data-testid=\"error-tiers[2].qualification.threshold\"", await shifted.ReadText());
        Assert.Equal(stored, await DefinitionAsync(app.Org.ProgramA, version));
        var saves = await app.WithDbAsync(db => db.AuditLog.Where(a => a.Action == "program.draft_saved" && a.EntityId == app.Org.ProgramA).Select(a => a.Detail!).ToListAsync());
        Assert.DoesNotContain(saves, d => d.StartsWith($"{{\"version\":{version},", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PublishedVersions_AreReadOnly_AndStoreStaffAreRefused()
    {
        var published = await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var publishedUrl = EditUrl(app.Org.ProgramA, published);
        var page = await admin.GetPageAsync(publishedUrl);
        Assert.Contains("data-testid=\"read-only\"", page);
        Assert.Contains("<fieldset disabled", page);
        Assert.DoesNotContain("data-testid=\"save\"", page);
        var stored = await DefinitionAsync(app.Org.ProgramA, published);
        var fields = FormFields(page);
        var refused = await admin.PostFormAsync(publishedUrl + "?handler=Save", new(fields) { ["tiers[1].qualification.threshold"] = "1" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("已发布的版本不能修改", await refused.ReadText());
        Assert.Equal(stored, await DefinitionAsync(app.Org.ProgramA, published));

        var draft = await NewDraftAsync(admin, app.Org.ProgramA);
        var draftUrl = EditUrl(app.Org.ProgramA, draft);
        var draftStored = await DefinitionAsync(app.Org.ProgramA, draft);
        var versions = await app.WithDbAsync(db => db.ProgramVersions.CountAsync(v => v.ProgramId == app.Org.ProgramA));
        foreach (var login in new[] { "cashier-a1", "manager-a" })
        {
            var staff = await app.SignInAsync(login);
            var readOnly = await staff.GetPageAsync(draftUrl);
            Assert.Contains("data-testid=\"read-only\"", readOnly);
            Assert.DoesNotContain("data-testid=\"save\"", readOnly);
            Assert.DoesNotContain("data-testid=\"publish\"", readOnly);
            foreach (var handler in new[] { "Save", "Publish", "Simulate" })
            {
                var response = await staff.PostFormAsync($"{draftUrl}?handler={handler}", new(fields) { ["tiers[1].qualification.threshold"] = "1" });
                Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
                Assert.StartsWith("/denied", response.Headers.Location!.PathAndQuery);
            }

            var newDraft = await staff.PostFormAsync($"/programs?handler=NewDraft&programId={app.Org.ProgramA}", []);
            Assert.StartsWith("/denied", newDraft.Headers.Location!.PathAndQuery);
        }

        var otherChain = await app.SignInAsync("cashier-b1"); // chain B's staff do not see chain A's program
        Assert.Equal(HttpStatusCode.NotFound, (await otherChain.GetAsync(draftUrl)).StatusCode);

        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/from-in-force", new { })).StatusCode);
        Assert.Equal(draftStored, await DefinitionAsync(app.Org.ProgramA, draft));
        Assert.Equal(versions, await app.WithDbAsync(db => db.ProgramVersions.CountAsync(v => v.ProgramId == app.Org.ProgramA)));
        Assert.Equal(ProgramVersionStatus.Draft, await app.WithDbAsync(db => db.ProgramVersions.Where(v => v.ProgramId == app.Org.ProgramA && v.Version == draft).Select(v => v.Status).SingleAsync()));
        var byApi = await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/from-in-force", new { });
        Assert.Equal(HttpStatusCode.Created, byApi.StatusCode);
        Assert.Equal(versions + 1, (await byApi.ReadJson()).GetProperty("version").GetInt32());

        // Marketing is head office too.
        var marketing = await app.SignInAsync("marketing");
        var saved = await marketing.PostFormAsync(draftUrl + "?handler=Save", new(FormFields(await marketing.GetPageAsync(draftUrl))) { ["tiers[2].name"] = "金卡会员" });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("金卡会员", ProgramFile.Parse(await DefinitionAsync(app.Org.ProgramA, draft)).Tiers[2].Name);
    }

    [Fact]
    public async Task CalendarPreview_MarksTheSolarDatesOfLunarMemberDays_AsTheCheckoutDoes()
    {
        var published = await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var page = await admin.GetPageAsync(EditUrl(app.Org.ProgramA, published) + "?month=2026-11");
        var rules = ProgramFile.Parse(await DefinitionAsync(app.Org.ProgramA, published));
        var marked = new List<DateOnly>();
        for (var day = new DateOnly(2026, 11, 1); day.Month == 11; day = day.AddDays(1))
        {
            var cell = Regex.Match(page, $"data-testid=\"day-{day:yyyy-MM-dd}\" data-member-day=\"(true|false)\"");
            Assert.True(cell.Success, $"no cell for {day:yyyy-MM-dd}");
            var lunarDay = LunarDate.Of(day)!.Day;
            Assert.Equal(lunarDay is 8 or 18 or 28, cell.Groups[1].Value == "true");
            if (cell.Groups[1].Value == "true")
            {
                marked.Add(day);

                // The checkout's pricing gives the member-day 5% on the marked days.
                var quote = Patron.Domain.Pricing.PricingEngine.Quote(rules, [new("X", 1, 10_000, null, null, [], null)], new(null, null), day);
                Assert.Equal(500, quote.Discount);
            }
        }

        // Lunar 10/18 is 26 November 2026 (reference program P2, E1); 9/28 and 10/8 are 6 and 16 November.
        Assert.Equal([new DateOnly(2026, 11, 6), new DateOnly(2026, 11, 16), new DateOnly(2026, 11, 26)], marked);
        Assert.Contains("十月十八", page);

        // The API gives the same calendar.
        var days = await (await admin.Http.Get($"/api/programs/{app.Org.ProgramA}/versions/{published}/member-days?month=2026-11")).ReadJson();
        Assert.Equal(marked, days.EnumerateArray().Where(d => d.GetProperty("discounts").GetArrayLength() > 0).Select(d => DateOnly.Parse(d.GetProperty("date").GetString()!, CultureInfo.InvariantCulture)));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.Http.Get($"/api/programs/{app.Org.ProgramA}/versions/{published}/member-days?month=2026-13")).StatusCode);
        Assert.Contains("data-testid=\"day-2026-11-25\" data-member-day=\"false\"", page);
    }

    [Fact]
    public async Task Publishing_WithAFutureEffectiveDate_KeepsTheOldVersionInForceUntilThatDay()
    {
        var old = await EnsurePublishedAsync(app.Org.ProgramB, "CHAIN-B");
        try
        {
            app.Clock.Set(new DateTimeOffset(2026, 11, 10, 10, 0, 0, TimeSpan.FromHours(8)));
            var admin = await app.SignInAsync("admin");
            var draft = await NewDraftAsync(admin, app.Org.ProgramB);
            var url = EditUrl(app.Org.ProgramB, draft);
            var fields = FormFields(await admin.GetPageAsync(url));
            Assert.Equal("2026-11-10", fields["effectiveFrom"]);

            // A date in the past is refused at publishing, beside the date.
            var past = await admin.PostFormAsync(url + "?handler=Save", new(fields) { ["effectiveFrom"] = "2026-11-01", ["tiers[1].qualification.threshold"] = "80000" });
            Assert.Equal(HttpStatusCode.Redirect, past.StatusCode);
            var refused = await admin.PostFormAsync(url + "?handler=Publish", []);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("data-testid=\"error-effectiveFrom\"", await refused.ReadText());
            Assert.Equal(ProgramVersionStatus.Draft, await StatusAsync(app.Org.ProgramB, draft));

            fields = FormFields(await admin.GetPageAsync(url)); // the screen after that save
            var future = await admin.PostFormAsync(url + "?handler=Save", new(fields) { ["effectiveFrom"] = "2026-11-20", ["tiers[1].qualification.threshold"] = "80000" });
            Assert.Equal(HttpStatusCode.Redirect, future.StatusCode);
            var simulated = await admin.PostFormAsync(url + "?handler=Simulate", new() { ["From"] = "2026-10-01", ["To"] = "2026-11-09" });
            Assert.Contains("data-testid=\"simulation\"", await ConsoleJobTests.JobPageAsync(admin, simulated));
            Assert.Equal(HttpStatusCode.Redirect, (await admin.PostFormAsync(url + "?handler=Publish", [])).StatusCode);
            Assert.Equal(ProgramVersionStatus.Published, await StatusAsync(app.Org.ProgramB, draft));

            Assert.Equal(old, await InForceAsync(app.Org.ProgramB, new DateOnly(2026, 11, 19)));
            Assert.Equal(draft, await InForceAsync(app.Org.ProgramB, new DateOnly(2026, 11, 20)));
            Assert.Contains($"v{old}", Regex.Match(await admin.GetPageAsync(url), "data-testid=\"in-force-version\">([^<]*)<").Groups[1].Value);

            app.Clock.Set(new DateTimeOffset(2026, 11, 19, 23, 59, 0, TimeSpan.FromHours(8)));
            admin = await app.SignInAsync("admin"); // the sign-in of nine days ago has expired
            Assert.Contains($"v{old}", Regex.Match(await admin.GetPageAsync(url), "data-testid=\"in-force-version\">([^<]*)<").Groups[1].Value);
            app.Clock.Set(new DateTimeOffset(2026, 11, 20, 0, 1, 0, TimeSpan.FromHours(8)));
            var inForce = await admin.GetPageAsync(url);
            Assert.Contains($"v{draft}", Regex.Match(inForce, "data-testid=\"in-force-version\">([^<]*)<").Groups[1].Value);
            Assert.Contains("data-testid=\"in-force\"", inForce);

            var adminId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "admin").Select(s => s.Id).SingleAsync());
            Assert.True(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "program.published" && a.EntityId == app.Org.ProgramB && a.ActorId == adminId && a.Detail!.Contains("2026-11-20"))));
        }
        finally
        {
            app.Clock.Set(DateTimeOffset.UtcNow);
        }
    }

    [Fact]
    public async Task ADraftPublishedWhileBeingSaved_IsNotOverwritten()
    {
        await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var draft = await NewDraftAsync(admin, app.Org.ProgramA);

        // A save that read the draft before a publish committed, then writes: refused by the version's concurrency token.
        await app.WithDbAsync(async db =>
        {
            var stale = await db.ProgramVersions.SingleAsync(v => v.ProgramId == app.Org.ProgramA && v.Version == draft);
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{draft}/publish", new { })).StatusCode);
            stale.Replace(ProgramFile.Parse(Program.Replace("CODE", "CHAIN-A", StringComparison.Ordinal).Replace("\"name\": \"连锁\"", "\"name\": \"改名\"", StringComparison.Ordinal)), null, DateTime.UtcNow);
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => db.SaveChangesAsync(TestContext.Current.CancellationToken));
            return 0;
        });
        Assert.Equal(Domain.Programs.ProgramVersionStatus.Published, await app.WithDbAsync(db => db.ProgramVersions.Where(v => v.ProgramId == app.Org.ProgramA && v.Version == draft).Select(v => v.Status).SingleAsync()));
    }

    [Fact]
    public async Task TwoEditorsOfOneDraft_TheLaterSaveFromAnOlderScreenIsRefused()
    {
        await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var marketing = await app.SignInAsync("marketing");
        var draft = await NewDraftAsync(admin, app.Org.ProgramA);
        var url = EditUrl(app.Org.ProgramA, draft);
        var mine = FormFields(await admin.GetPageAsync(url));
        var theirs = FormFields(await marketing.GetPageAsync(url));
        Assert.Equal(mine["stamp"], theirs["stamp"]);

        theirs["tiers[1].qualification.threshold"] = "110000";
        Assert.Equal(HttpStatusCode.Redirect, (await marketing.PostFormAsync(url + "?handler=Save", theirs)).StatusCode);
        var saved = await DefinitionAsync(app.Org.ProgramA, draft);

        mine["tiers[1].qualification.threshold"] = "90000";
        var late = await admin.PostFormAsync(url + "?handler=Save", mine);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("其他人已同时保存或发布了这个版本", await late.ReadText());
        Assert.Equal(saved, await DefinitionAsync(app.Org.ProgramA, draft));
        Assert.Equal(110_000, ProgramFile.Parse(saved).Tiers[1].Qualification.Threshold);
    }

    [Fact]
    public async Task CardsStoredValueCatalogueCouponsExpiryAndPricing_AreFields_RowsAreAddedAndRemoved()
    {
        await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var version = await NewDraftAsync(admin, app.Org.ProgramA);
        var url = EditUrl(app.Org.ProgramA, version);
        var stored = await DefinitionAsync(app.Org.ProgramA, version);
        var fields = FormFields(await admin.GetPageAsync(url));
        Assert.Equal("c5", fields["redemption.items[0].code"]);
        Assert.Equal("500", fields["redemption.items[0].points"]);
        Assert.Equal("coupon", fields["redemption.items[0].kind"]);
        Assert.Equal("", fields["storedValue.bonusTiers[0].minimum"]); // the empty row
        Assert.DoesNotContain("storedValue.bonusTiers[1].minimum", fields.Keys);

        // "Add a row" shows the form again with one more empty row, keeping what was typed, and saves nothing.
        var typed = new Dictionary<string, string>(fields) { ["storedValue.bonusTiers[0].minimum"] = "50000", ["__add"] = "storedValue.bonusTiers" };
        var added = await admin.PostFormAsync(url + "?handler=AddRow", typed);
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        fields = FormFields(await added.ReadText());
        Assert.Equal("50000", fields["storedValue.bonusTiers[0].minimum"]);
        Assert.Equal("", fields["storedValue.bonusTiers[1].minimum"]);
        Assert.Equal(stored, await DefinitionAsync(app.Org.ProgramA, version));

        fields["cards.fee"] = "1000";
        fields["cards.validity.kind"] = "years";
        fields["cards.validity.length"] = "2";
        fields["cards.validity.restartOnPurchase"] = "true";
        fields["cards.validity.renewalFee"] = "500";
        fields["cards.replacement.lost"] = "2000";
        fields["storedValue.enabled"] = "true";
        fields["storedValue.minimumTopUp"] = "10000";
        fields["storedValue.spendOrder"] = "bonus_first";
        fields["storedValue.bonusTiers[0].bonus"] = "5000";
        fields["storedValue.bonusTiers[0].gifts"] = "保温杯\n雨伞";
        fields["storedValue.bonusTiers[1].minimum"] = "100000";
        fields["storedValue.bonusTiers[1].bonus"] = "15000";
        fields["storedValue.bonusTiers[1].subCards"] = "1";
        fields["coupons.templates[0].code"] = "welcome";
        fields["coupons.templates[0].name"] = "¥5 新会员券";
        fields["coupons.templates[0].value"] = "500";
        fields["coupons.templates[0].minimumSpend"] = "2000";
        fields["coupons.templates[0].validDays"] = "30";
        fields["coupons.templates[0].scope.categories"] = "vitamins, drugs";
        fields["coupons.templates[0].terms"] = "满¥20可用\r\n不找零、不兑现"; // a browser sends a text box's line breaks as CR LF
        fields["coupons.onEnrolment"] = "welcome";
        fields["coupons.maxPerOrder"] = "2";
        fields["redemption.items[1].code"] = "cup";
        fields["redemption.items[1].name"] = "保温杯";
        fields["redemption.items[1].points"] = "100";
        fields["redemption.items[1].kind"] = "gift";
        fields["redemption.items[1].value"] = "2500";
        fields["redemption.items[1].stock"] = "true";
        fields["redemption.items[1].perMember"] = "1";
        fields["redemption.items[1].limitPeriod"] = "year";
        fields["redemption.months"] = "1, 2";
        fields["expiry.kind"] = "end_of_year";
        fields["expiry.cutoffMonthDay"] = "12-01";
        fields["pricing.stacking"] = "ordered";
        fields["pricing.memberPrices[0].sku"] = "SKU1";
        fields["pricing.memberPrices[0].price"] = "990";
        fields["pricing.memberPrices[0].tiers"] = "gold";
        for (var i = 0; i < 1200; i++)
        {
            fields[$"pricing.memberPrices[{i + 1}].tiers"] = ""; // a long form (past ASP.NET Core's default of 1024 values) is read; empty rows are left out
        }

        var saved = await admin.PostFormAsync(url + "?handler=Save", fields);
        Assert.True(saved.StatusCode == HttpStatusCode.Redirect, Errors(await saved.ReadText()));

        var rules = ProgramFile.Parse(await DefinitionAsync(app.Org.ProgramA, version));
        Assert.Equal((1000L, ValidityKind.Years, 2, true, 500L, 2000L), (rules.Cards.Fee, rules.Cards.Validity.Kind, rules.Cards.Validity.Length, rules.Cards.Validity.RestartOnPurchase, rules.Cards.Validity.RenewalFee!.Value, rules.Cards.Replacement.Lost));
        Assert.Null(rules.Cards.Validity.RenewalPoints); // blank: none
        Assert.True(rules.StoredValue.Enabled);
        Assert.Equal((10_000L, 100_000_000L, SpendOrder.BonusFirst), (rules.StoredValue.MinimumTopUp, rules.StoredValue.MaximumTopUp, rules.StoredValue.SpendOrder));
        Assert.Equal([(50_000L, 5_000L, 0), (100_000L, 15_000L, 1)], rules.StoredValue.BonusTiers.Select(t => (t.Minimum, t.Bonus, t.SubCards)));
        Assert.Equal(["保温杯", "雨伞"], rules.StoredValue.BonusTiers[0].Gifts);
        var welcome = Assert.Single(rules.Coupons.Templates);
        Assert.Equal(("welcome", Domain.Coupons.CouponKind.Cash, 500L, 2000L, 30, 1, true), (welcome.Code, welcome.Kind, welcome.Value, welcome.MinimumSpend, welcome.ValidDays!.Value, welcome.Uses, welcome.WithMemberDiscount));
        Assert.Equal(["vitamins", "drugs"], welcome.Scope.Categories);
        Assert.Equal("满¥20可用\n不找零、不兑现", welcome.Terms);
        Assert.Matches("<textarea[^>]*name=\"coupons.templates\\[0\\].terms\"[^>]*>满¥20可用&#xA;不找零、不兑现</textarea>", await admin.GetPageAsync(url)); // a text box keeps the line break (an input would drop it)
        Assert.Equal((2, "welcome"), (rules.Coupons.MaxPerOrder, Assert.Single(rules.Coupons.OnEnrolment)));
        Assert.Equal(["c5", "cup"], rules.Redemption.Items.Select(i => i.Code));
        var cup = rules.Redemption.Items[1];
        Assert.Equal((RewardKind.Gift, 100L, 2500L, true, 1, LimitPeriod.Year), (cup.Kind, cup.Points, cup.Value, cup.Stock, cup.PerMember!.Value, cup.LimitPeriod));
        Assert.Equal([1, 2], rules.Redemption.Months);
        Assert.Equal((ExpiryKind.EndOfYear, "12-01", 30), (rules.Expiry.Kind, rules.Expiry.CutoffMonthDay, rules.Expiry.SoonDays));
        Assert.Equal(Stacking.Ordered, rules.Pricing.Stacking);
        Assert.Equal(("SKU1", 990L, "gold"), (rules.Pricing.MemberPrices[0].Sku, rules.Pricing.MemberPrices[0].Price, rules.Pricing.MemberPrices[0].Tiers.Single()));
        Assert.Equal(2, rules.Pricing.Discounts.Count); // the member days are kept
        Assert.Equal(["special_price"], rules.Pricing.NoDiscount.Flags);

        // Removing a row shifts the rows after it; a blank required number is refused beside the row it was typed in.
        stored = await DefinitionAsync(app.Org.ProgramA, version);
        fields = FormFields(await admin.GetPageAsync(url));
        var refused = await admin.PostFormAsync(url + "?handler=Save", new(fields) { ["storedValue.bonusTiers[0].remove"] = "true", ["storedValue.bonusTiers[1].minimum"] = "" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var html = await refused.ReadText();
        Assert.Contains("必填", Regex.Match(html, "data-testid=\"error-storedValue.bonusTiers\\[1\\].minimum\">([^<]*)<").Groups[1].Value);
        Assert.Equal(stored, await DefinitionAsync(app.Org.ProgramA, version));

        // A rule broken after a removal is shown on the row it came from.
        refused = await admin.PostFormAsync(url + "?handler=Save", new(fields) { ["redemption.items[0].remove"] = "true", ["redemption.items[1].kind"] = "coupon" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("data-testid=\"error-redemption.items[1].stock\"", await refused.ReadText());

        var removed = await admin.PostFormAsync(url + "?handler=Save", new(fields) { ["storedValue.bonusTiers[0].remove"] = "true", ["redemption.items[0].remove"] = "true", ["coupons.templates[0].remove"] = "true", ["coupons.onEnrolment"] = "" });
        Assert.True(removed.StatusCode == HttpStatusCode.Redirect, Errors(await removed.ReadText()));
        rules = ProgramFile.Parse(await DefinitionAsync(app.Org.ProgramA, version));
        Assert.Equal(100_000, Assert.Single(rules.StoredValue.BonusTiers).Minimum);
        Assert.Equal("cup", Assert.Single(rules.Redemption.Items).Code);
        Assert.Empty(rules.Coupons.Templates);
    }

    [Fact]
    public async Task PublishingADraftOlderThanAPublishedVersion_AsksForConfirmation()
    {
        await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var older = await NewDraftAsync(admin, app.Org.ProgramA);
        var alsoOlder = await NewDraftAsync(admin, app.Org.ProgramA);
        var newer = await NewDraftAsync(admin, app.Org.ProgramA);
        var api = $"/api/programs/{app.Org.ProgramA}/versions";
        Assert.DoesNotContain("data-testid=\"outdated\"", await admin.GetPageAsync(EditUrl(app.Org.ProgramA, older)));
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"{api}/{newer}/publish", new { })).StatusCode);

        // The API refuses an older draft without the confirmation, naming the newer version.
        var refused = await admin.Http.PostJson($"{api}/{older}/publish", new { });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.ReadJson();
        Assert.Equal("program.draft_outdated", problem.GetProperty("code").GetString());
        Assert.Equal(newer, problem.GetProperty("newerVersion").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, (await admin.Http.PostRaw($"{api}/{older}/publish", "")).StatusCode); // no body: no confirmation
        Assert.Equal(HttpStatusCode.Conflict, (await admin.Http.PostJson($"{api}/{older}/publish", new { confirmOutdated = false })).StatusCode);
        Assert.Equal(ProgramVersionStatus.Draft, await StatusAsync(app.Org.ProgramA, older));

        // The program list's publish button sends an outdated draft to the editor, where the confirmation is.
        var url = EditUrl(app.Org.ProgramA, older);
        await admin.GetPageAsync("/programs");
        var fromList = await admin.PostFormAsync("/programs?handler=Publish", new() { ["programId"] = app.Org.ProgramA.ToString(System.Globalization.CultureInfo.InvariantCulture), ["version"] = older.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(HttpStatusCode.Redirect, fromList.StatusCode);
        Assert.Equal(url + "#publish", fromList.Headers.Location?.OriginalString);
        Assert.Equal(ProgramVersionStatus.Draft, await StatusAsync(app.Org.ProgramA, older));

        // The editor warns beside the publish button; publishing without ticking the confirmation changes nothing.
        var page = await admin.GetPageAsync(url);
        Assert.Contains($"版本 {newer} 在这个草稿创建之后已发布", Regex.Match(page, "data-testid=\"outdated\">([^<]*)<").Groups[1].Value);
        Assert.Contains("name=\"ConfirmOutdated\"", page);
        var unconfirmed = await admin.PostFormAsync(url + "?handler=Publish", []);
        Assert.Equal(HttpStatusCode.Conflict, unconfirmed.StatusCode);
        Assert.Contains("发布它会用较旧的规则取代较新的规则", await unconfirmed.ReadText());
        Assert.Equal(ProgramVersionStatus.Draft, await StatusAsync(app.Org.ProgramA, older));

        var confirmed = await admin.PostFormAsync(url + "?handler=Publish", new() { ["ConfirmOutdated"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal(ProgramVersionStatus.Published, await StatusAsync(app.Org.ProgramA, older));
        Assert.True(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "program.published" && a.EntityId == app.Org.ProgramA && a.Detail!.Contains($"\"version\":{older},") && a.Detail!.Contains($"\"publishedOverNewer\":{newer}"))));

        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"{api}/{alsoOlder}/publish", new { confirmOutdated = true })).StatusCode);
        Assert.Equal(ProgramVersionStatus.Published, await StatusAsync(app.Org.ProgramA, alsoOlder));
        Assert.DoesNotContain("data-testid=\"outdated\"", await admin.GetPageAsync(EditUrl(app.Org.ProgramA, alsoOlder))); // published: no warning
    }

    [Fact]
    public async Task PublishingADraftMadeBeforeALowerNumberedVersionWasPublished_AsksForConfirmationToo()
    {
        // Two drafts copied from the rules in force; the first one published: the second lacks its changes whatever its number.
        await EnsurePublishedAsync(app.Org.ProgramA, "CHAIN-A");
        var admin = await app.SignInAsync("admin");
        var first = await NewDraftAsync(admin, app.Org.ProgramA);
        var second = await NewDraftAsync(admin, app.Org.ProgramA);
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var api = $"/api/programs/{app.Org.ProgramA}/versions";
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"{api}/{first}/publish", new { })).StatusCode);
        var refused = await admin.Http.PostJson($"{api}/{second}/publish", new { });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(first, (await refused.ReadJson()).GetProperty("newerVersion").GetInt32());

        // A draft made after that publish is not outdated, whatever the clock says (it may be set back).
        app.Clock.Advance(TimeSpan.FromMinutes(-30));
        var fresh = await NewDraftAsync(admin, app.Org.ProgramA);
        var other = await NewDraftAsync(admin, app.Org.ProgramA);
        Assert.DoesNotContain("data-testid=\"outdated\"", await admin.GetPageAsync(EditUrl(app.Org.ProgramA, fresh)));

        // Two drafts published at once take the same publish order: the database refuses the second.
        await app.WithDbAsync(async db =>
        {
            var stale = await db.ProgramVersions.SingleAsync(v => v.ProgramId == app.Org.ProgramA && v.Version == other);
            var order = await db.ProgramVersions.Where(v => v.ProgramId == app.Org.ProgramA).MaxAsync(v => v.PublishOrder) ?? 0;
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"{api}/{fresh}/publish", new { })).StatusCode);
            stale.Publish(null, DateTime.UtcNow, order + 1);
            await Assert.ThrowsAnyAsync<DbUpdateException>(() => db.SaveChangesAsync(TestContext.Current.CancellationToken));
            return 0;
        });
        Assert.Equal(ProgramVersionStatus.Draft, await StatusAsync(app.Org.ProgramA, other));
        Assert.Equal(fresh, (await (await admin.Http.PostJson($"{api}/{other}/publish", new { })).ReadJson()).GetProperty("newerVersion").GetInt32());
    }

    private static string Errors(string html) =>
        string.Join(" | ", Regex.Matches(html, "data-testid=\"error-([^\"]+)\">([^<]*)<").Select(m => m.Groups[1].Value + ": " + m.Groups[2].Value));

    [Theory]
    [InlineData("p1-haoyaoshi-beijing.json")]
    [InlineData("p2-wangqu-tongxin.json")]
    [InlineData("p3-five-tiers.json")]
    [InlineData("p4-stored-value-tiers.json")]
    [InlineData("x1-spend-tiers-and-milestones.json")]
    [InlineData("x2-coupons-and-catalogue.json")]
    public async Task EveryReferenceProgram_SavedUnchangedThroughTheEditor_KeepsItsWholeFile(string sample)
    {
        var admin = await app.SignInAsync("admin");
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "programs", sample));
        var code = Regex.Match(json, "\"code\":\\s*\"([^\"]+)\"").Groups[1].Value;
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", json.Replace($"\"{code}\"", "\"CHAIN-A\"", StringComparison.Ordinal));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.ReadText());
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        var before = await DefinitionAsync(app.Org.ProgramA, version);

        var url = EditUrl(app.Org.ProgramA, version);
        var saved = await admin.PostFormPairsAsync(url + "?handler=Save", FormPairs(await admin.GetPageAsync(url)));
        Assert.True(saved.StatusCode == HttpStatusCode.Redirect, $"{sample}: {(int)saved.StatusCode} {string.Join(" | ", Regex.Matches(await saved.ReadText(), "data-testid=\"error-([^\"]+)\">([^<]*)<").Select(m => m.Groups[1].Value + ": " + m.Groups[2].Value))}");
        var after = await DefinitionAsync(app.Org.ProgramA, version);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(before), System.Text.Json.Nodes.JsonNode.Parse(after)), $"{sample} changed:\n{before}\n---\n{after}");
    }

    /// <summary>The editor's form as a browser would post it: every checked box of a name, every select's choice, every text.</summary>
    private static List<KeyValuePair<string, string>> FormPairs(string html)
    {
        var start = html.IndexOf("data-testid=\"settings-form\"", StringComparison.Ordinal);
        var form = html[start..html.IndexOf("</form>", start, StringComparison.Ordinal)];
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (Match tag in InputTag().Matches(form))
        {
            var a = Attributes(tag.Value);
            if (!a.TryGetValue("name", out var name) || name.StartsWith("__", StringComparison.Ordinal) || a.ContainsKey("disabled"))
            {
                continue;
            }

            if (a.GetValueOrDefault("type") is "checkbox" or "radio")
            {
                if (a.ContainsKey("checked"))
                {
                    pairs.Add(new(name, a.GetValueOrDefault("value") ?? "on"));
                }

                continue;
            }

            pairs.Add(new(name, a.GetValueOrDefault("value") ?? ""));
        }

        foreach (Match t in TextareaTag().Matches(form))
        {
            pairs.Add(new(WebUtility.HtmlDecode(Attributes(t.Groups[1].Value)["name"]), WebUtility.HtmlDecode(t.Groups[2].Value).TrimStart('\n').Replace("\r\n", "\n", StringComparison.Ordinal)));
        }

        foreach (Match sel in SelectTag().Matches(form))
        {
            var selected = Regex.Match(sel.Groups[2].Value, "<option value=\"([^\"]*)\" selected");
            var firstOption = Regex.Match(sel.Groups[2].Value, "<option value=\"([^\"]*)\"");
            pairs.Add(new(Attributes(sel.Groups[1].Value)["name"], WebUtility.HtmlDecode(selected.Success ? selected.Groups[1].Value : firstOption.Groups[1].Value)));
        }

        return pairs;
    }

    private static string J<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, ProgramFile.Json);

    private static string EditUrl(long program, int version) => $"/programs/{program}/versions/{version}/edit";

    private string Today() =>
        DateOnly.FromDateTime(app.Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).DateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private async Task<int> NewDraftAsync(ConsoleClient admin, long program)
    {
        var response = await admin.PostFormAsync($"/programs?handler=NewDraft&programId={program}", []);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var m = Regex.Match(response.Headers.Location!.OriginalString, @"/programs/\d+/versions/(\d+)/edit");
        Assert.True(m.Success, response.Headers.Location.OriginalString);
        return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private async Task<int> EnsurePublishedAsync(long program, string code)
    {
        var first = await app.WithDbAsync(db => db.ProgramVersions.Where(v => v.ProgramId == program && v.Version == 1).Select(v => (int?)v.Version).FirstOrDefaultAsync());
        if (first is not null)
        {
            return 1;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{program}/versions", Program.Replace("CODE", code, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{program}/versions/1/publish", new { })).StatusCode);
        return 1;
    }

    private Task<string> DefinitionAsync(long program, int version) =>
        app.WithDbAsync(db => db.ProgramVersions.AsNoTracking().Where(v => v.ProgramId == program && v.Version == version).Select(v => v.Definition).SingleAsync());

    private Task<ProgramVersionStatus> StatusAsync(long program, int version) =>
        app.WithDbAsync(db => db.ProgramVersions.AsNoTracking().Where(v => v.ProgramId == program && v.Version == version).Select(v => v.Status).SingleAsync());

    private async Task<int?> InForceAsync(long program, DateOnly date)
    {
        using var scope = app.Services.CreateScope();
        return (await scope.ServiceProvider.GetRequiredService<ProgramRules>().TryInForceAsync(program, date, TestContext.Current.CancellationToken))?.Version;
    }

    /// <summary>The settings form's fields as a browser would post them: inputs, checked boxes, textareas and selected options.</summary>
    public static Dictionary<string, string> FormFields(string html)
    {
        var start = html.IndexOf("data-testid=\"settings-form\"", StringComparison.Ordinal);
        var form = html[start..html.IndexOf("</form>", start, StringComparison.Ordinal)];
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match tag in InputTag().Matches(form))
        {
            var a = Attributes(tag.Value);
            if (!a.TryGetValue("name", out var name) || name.StartsWith("__", StringComparison.Ordinal))
            {
                continue;
            }

            if (a.GetValueOrDefault("type") == "checkbox")
            {
                if (a.ContainsKey("checked"))
                {
                    fields[name] = fields.TryGetValue(name, out var prior) ? prior : a.GetValueOrDefault("value") ?? "on";
                }

                continue;
            }

            fields[name] = a.GetValueOrDefault("value") ?? "";
        }

        foreach (Match t in TextareaTag().Matches(form))
        {
            fields[WebUtility.HtmlDecode(Attributes(t.Groups[1].Value)["name"])] = WebUtility.HtmlDecode(t.Groups[2].Value).TrimStart('\n').Replace("\r\n", "\n", StringComparison.Ordinal);
        }

        foreach (Match s in SelectTag().Matches(form))
        {
            var name = Attributes(s.Groups[1].Value)["name"];
            var selected = Regex.Match(s.Groups[2].Value, "<option value=\"([^\"]*)\" selected");
            var firstOption = Regex.Match(s.Groups[2].Value, "<option value=\"([^\"]*)\"");
            fields[name] = WebUtility.HtmlDecode(selected.Success ? selected.Groups[1].Value : firstOption.Groups[1].Value);
        }

        return fields;
    }

    private static Dictionary<string, string> Attributes(string tag) =>
        AttributePattern().Matches(tag).GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => WebUtility.HtmlDecode(g.First().Groups[2].Success ? g.First().Groups[2].Value : ""), StringComparer.Ordinal);

    [GeneratedRegex("<input\\b[^>]*>")]
    private static partial Regex InputTag();

    [GeneratedRegex("<textarea\\b([^>]*)>(.*?)</textarea>", RegexOptions.Singleline)]
    private static partial Regex TextareaTag();

    [GeneratedRegex("<select\\b([^>]*)>(.*?)</select>", RegexOptions.Singleline)]
    private static partial Regex SelectTag();

    [GeneratedRegex("([a-zA-Z][\\w-]*)(?:=\"([^\"]*)\")?")]
    private static partial Regex AttributePattern();
}

public sealed class ProgramSettingsSqliteTests(SqliteApp app) : ProgramSettingsTests(app), IClassFixture<SqliteApp>;

public sealed class ProgramSettingsPostgresTests(PostgresApp app) : ProgramSettingsTests(app), IClassFixture<PostgresApp>;
