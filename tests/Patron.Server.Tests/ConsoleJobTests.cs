using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Data;
using Patron.Server.Features.Jobs;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Jobs;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Long console jobs on each database: a simulation job ends with the synchronous report, an
/// export job's file is the synchronous export (masked, audited), progress is saved while a job
/// runs, a job is its staff member's only, a job whose runner died is taken up again, a failure
/// keeps its code, and finished jobs and files are gone after a day.
/// </summary>
public abstract class ConsoleJobTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Today => DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime.AddHours(8)).ToString("yyyy-MM-dd");

    [Fact]
    public async Task SimulationJob_EndsWithTheReportOfTheSynchronousSimulate()
    {
        var (admin, version) = await DraftWithSalesAsync();
        var body = new { from = Today, to = Today };
        var sync = await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/simulate", body);
        Assert.Equal(HttpStatusCode.OK, sync.StatusCode);

        var queued = await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/simulations", body);
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        var id = (await queued.ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal($"/api/jobs/{id}", queued.Headers.Location!.OriginalString);
        var job = await WaitAsync(admin, id);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal("simulation", job.GetProperty("kind").GetString());
        Assert.Equal(1, job.GetProperty("fraction").GetDouble());
        var expected = (await sync.ReadJson()).Deserialize<SimulationReport>(JsonSerializerOptions.Web)!;
        var actual = job.GetProperty("result").Deserialize<SimulationReport>(JsonSerializerOptions.Web)!;
        Assert.True(expected.Sales >= 1);
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));

        // The console: the editor's simulate queues a job and shows its page, with the report and the way back to publish.
        var editor = $"/programs/{app.Org.ProgramA}/versions/{version}/edit";
        await admin.GetPageAsync(editor);
        var posted = await admin.PostFormAsync(editor + "?handler=Simulate", new() { ["From"] = Today, ["To"] = Today });
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var page = posted.Headers.Location!.OriginalString;
        Assert.Matches("^/jobs/[0-9]+$", page);
        await WaitAsync(admin, long.Parse(page[6..], System.Globalization.CultureInfo.InvariantCulture));
        var done = await admin.GetPageAsync(page);
        Assert.Contains("data-testid=\"simulation\"", done);
        Assert.Contains($"href=\"{editor}\" data-testid=\"job-back\"", done);
        Assert.DoesNotContain("hx-trigger=\"every 1s\"", done);
        Assert.Contains($"href=\"{page}\"", await admin.GetPageAsync("/jobs"));

        // The permission of the synchronous simulate applies when the job is queued.
        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/simulations", body)).StatusCode);
        var otherChain = await app.SignInAsync("admin");
        await AssertProblem(await otherChain.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/999/simulations", body), HttpStatusCode.NotFound, "program.version_not_found");
    }

    [Fact]
    public async Task MemberExportJob_FileIsTheSynchronousExport_MaskedAndAuditedTheSameWay()
    {
        await EnsureProgramAsync();
        var phones = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var phone = PatronApp.NewPhone();
            phones.Add(phone);
            Assert.Equal(HttpStatusCode.Created, (await _a1.PostJson("/api/members", new { name = "导出会员" + i, mobile = phone })).StatusCode);
        }

        var manager = await app.SignInAsync("manager-a");
        var audited = await ExportAuditsAsync();
        var queued = await manager.Http.PostJson("/api/members/exports", new { storeId = app.Org.StoreA1, status = "active" });
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        var id = (await queued.ReadJson()).GetProperty("id").GetInt64();
        var job = await WaitAsync(manager, id);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal($"/api/jobs/{id}/file", job.GetProperty("fileUrl").GetString());
        Assert.Equal(audited + 1, await ExportAuditsAsync());

        var file = await manager.Http.Get($"/api/jobs/{id}/file");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.True(file.Headers.CacheControl?.NoStore);
        Assert.StartsWith("text/csv", file.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var bytes = await file.Content.ReadAsByteArrayAsync(Ct);
        var sync = await (await manager.Http.Get($"/api/members/export.csv?storeId={app.Org.StoreA1}&status=active")).Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(sync, bytes);
        var csv = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.Contains("导****", csv, StringComparison.Ordinal);
        Assert.All(phones, p => Assert.DoesNotContain(p, csv, StringComparison.Ordinal));
        var entry = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "members.exported").OrderByDescending(a => a.Id).Skip(1).FirstAsync());
        Assert.Contains("active", entry.Detail ?? "", StringComparison.Ordinal);

        // The member list's export button starts the same job and shows its page with the download link.
        await manager.GetPageAsync("/members");
        var posted = await manager.PostFormAsync("/members?handler=Export", new() { ["storeId"] = app.Org.StoreA1.ToString(System.Globalization.CultureInfo.InvariantCulture), ["status"] = "active" });
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var page = posted.Headers.Location!.OriginalString;
        var second = long.Parse(page[6..], System.Globalization.CultureInfo.InvariantCulture);
        await WaitAsync(manager, second);
        Assert.Contains($"href=\"/api/jobs/{second}/file\"", await manager.GetPageAsync(page));
        Assert.Equal(sync, await (await manager.Http.Get($"/api/jobs/{second}/file")).Content.ReadAsByteArrayAsync(Ct));

        // The scope of the synchronous export applies when the job is queued.
        var cashier = await app.SignInAsync("cashier-a1");
        await AssertProblem(await cashier.Http.PostJson("/api/members/exports", new { storeId = app.Org.StoreA2 }), HttpStatusCode.Forbidden, "scope.store_forbidden");
        await AssertProblem(await cashier.Http.PostJson("/api/members/exports", new { from = "2026-02-01", to = "2026-01-01" }), HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task Progress_IsSavedBetweenZeroAndOne_WhileTheJobRuns()
    {
        await EnsureProgramAsync();
        for (var i = 0; i < 2; i++)
        {
            await _a1.PostJson("/api/members", new { name = "进度会员" + i, mobile = PatronApp.NewPhone() });
        }

        var admin = await app.SignInAsync("admin");
        using (var hold = app.JobProbe.HoldNext())
        {
            var queued = await admin.Http.PostJson("/api/members/exports", new { });
            var id = (await queued.ReadJson()).GetProperty("id").GetInt64();
            var (held, fraction) = await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            Assert.Equal(id, held);
            Assert.InRange(fraction, double.Epsilon, 0.999);

            // The run is held at that report: its row shows it (saved within a second) and the page polls.
            JsonElement job;
            var until = DateTime.UtcNow.AddSeconds(30);
            do
            {
                await Task.Delay(50, Ct);
                job = await (await admin.Http.Get($"/api/jobs/{id}")).ReadJson();
            }
            while (job.GetProperty("fraction").GetDouble() == 0 && DateTime.UtcNow < until);

            Assert.Equal("running", job.GetProperty("status").GetString());
            Assert.Equal(fraction, job.GetProperty("fraction").GetDouble());
            var page = await admin.GetPageAsync($"/jobs/{id}");
            Assert.Contains("hx-trigger=\"every 1s\"", page);
            Assert.Contains("data-testid=\"job-leave\"", page);
            Assert.Contains("data-testid=\"job-status\">进行中", page);
            Assert.Contains($"hx-get=\"/jobs/{id}?handler=Panel\"", page);
            Assert.Contains("data-status=\"running\"", await admin.GetPageAsync($"/jobs/{id}?handler=Panel"));
            hold.Released.Set();
            Assert.Equal(1, (await WaitAsync(admin, id)).GetProperty("fraction").GetDouble());
        }
    }

    [Fact]
    public async Task AJob_IsItsStaffMembersOnly_AndTheFileNeedsThePermissionStill()
    {
        await EnsureProgramAsync();
        await _a1.PostJson("/api/members", new { name = "范围会员", mobile = PatronApp.NewPhone() });
        var staffId = await app.WithDbAsync(async db =>
        {
            var a1 = await db.Stores.Where(s => s.Code == "A1").Select(s => s.Id).SingleAsync();
            var a2 = await db.Stores.Where(s => s.Code == "A2").Select(s => s.Id).SingleAsync();
            var staff = new Patron.Domain.Organisation.Staff("exporter-" + Guid.NewGuid().ToString("N")[..6], "导出员", Patron.Domain.Organisation.StaffRole.StoreManager, [a1, a2]);
            staff.SetPasswordHash(Patron.Server.Features.Staff.StaffSignIn.HashPassword(staff, PatronApp.Password));
            db.Staff.Add(staff);
            await db.SaveChangesAsync();
            return staff.Id;
        });
        var login = await app.WithDbAsync(db => db.Staff.Where(s => s.Id == staffId).Select(s => s.Login).SingleAsync());
        var exporter = await app.SignInAsync(login);
        var id = (await (await exporter.Http.PostJson("/api/members/exports", new { storeId = app.Org.StoreA1 })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal("completed", (await WaitAsync(exporter, id)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await exporter.Http.Get($"/api/jobs/{id}/file")).StatusCode);

        foreach (var other in new[] { "admin", "manager-a" })
        {
            var console = await app.SignInAsync(other);
            await AssertProblem(await console.Http.Get($"/api/jobs/{id}"), HttpStatusCode.NotFound, "job.not_found");
            await AssertProblem(await console.Http.Get($"/api/jobs/{id}/file"), HttpStatusCode.NotFound, "job.not_found");
            Assert.Equal(HttpStatusCode.NotFound, (await console.GetAsync($"/jobs/{id}")).StatusCode);
            Assert.DoesNotContain($"href=\"/jobs/{id}\"", await console.GetPageAsync("/jobs"));
        }

        // Moved off store A1: the file of A1's members is refused; disabled: refused too.
        await app.WithDbAsync(async db =>
        {
            var staff = await db.Staff.Include(s => s.Stores).SingleAsync(s => s.Id == staffId);
            staff.Update(staff.DisplayName, staff.Role, [app.Org.StoreA2]);
            return await db.SaveChangesAsync();
        });
        exporter = await app.SignInAsync(login);
        await AssertProblem(await exporter.Http.Get($"/api/jobs/{id}/file"), HttpStatusCode.Forbidden, "scope.store_forbidden");
        await app.WithDbAsync(async db =>
        {
            var staff = await db.Staff.SingleAsync(s => s.Id == staffId);
            staff.Update(staff.DisplayName, staff.Role, [app.Org.StoreA1]);
            staff.SetActive(false);
            return await db.SaveChangesAsync();
        });
        using var scope = app.Services.CreateScope();
        var jobs = scope.ServiceProvider.GetRequiredService<ConsoleJobs>();
        var caller = CallerScope.From(new ClaimsPrincipal(PatronClaims.ForStaff(await app.WithDbAsync(db => db.Staff.Include(s => s.Stores).SingleAsync(s => s.Id == staffId)), [app.Org.StoreA1], [app.Org.ProgramA], "test")));
        var refused = await Assert.ThrowsAsync<ProblemException>(() => jobs.FileAsync(id, caller, Ct));
        Assert.Equal("job.not_allowed", refused.Code);
    }

    [Fact]
    public async Task AJobWhoseRunnerDied_IsTakenUpAgain_AndCompletes()
    {
        await EnsureProgramAsync();
        var admin = await app.SignInAsync("admin");
        var adminId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "admin").Select(s => s.Id).SingleAsync());
        var now = app.Clock.GetUtcNow().UtcDateTime;
        var stale = await app.WithDbAsync(async db =>
        {
            var job = new ConsoleJob(ConsoleJobKind.MemberExport, adminId, "{}", now.AddMinutes(-5))
            {
                Status = ConsoleJobStatus.Running,
                Attempts = 1,
                StartedAt = now.AddMinutes(-5),
                HeartbeatAt = now.AddMinutes(-2),
                Fraction = 0.4,
            };
            db.ConsoleJobs.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });

        // Queuing another job wakes the runner, which takes up the abandoned one first.
        var next = (await (await admin.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        var job = await WaitAsync(admin, stale);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(2, job.GetProperty("attempts").GetInt32());
        Assert.Equal("completed", (await WaitAsync(admin, next)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.Get($"/api/jobs/{stale}/file")).StatusCode);
    }

    [Fact]
    public async Task AFailedJob_ShowsItsProblemCode()
    {
        var (admin, version) = await DraftWithSalesAsync();
        var queued = await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/simulations", new { from = Today, to = "2020-01-01" });
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        var id = (await queued.ReadJson()).GetProperty("id").GetInt64();
        var job = await WaitAsync(admin, id);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal("simulation.period_invalid", job.GetProperty("errorCode").GetString());
        var page = await admin.GetPageAsync($"/jobs/{id}");
        Assert.Contains("data-testid=\"job-error\"", page);
        Assert.Contains("simulation.period_invalid", page);
        Assert.Contains("data-testid=\"job-status\">失败", page);
    }

    [Fact]
    public async Task FinishedJobsAndTheirFiles_AreGoneAfterADay()
    {
        await EnsureProgramAsync();
        var admin = await app.SignInAsync("admin");
        var id = (await (await admin.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        await WaitAsync(admin, id);
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsoleJobFiles.CountAsync(f => f.JobId == id)));
        var options = app.Services.GetRequiredService<ConsoleJobOptions>();
        var before = app.Clock.GetUtcNow();
        try
        {
            app.Clock.Advance(TimeSpan.FromHours(23));
            await app.WithDbAsync(db => ConsoleJobRunner.CleanUpAsync(db, app.Clock, options, Ct));
            Assert.Equal(1, await app.WithDbAsync(db => db.ConsoleJobFiles.CountAsync(f => f.JobId == id)));

            app.Clock.Advance(TimeSpan.FromHours(1.5));
            admin = await app.SignInAsync("admin");
            await AssertProblem(await admin.Http.Get($"/api/jobs/{id}/file"), HttpStatusCode.NotFound, "job.file_not_found");
            Assert.True(await app.WithDbAsync(db => ConsoleJobRunner.CleanUpAsync(db, app.Clock, options, Ct)) >= 1);
            Assert.Equal(0, await app.WithDbAsync(db => db.ConsoleJobFiles.CountAsync(f => f.JobId == id)));
            Assert.False(await app.WithDbAsync(db => db.ConsoleJobs.AnyAsync(j => j.Id == id)));
            await AssertProblem(await admin.Http.Get($"/api/jobs/{id}"), HttpStatusCode.NotFound, "job.not_found");
        }
        finally
        {
            app.Clock.Set(before);
        }
    }

    /// <summary>Follows a job until it ends; its last state.</summary>
    public static async Task<JsonElement> WaitAsync(ConsoleClient console, long id)
    {
        var until = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var response = await console.Http.Get($"/api/jobs/{id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = await response.ReadJson();
            if (job.GetProperty("status").GetString() is "completed" or "failed")
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < until, $"job {id} did not end: {job}");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>The page of the job a console form started (the form redirects there), once the job has ended.</summary>
    public static async Task<string> JobPageAsync(ConsoleClient console, HttpResponseMessage started)
    {
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var page = started.Headers.Location!.OriginalString;
        Assert.StartsWith("/jobs/", page, StringComparison.Ordinal);
        await WaitAsync(console, long.Parse(page["/jobs/".Length..], System.Globalization.CultureInfo.InvariantCulture));
        return await console.GetPageAsync(page);
    }

    private Task<int> ExportAuditsAsync() => app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "members.exported"));

    /// <summary>Program A in force with a sale of today, and a draft (v2 or later) with other earning.</summary>
    private async Task<(ConsoleClient Admin, int Version)> DraftWithSalesAsync()
    {
        var admin = await app.SignInAsync("admin");
        if (!await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            var first = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", ProgramEngineApiTests.ProgramA);
            var v1 = (await first.ReadJson()).GetProperty("version").GetInt32();
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{v1}/publish", new { })).StatusCode);
            var member = (await (await _a1.PostJson("/api/members", new { name = "模拟会员", mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();
            var sale = await _a1.PostJson("/api/checkout/sales", new { orderNumber = "JOB-" + Guid.NewGuid().ToString("N")[..8], memberId = member, lines = new[] { new { sku = "MET", quantity = 2, unitPrice = 3_000 } } });
            Assert.True(sale.IsSuccessStatusCode, await sale.ReadText());
        }

        var draftFile = ProgramEngineApiTests.ProgramA
            .Replace("\"amountPerPoint\": 100", "\"amountPerPoint\": 50", StringComparison.Ordinal)
            .Replace("\"effectiveFrom\": \"2026-01-01\"", "\"effectiveFrom\": \"2099-01-01\"", StringComparison.Ordinal);
        var draft = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", draftFile);
        Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
        return (admin, (await draft.ReadJson()).GetProperty("version").GetInt32());
    }

    private async Task EnsureProgramAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        await DraftWithSalesAsync();
    }
}

public sealed class ConsoleJobSqliteTests(SqliteApp app) : ConsoleJobTests(app), IClassFixture<SqliteApp>;

public sealed class ConsoleJobPostgresTests(PostgresApp app) : ConsoleJobTests(app), IClassFixture<PostgresApp>;
