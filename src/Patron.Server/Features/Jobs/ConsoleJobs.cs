using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Jobs;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Jobs;

/// <summary>A console job as its staff member sees it: state, progress, and the result or the file's address once done.</summary>
public sealed record ConsoleJobView(
    long Id,
    ConsoleJobKind Kind,
    ConsoleJobStatus Status,
    double Fraction,
    int Attempts,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    string? ErrorCode,
    string? ErrorMessage,
    JsonElement? Result,
    string? FileName,
    long? FileSize,
    string? FileUrl,
    string Parameters)
{
    public bool IsActive => Status is ConsoleJobStatus.Queued or ConsoleJobStatus.Running;

    public double Percent => Math.Round(Fraction * 100, 1);
}

public sealed record ConsoleJobPage(IReadOnlyList<ConsoleJobView> Items, int Page, int PageSize, int Total);

/// <summary>A produced file, read for its download.</summary>
public sealed record ConsoleJobDownload(string FileName, string ContentType, byte[] Content);

/// <summary>
/// Queues console jobs and shows them to the staff member who started them (nobody else: 404).
/// The kind's permission and checks apply when the job is queued, when it runs, and again when
/// the job is read or its file downloaded, as the staff member is then (a disabled or demoted
/// account cannot; one who no longer covers every store an export holds cannot download it).
/// Each download of a file whose kind names an audit action is audited.
/// </summary>
public sealed class ConsoleJobs(PatronDb db, IEnumerable<IConsoleJobWork> works, IAuthorizationService authorization, ConsoleJobSignal signal, ConsoleJobOptions options, TimeProvider clock, AuditLog audit)
{
    public const int MaxPageSize = 100;

    public async Task<ConsoleJobView> QueueAsync(ConsoleJobKind kind, object parameters, ClaimsPrincipal user, CancellationToken ct)
    {
        var work = Work(kind);
        var caller = CallerScope.From(user);
        if (caller.StaffId is not { } staffId || !(await authorization.AuthorizeAsync(user, work.Policy)).Succeeded)
        {
            throw Problem.Forbidden("job.not_allowed", "You may not start this job.");
        }

        var json = JsonSerializer.Serialize(parameters, JsonSerializerOptions.Web);
        await work.CheckAsync(json, caller, ct);
        var job = new ConsoleJob(kind, staffId, json, clock.GetUtcNow().UtcDateTime);
        db.ConsoleJobs.Add(job);
        await db.SaveChangesAsync(ct);
        signal.Queued();
        return View(job);
    }

    /// <summary>One of my jobs, if I may still do what it did (see <see cref="AllowedAsync"/>).</summary>
    public async Task<ConsoleJobView> GetAsync(long id, CallerScope caller, CancellationToken ct)
    {
        var job = await MineAsync(id, caller, ct);
        await AllowedAsync(job, "You may no longer see this job.", ct);
        return View(job);
    }

    public async Task<ConsoleJobPage> ListAsync(int page, int pageSize, CallerScope caller, CancellationToken ct)
    {
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        var mine = db.ConsoleJobs.AsNoTracking().Where(j => j.StaffId == (caller.StaffId ?? -1));
        var total = await mine.CountAsync(ct);
        page = Paging.Clamp(page, total, pageSize);
        var jobs = await mine.OrderByDescending(j => j.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new ConsoleJobPage([.. jobs.Select(View)], page, pageSize, total);
    }

    /// <summary>The job's file, for its staff member if they may still do what the job did.</summary>
    public async Task<ConsoleJobDownload> FileAsync(long id, CallerScope caller, CancellationToken ct)
    {
        var job = await MineAsync(id, caller, ct);
        var (work, now) = await AllowedAsync(job, "You may no longer download this file.", ct);
        if (job.Status != ConsoleJobStatus.Completed || job.FileName is null || job.FinishedAt < clock.GetUtcNow().UtcDateTime - options.Keep)
        {
            throw Problem.NotFound("job.file_not_found", "This job has no file (not finished, or deleted after a day).");
        }

        var file = await db.ConsoleJobFiles.AsNoTracking().FirstOrDefaultAsync(f => f.JobId == id, ct)
            ?? throw Problem.NotFound("job.file_not_found", "This job has no file (not finished, or deleted after a day).");
        if (work.DownloadAction is { } action)
        {
            audit.Record(now, action, null, null, "console_job", job.Id, new { file = job.FileName, size = job.FileSize });
            await db.SaveChangesAsync(ct);
        }

        return new ConsoleJobDownload(job.FileName, file.ContentType, file.Content);
    }

    /// <summary>
    /// The job's staff member as they are now, if they still hold the kind's permission (403
    /// <c>job.not_allowed</c>), pass its checks of the parameters, and, once it is done, may
    /// see what its result holds (403 <c>scope.store_forbidden</c> for an export of stores
    /// they no longer cover).
    /// </summary>
    private async Task<(IConsoleJobWork Work, CallerScope Now)> AllowedAsync(ConsoleJob job, string refusal, CancellationToken ct)
    {
        var work = Work(job.Kind);
        var now = await StaffCaller.LoadAsync(db, authorization, job.StaffId, work.Policy, "job", ct)
            ?? throw Problem.Forbidden("job.not_allowed", refusal);
        await work.CheckAsync(job.Parameters, now, ct);
        if (job.Status == ConsoleJobStatus.Completed)
        {
            work.CheckResult(job.Parameters, job.Result, now);
        }

        return (work, now);
    }

    private async Task<ConsoleJob> MineAsync(long id, CallerScope caller, CancellationToken ct) =>
        await db.ConsoleJobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id && j.StaffId == (caller.StaffId ?? -1), ct)
        ?? throw Problem.NotFound("job.not_found", "No such job.");

    private IConsoleJobWork Work(ConsoleJobKind kind) =>
        works.FirstOrDefault(w => w.Kind == kind) ?? throw Problem.Invalid("job.kind_unknown", "This server does not know this kind of job.", "kind");

    private static ConsoleJobView View(ConsoleJob j)
    {
        JsonElement? result = null;
        if (j.Result is { } json)
        {
            using var parsed = JsonDocument.Parse(json);
            result = parsed.RootElement.Clone();
        }

        return new ConsoleJobView(j.Id, j.Kind, j.Status, j.Fraction, j.Attempts, j.CreatedAt, j.StartedAt, j.FinishedAt, j.ErrorCode, j.ErrorMessage, result,
            j.FileName, j.FileSize, j.Status == ConsoleJobStatus.Completed && j.FileName is not null ? $"/api/jobs/{j.Id}/file" : null, j.Parameters);
    }
}
