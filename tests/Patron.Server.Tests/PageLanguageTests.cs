using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>A host whose string lookups are watched for translations the language lacks.</summary>
public sealed class TranslationWatchedApp : SqliteApp
{
    public TranslationWatch Translations { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => TranslationWatch.Register(s, Translations));
    }
}

/// <summary>
/// Walks the console's pages as each role, in Chinese (the default) and in English, with a member
/// whose file, consents, health file and follow-ups are filled, and fails on any string the
/// language lacks: a Chinese page showing English, or an English page showing a code.
/// </summary>
public sealed class PageLanguageTests(TranslationWatchedApp app) : IClassFixture<TranslationWatchedApp>
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task EveryPage_RendersInChineseAndEnglish_WithoutAMissingString()
    {
        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", """{ "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01", "tiers": [ { "code": "standard", "name": "普通" } ] }""");
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
        var draft = (await (await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", """{ "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01", "tiers": [ { "code": "standard", "name": "普通" } ], "pricing": { "discounts": [ { "id": "lunar", "percentOff": 5, "when": { "lunarDaysOfMonth": [8, 18, 28] } } ] } }""")).ReadJson()).GetProperty("version").GetInt32();

        using var a1 = app.TerminalClient(app.Org.TerminalA1);
        var name = "走查会员";
        var member = (await (await a1.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone(), birthday = "1960-03-04" })).ReadJson()).GetProperty("id").GetInt64();
        var twin = (await (await a1.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone(), birthday = "1960-03-04" })).ReadJson()).GetProperty("id").GetInt64();
        await a1.PutJson($"/api/members/{member}/profile", new { district = "朝阳区", insured = true, insuranceType = "resident", interests = new[] { "diabetes" }, tags = new[] { "常客" }, lunarBirthday = true });
        await a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "paper" });
        await a1.PostJson($"/api/members/{member}/consents", new { kind = "marketing_sms", granted = false, source = "phone" });
        await a1.PutJson($"/api/members/{member}/health", new { conditions = new[] { "糖尿病" }, allergies = new[] { "青霉素类" }, medicines = new[] { new { name = "二甲双胍", sku = "MET", dailyDose = 2, packSize = 60 } } });
        await a1.PostJson("/api/checkout/sales", new { orderNumber = "WALK-1", memberId = member, lines = new[] { new { sku = "MET", quantity = 1, unitPrice = 3_000 } } });
        await admin.Http.PostJson($"/api/members/{member}/care-tasks", new { kind = "call", dueOn = "2026-01-02", storeId = app.Org.StoreA1 });
        var sold = await app.WithDbAsync(db => db.Sales.Where(s => s.OrderNumber == "WALK-1").Select(s => s.Id).FirstAsync());
        string[] deskPages = ["/desk", $"/desk/{member}", $"/desk/{member}/redeem", $"/desk/sales/{sold}"];

        string[] tabs = [.. new[] { "points", "stored", "sales", "coupons", "tiers", "care", "audit" }.Select(t => $"/members/{member}?tab={t}"), $"/members/{member}?tab=coupons&state=used"];
        string[] memberPages = [$"/members/{member}", .. tabs, $"/members/{member}/profile", $"/members/{member}/health", $"/members/{member}/unmask", $"/members/{member}/data-export", $"/members/{member}/care"];
        var cashierA1 = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "cashier-a1").Select(s => s.Id).SingleAsync());
        string[] storePages = [$"/stores/{app.Org.StoreA1}", $"/staff/{cashierA1}"];
        string[] programPages = [$"/programs/{app.Org.ProgramA}/versions/{version}/edit", $"/programs/{app.Org.ProgramA}/versions/{draft}/edit?month=2026-11"];
        var jobIds = new List<long>();
        foreach (var (url, body) in new (string, object)[]
        {
            ($"/api/programs/{app.Org.ProgramA}/versions/{draft}/simulations", new { }),
            ($"/api/programs/{app.Org.ProgramA}/versions/{draft}/simulations", new { from = "2026-02-01", to = "2026-01-01" }),
            ("/api/members/exports", new { }),
        })
        {
            var job = (await (await admin.Http.PostJson(url, body)).ReadJson()).GetProperty("id").GetInt64();
            await ConsoleJobTests.WaitAsync(admin, job);
            jobIds.Add(job);
        }

        string[] jobPages = ["/jobs", .. jobIds.Select(j => $"/jobs/{j}")];
        string[] pages = [.. storePages, .. programPages, .. jobPages, "/", "/members", "/members?sort=points&status=active&from=2026-01-01", "/members?from=2026-02-01&to=2026-01-01", "/members/duplicates", $"/members/merge?a={member}&b={twin}", "/care", "/coupons", "/catalogue", "/finance/liability", "/import", "/programs", "/stores", "/staff", "/audit", "/audit?sort=action&action=member.", "/audit?sort=oldest&from=2026-02-01&to=2026-01-01", "/denied", .. memberPages, .. deskPages];
        var walks = new (string Login, string[] Pages)[]
        {
            ("admin", pages),
            ("cashier-a1", ["/", "/members", "/care", $"/programs/{app.Org.ProgramA}/versions/{draft}/edit", .. deskPages, .. memberPages.Where(p => !p.EndsWith("/unmask", StringComparison.Ordinal) && !p.EndsWith("/data-export", StringComparison.Ordinal))]),
            ("auditor", ["/", "/finance/liability", "/audit", "/audit?sort=store", "/members", $"/members/{member}", .. tabs]),
            ("manager-a", ["/", "/stores", "/care", "/catalogue", "/audit", "/finance/liability", .. storePages]),
        };

        foreach (var culture in new[] { "zh-CN", "en" })
        {
            foreach (var (login, list) in walks)
            {
                var console = await app.SignInAsync(login);
                await console.GetPageAsync("/");
                Assert.Equal(HttpStatusCode.Redirect, (await console.PostFormAsync("/culture", new() { ["culture"] = culture, ["returnUrl"] = "/" })).StatusCode);
                foreach (var page in list)
                {
                    var response = await console.GetAsync(page);
                    var expected = page == "/denied" ? HttpStatusCode.Forbidden : page.Contains("to=2026-01-01", StringComparison.Ordinal) ? HttpStatusCode.BadRequest : HttpStatusCode.OK;
                    Assert.True(response.StatusCode == expected, $"{login} {culture} {page}: {(int)response.StatusCode}");
                }
            }
        }

        // The anonymous pages.
        using var anonymous = app.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/login", TestContext.Current.CancellationToken)).StatusCode);

        Assert.True(app.Translations.Missing.IsEmpty, "Strings the language lacks:\n" + string.Join("\n", app.Translations.Missing.Keys.Order(StringComparer.Ordinal)));
    }
}
