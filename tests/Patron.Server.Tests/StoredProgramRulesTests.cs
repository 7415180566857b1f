using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Domain.Programs;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// A version stored under older rules of the program file: it keeps serving sales after a rule is
/// added (stored versions are read, not validated again), and a draft that breaks a new rule cannot be published.
/// </summary>
public abstract class StoredProgramRulesTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task AVersionStoredBeyondANewRule_KeepsSelling_ButADraftBreakingItIsNotPublished()
    {
        var admin = await app.SignInAsync("admin");
        var api = $"/api/programs/{app.Org.ProgramA}/versions";
        Assert.Equal(HttpStatusCode.Created, (await admin.Http.PostRaw(api, ProgramSettingsTests.Program.Replace("CODE", "CHAIN-A", StringComparison.Ordinal))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"{api}/1/publish", new { })).StatusCode);

        // Points kept 40,000 days: accepted before the 100-year bound, refused by it now.
        await StoreExpiryAsync(1, new JsonObject { ["kind"] = "after_days", ["after"] = 40_000 });
        Assert.Throws<Domain.Common.DomainException>(() => ProgramFile.Parse(StoredAsync(1).GetAwaiter().GetResult()));
        app.Clock.Advance(TimeSpan.FromMinutes(1)); // past the published rules' cache
        using var a1 = app.TerminalClient(app.Org.TerminalA1);
        var member = (await (await a1.PostJson("/api/members", new { name = "旧规则", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
        var sale = await a1.PostJson("/api/checkout/sales", new { orderNumber = $"OLD-{member}", memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } } });
        Assert.Equal(HttpStatusCode.OK, sale.StatusCode);
        Assert.True(await app.WithDbAsync(db => db.PointsLots.AnyAsync(l => l.MemberId == member && l.ExpiresAt > DateTime.UtcNow.AddYears(100))));

        // A draft copied from it would break the rule: refused, naming the field (head office imports a corrected file instead).
        await MembersApiTests.AssertProblem(await admin.Http.PostJson($"{api}/from-in-force", new { }), HttpStatusCode.UnprocessableEntity, "program.invalid", ("expiry.after", "program.invalid"));

        // A draft stored with a year-end cut-off not every year has is refused at publishing, beside the field.
        var imported = await admin.Http.PostRaw(api, ProgramSettingsTests.Program.Replace("CODE", "CHAIN-A", StringComparison.Ordinal).Replace("2026-01-01", app.Clock.GetUtcNow().AddDays(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var draft = (await imported.ReadJson()).GetProperty("version").GetInt32();
        await StoreExpiryAsync(draft, new JsonObject { ["kind"] = "end_of_year", ["cutoffMonthDay"] = "02-29" });
        var refused = await admin.Http.PostJson($"{api}/{draft}/publish", new { });
        await MembersApiTests.AssertProblem(refused, HttpStatusCode.UnprocessableEntity, "program.invalid", ("expiry.cutoffMonthDay", "program.invalid"));
        Assert.Equal(ProgramVersionStatus.Draft, await app.WithDbAsync(db => db.ProgramVersions.Where(v => v.ProgramId == app.Org.ProgramA && v.Version == draft).Select(v => v.Status).SingleAsync()));
    }

    private Task<string> StoredAsync(int version) =>
        app.WithDbAsync(db => db.ProgramVersions.Where(v => v.ProgramId == app.Org.ProgramA && v.Version == version).Select(v => v.Definition).SingleAsync());

    private async Task StoreExpiryAsync(int version, JsonObject expiry)
    {
        var file = JsonNode.Parse(await StoredAsync(version))!.AsObject();
        file["expiry"] = expiry;
        var json = file.ToJsonString();
        await app.WithDbAsync(db => db.ProgramVersions.Where(v => v.ProgramId == app.Org.ProgramA && v.Version == version).ExecuteUpdateAsync(s => s.SetProperty(v => v.Definition, json)));
    }
}

public sealed class StoredProgramRulesSqliteTests(SqliteApp app) : StoredProgramRulesTests(app), IClassFixture<SqliteApp>;

public sealed class StoredProgramRulesPostgresTests(PostgresApp app) : StoredProgramRulesTests(app), IClassFixture<PostgresApp>;
