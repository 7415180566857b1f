using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
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

        // The runner cleans up between runs: held in a run, it cannot delete the job before the download below.
        await _a1.PostJson("/api/members", new { name = "清理会员甲", mobile = PatronApp.NewPhone() });
        await _a1.PostJson("/api/members", new { name = "清理会员乙", mobile = PatronApp.NewPhone() });
        using var hold = app.JobProbe.HoldNext();
        var busy = (await (await admin.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal(busy, (await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct)).JobId);
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
            hold.Released.Set();
            await WaitAsync(admin, busy);
            app.Clock.Set(before);
        }
    }

    [Fact]
    public async Task AnExportFile_IsGivenOnlyToWhoStillCoversEveryStoreItHolds()
    {
        await EnsureProgramAsync();
        var inA1 = await EnrolAsync(_a1, "范围甲");
        var inA2 = await EnrolAsync(app.TerminalClient(app.Org.TerminalA2), "范围乙");

        // A store manager of A1 and A2 exports without a store filter (both stores), then is moved off A2.
        var (managerId, manager) = await NewStaffAsync(Patron.Domain.Organisation.StaffRole.StoreManager, app.Org.StoreA1, app.Org.StoreA2);
        var mine = (await (await manager.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        var job = await WaitAsync(manager, mine);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        var csv = await (await manager.Http.Get($"/api/jobs/{mine}/file")).ReadText();
        Assert.Contains($"\r\n{inA1},", csv, StringComparison.Ordinal);
        Assert.Contains($"\r\n{inA2},", csv, StringComparison.Ordinal);
        await MoveAsync(managerId, Patron.Domain.Organisation.StaffRole.StoreManager, app.Org.StoreA1);
        manager = await app.SignInAsync(await LoginOfAsync(managerId));
        await AssertProblem(await manager.Http.Get($"/api/jobs/{mine}/file"), HttpStatusCode.Forbidden, "scope.store_forbidden");
        await AssertProblem(await manager.Http.Get($"/api/jobs/{mine}"), HttpStatusCode.Forbidden, "scope.store_forbidden");

        // An administrator exports every store, then becomes a store manager of A1 and A2: not every store any more.
        var (adminId, admin) = await NewStaffAsync(Patron.Domain.Organisation.StaffRole.Admin);
        var all = (await (await admin.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal("completed", (await WaitAsync(admin, all)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.Get($"/api/jobs/{all}/file")).StatusCode);
        await MoveAsync(adminId, Patron.Domain.Organisation.StaffRole.StoreManager, app.Org.StoreA1, app.Org.StoreA2);
        admin = await app.SignInAsync(await LoginOfAsync(adminId));
        await AssertProblem(await admin.Http.Get($"/api/jobs/{all}/file"), HttpStatusCode.Forbidden, "scope.store_forbidden");

        // Given A2 back, the manager has the file again.
        await MoveAsync(managerId, Patron.Domain.Organisation.StaffRole.StoreManager, app.Org.StoreA1, app.Org.StoreA2);
        manager = await app.SignInAsync(await LoginOfAsync(managerId));
        Assert.Equal(csv, await (await manager.Http.Get($"/api/jobs/{mine}/file")).ReadText());
    }

    [Fact]
    public async Task AJob_IsNotShownToWhoLostThePermissionOfItsKind()
    {
        var (_, version) = await DraftWithSalesAsync();
        var (staffId, marketing) = await NewStaffAsync(Patron.Domain.Organisation.StaffRole.Marketing);
        var queued = await marketing.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/simulations", new { from = Today, to = Today });
        var id = (await queued.ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal("completed", (await WaitAsync(marketing, id)).GetProperty("status").GetString());
        Assert.Contains("data-testid=\"simulation\"", await marketing.GetPageAsync($"/jobs/{id}"));

        // Demoted out of program management: neither the job nor its page (with the report).
        await MoveAsync(staffId, Patron.Domain.Organisation.StaffRole.StoreManager, app.Org.StoreA1);
        marketing = await app.SignInAsync(await LoginOfAsync(staffId));
        await AssertProblem(await marketing.Http.Get($"/api/jobs/{id}"), HttpStatusCode.Forbidden, "job.not_allowed");
        var page = await marketing.GetAsync($"/jobs/{id}");
        Assert.NotEqual(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("data-testid=\"simulation\"", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.OK, (await marketing.GetAsync($"/jobs/{id}?handler=Panel")).StatusCode);
    }

    [Fact]
    public async Task EachDownload_IsAudited_AndTheExportEntryNamesTheJob()
    {
        await EnsureProgramAsync();
        var manager = await app.SignInAsync("manager-a");
        var id = (await (await manager.Http.PostJson("/api/members/exports", new { storeId = app.Org.StoreA1 })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal("completed", (await WaitAsync(manager, id)).GetProperty("status").GetString());
        var exported = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "members.exported").OrderByDescending(a => a.Id).FirstAsync());
        Assert.Contains($"\"jobId\":{id}", exported.Detail ?? "", StringComparison.Ordinal);

        Task<List<Patron.Domain.Audit.AuditEntry>> DownloadsAsync() => app.WithDbAsync(db => db.AuditLog.AsNoTracking()
            .Where(a => a.Action == "members.export_downloaded" && a.EntityType == "console_job" && a.EntityId == id).ToListAsync());
        Assert.Empty(await DownloadsAsync());
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.Get($"/api/jobs/{id}/file")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.Get($"/api/jobs/{id}/file")).StatusCode);
        var downloads = await DownloadsAsync();
        Assert.Equal(2, downloads.Count);
        var managerId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "manager-a").Select(s => s.Id).SingleAsync());
        Assert.All(downloads, d => Assert.Equal(managerId, d.ActorId));

        // A refused download is not recorded as one; the audit page names the action in Chinese.
        var cashier = await app.SignInAsync("cashier-a1");
        await AssertProblem(await cashier.Http.Get($"/api/jobs/{id}/file"), HttpStatusCode.NotFound, "job.not_found");
        Assert.Equal(2, (await DownloadsAsync()).Count);
        Assert.Contains("下载会员导出文件", await (await app.SignInAsync("admin")).GetPageAsync("/audit?action=members.export_downloaded"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStaleJobOnItsLastAttempt_FailsInsteadOfRunningAgain()
    {
        await EnsureProgramAsync();
        var admin = await app.SignInAsync("admin");
        var adminId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "admin").Select(s => s.Id).SingleAsync());
        var now = app.Clock.GetUtcNow().UtcDateTime;
        var audits = await ExportAuditsAsync();
        var stale = await app.WithDbAsync(async db =>
        {
            var job = new ConsoleJob(ConsoleJobKind.MemberExport, adminId, "{}", now.AddMinutes(-10))
            {
                Status = ConsoleJobStatus.Running,
                Attempts = ConsoleJobRunner.MaxAttempts,
                StartedAt = now.AddMinutes(-10),
                HeartbeatAt = now.AddMinutes(-2),
            };
            db.ConsoleJobs.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });

        // Queuing another job wakes the runner: the abandoned one fails, the new one runs.
        var next = (await (await admin.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        Assert.Equal("completed", (await WaitAsync(admin, next)).GetProperty("status").GetString());
        var job = await WaitAsync(admin, stale);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal("job.stopped", job.GetProperty("errorCode").GetString());
        Assert.Equal(ConsoleJobRunner.MaxAttempts, job.GetProperty("attempts").GetInt32());
        Assert.Equal(audits + 1, await ExportAuditsAsync());
    }

    [Fact]
    public async Task AJobBrokenOffByTheServersStop_GoesBackToTheQueueWithoutCountingAnAttempt()
    {
        for (var i = 0; i < 2; i++)
        {
            await EnrolAsync(_a1, "停机会员" + i);
        }

        var admin = await app.SignInAsync("admin");
        var adminId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "admin").Select(s => s.Id).SingleAsync());

        // This node's runner is held in one job ...
        using var busy = app.JobProbe.HoldNext();
        var first = (await (await admin.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        await busy.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        // ... so a second node's runner takes the next one, and its server stops while it runs.
        using var held = app.JobProbe.HoldNext();
        var second = await app.WithDbAsync(async db =>
        {
            var job = new ConsoleJob(ConsoleJobKind.MemberExport, adminId, "{}", app.Clock.GetUtcNow().UtcDateTime);
            db.ConsoleJobs.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });
        using var node = new ConsoleJobRunner(app.Services.GetRequiredService<IServiceScopeFactory>(), app.Services.GetRequiredService<ConsoleJobOptions>(), new ConsoleJobSignal(),
            app.Services.GetRequiredService<Microsoft.AspNetCore.Authorization.IAuthorizationService>(), app.Clock,
            app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ConsoleJobRunner>>(), app.JobProbe);
        await node.StartAsync(Ct);
        Assert.Equal(second, (await held.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct)).JobId);
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsoleJobs.Where(j => j.Id == second).Select(j => j.Attempts).SingleAsync()));
        var stopping = node.StopAsync(CancellationToken.None);
        held.Released.Set();
        await stopping.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        var requeued = await app.WithDbAsync(db => db.ConsoleJobs.AsNoTracking().SingleAsync(j => j.Id == second));
        Assert.Equal(ConsoleJobStatus.Queued, requeued.Status);
        Assert.Equal(0, requeued.Attempts);

        // This node then runs both: the second on its first counted attempt.
        busy.Released.Set();
        Assert.Equal("completed", (await WaitAsync(admin, first)).GetProperty("status").GetString());
        var done = await WaitAsync(admin, second);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task AFailedHeartbeat_DoesNotEndTheHeartbeatOfTheRun()
    {
        for (var i = 0; i < 2; i++)
        {
            await EnrolAsync(_a1, "心跳会员" + i);
        }

        var admin = await app.SignInAsync("admin");
        using var hold = app.JobProbe.HoldNext();
        var id = (await (await admin.Http.PostJson("/api/members/exports", new { })).ReadJson()).GetProperty("id").GetInt64();
        await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        // Heartbeat saves fail for a while (as on a dropped connection), then the database is fine again.
        var sqlite = app is SqliteApp;
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(sqlite
            ? "CREATE TRIGGER hb_fail BEFORE UPDATE OF heartbeat_at ON console_jobs BEGIN SELECT RAISE(ABORT, 'connection lost'); END;"
            : "CREATE FUNCTION hb_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'connection lost'; END $$; "
              + "CREATE TRIGGER hb_fail BEFORE UPDATE OF heartbeat_at ON console_jobs FOR EACH ROW EXECUTE FUNCTION hb_fail();"));
        try
        {
            var progressEvery = app.Services.GetRequiredService<ConsoleJobOptions>().ProgressEvery;
            await Task.Delay(progressEvery * 3, Ct);
        }
        finally
        {
            await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(sqlite ? "DROP TRIGGER hb_fail;" : "DROP TRIGGER hb_fail ON console_jobs; DROP FUNCTION hb_fail();"));
        }

        // The run (held at a report) still beats: its heartbeat follows the clock again.
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var clock = app.Clock.GetUtcNow().UtcDateTime.AddSeconds(-1); // PostgreSQL keeps microseconds
        var until = DateTime.UtcNow.AddSeconds(30);
        DateTime? beat;
        do
        {
            await Task.Delay(100, Ct);
            beat = await app.WithDbAsync(db => db.ConsoleJobs.Where(j => j.Id == id).Select(j => j.HeartbeatAt).SingleAsync());
        }
        while (beat < clock && DateTime.UtcNow < until);

        Assert.True(beat >= clock, $"heartbeat {beat:O} stopped before the clock {clock:O}");
        hold.Released.Set();
        Assert.Equal("completed", (await WaitAsync(admin, id)).GetProperty("status").GetString());
        Assert.Equal(1, (await WaitAsync(admin, id)).GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task TheHeartbeatLoop_GoesOnAfterAFailedSave_AndEndsOnlyWhenStopped()
    {
        using var stop = new CancellationTokenSource();
        using var run = new CancellationTokenSource();
        var beats = 0;
        var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loop = Heartbeat.RunAsync(TimeSpan.FromMilliseconds(10), _ =>
        {
            if (++beats == 1)
            {
                throw new InvalidOperationException("connection lost");
            }

            if (beats == 3)
            {
                third.TrySetResult();
            }

            return Task.FromResult(true);
        }, run, app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ConsoleJobRunner>>(), "test", 0, stop.Token);
        await third.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.False(loop.IsCompleted);
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.False(run.IsCancellationRequested);

        // A save that finds the row taken by another runner cancels the run.
        using var stop2 = new CancellationTokenSource();
        await Heartbeat.RunAsync(TimeSpan.FromMilliseconds(10), _ => Task.FromResult(false), run, app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ConsoleJobRunner>>(), "test", 0, stop2.Token)
            .WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.True(run.IsCancellationRequested);
    }

    [Theory]
    [InlineData("1", "30", true)]
    [InlineData("10", "30", true)]
    [InlineData("11", "30", false)]
    [InlineData("30", "30", false)]
    [InlineData("60", "30", false)]
    public void Settings_WhoseHeartbeatIsNotWellBelowTheStaleInterval_AreRefused(string progressSeconds, string staleSeconds, bool accepted)
    {
        var config = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Patron:ConsoleJobs:ProgressSeconds"] = progressSeconds, ["Patron:ConsoleJobs:StaleSeconds"] = staleSeconds })
            .Build();
        if (accepted)
        {
            Assert.Equal(TimeSpan.FromSeconds(double.Parse(progressSeconds, System.Globalization.CultureInfo.InvariantCulture)), ConsoleJobOptions.From(config).ProgressEvery);
            return;
        }

        var refused = Assert.Throws<InvalidOperationException>(() => { ConsoleJobOptions.From(config); });
        Assert.Contains("Patron:ConsoleJobs:ProgressSeconds", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Patron:ConsoleJobs:StaleSeconds", refused.Message, StringComparison.Ordinal);
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

    private static async Task<long> EnrolAsync(HttpClient terminal, string name) =>
        (await (await terminal.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone() })).ReadJson()).GetProperty("id").GetInt64();

    /// <summary>A new staff member of this role (and stores), signed in.</summary>
    private async Task<(long Id, ConsoleClient Console)> NewStaffAsync(Patron.Domain.Organisation.StaffRole role, params long[] stores)
    {
        var (id, login) = await app.WithDbAsync(async db =>
        {
            var staff = new Patron.Domain.Organisation.Staff("job-" + Guid.NewGuid().ToString("N")[..8], "作业员", role, stores);
            staff.SetPasswordHash(Patron.Server.Features.Staff.StaffSignIn.HashPassword(staff, PatronApp.Password));
            db.Staff.Add(staff);
            await db.SaveChangesAsync();
            return (staff.Id, staff.Login);
        });
        return (id, await app.SignInAsync(login));
    }

    private Task<int> MoveAsync(long staffId, Patron.Domain.Organisation.StaffRole role, params long[] stores) => app.WithDbAsync(async db =>
    {
        var staff = await db.Staff.Include(s => s.Stores).SingleAsync(s => s.Id == staffId);
        staff.Update(staff.DisplayName, role, stores);
        return await db.SaveChangesAsync();
    });

    private Task<string> LoginOfAsync(long staffId) => app.WithDbAsync(db => db.Staff.Where(s => s.Id == staffId).Select(s => s.Login).SingleAsync());

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
