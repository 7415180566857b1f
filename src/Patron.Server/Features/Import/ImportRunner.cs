using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Jobs;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Import;

/// <summary>
/// Runs uploaded member files one at a time, oldest first. A run is claimed in the database
/// (status and attempt count), its progress and a heartbeat are saved every second, and its
/// end (counts, refused rows, status) is saved before the file is deleted; so the state lives
/// in the database and anyone can follow it. When the server stops, the run goes back to the
/// queue; a run whose runner died (no heartbeat for <see cref="ImportOptions.StaleAfter"/>) is
/// taken up again; an import run resumes after its last committed chunk (the importer finds
/// its job by the file's SHA-256), a check-only run starts over. A node runs only the uploads
/// whose file is in its upload folder.
/// </summary>
public sealed class ImportRunner(IServiceScopeFactory scopes, ImportOptions options, ImportSignal signal, IAuthorizationService authorization, TimeProvider clock, ILogger<ImportRunner> log)
    : BackgroundService
{
    /// <summary>An unexpected failure is retried this many times (a lost connection); then the run fails.</summary>
    public const int MaxAttempts = 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.RunnerEnabled)
        {
            return;
        }

        await RunnerLoop.RunAsync(signal, options.Poll, CleanUpAsync, RunOneAsync, log, stoppingToken);
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private async Task<bool> RunOneAsync(CancellationToken ct)
    {
        if (await ClaimAsync(ct) is not { } claimed)
        {
            return false;
        }

        await RunAsync(claimed.Id, claimed.Attempt, ct);
        return true;
    }

    /// <summary>The oldest upload waiting (or abandoned) whose file is here, claimed; null when another run is going on or nothing waits.</summary>
    private async Task<(long Id, int Attempt)?> ClaimAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var now = Now;
        var stale = now - options.StaleAfter;
        if (await db.ImportUploads.AnyAsync(u => u.Status == ImportUploadStatus.Running && u.HeartbeatAt >= stale, ct))
        {
            return null; // one import at a time
        }

        var waiting = await db.ImportUploads.AsNoTracking()
            .Where(u => u.Status == ImportUploadStatus.Queued || (u.Status == ImportUploadStatus.Running && (u.HeartbeatAt == null || u.HeartbeatAt < stale)))
            .OrderBy(u => u.Id)
            .Take(50)
            .Select(u => new { u.Id, u.Status, u.Attempts, u.StoredName })
            .ToListAsync(ct);
        foreach (var w in waiting)
        {
            if (w.StoredName is null || !File.Exists(options.PathOf(w.StoredName)))
            {
                continue; // received by another node
            }

            var claimed = await db.ImportUploads
                .Where(u => u.Id == w.Id && u.Status == w.Status && u.Attempts == w.Attempts)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(u => u.Status, ImportUploadStatus.Running)
                    .SetProperty(u => u.Attempts, w.Attempts + 1)
                    .SetProperty(u => u.HeartbeatAt, now)
                    .SetProperty(u => u.StartedAt, u => u.StartedAt ?? now), ct);
            if (claimed == 1)
            {
                return (w.Id, w.Attempts + 1);
            }
        }

        return null;
    }

    private async Task RunAsync(long id, int attempt, CancellationToken stoppingToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        var upload = await db.ImportUploads.FirstAsync(u => u.Id == id, stoppingToken);
        using var gate = new SemaphoreSlim(1, 1);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var stopReporting = new CancellationTokenSource();
        CallerScope? caller = null;
        Task reporting = Task.CompletedTask;
        try
        {
            caller = await UploaderAsync(db, upload.StaffId, stoppingToken);
            if (upload.CheckOnly)
            {
                // A check that stopped starts over.
                await db.ImportUploadErrors.Where(e => e.UploadId == id).ExecuteDeleteAsync(stoppingToken);
            }

            log.LogInformation("Import upload {Upload} ({Kind}) started, attempt {Attempt}", id, upload.CheckOnly ? "check" : "import", attempt);
            var tracker = new ImportTracker
            {
                OnRefused = upload.CheckOnly ? (errors, ct) => SaveErrorsAsync(db, gate, id, errors, ct) : null,
            };
            reporting = ReportAsync(db, gate, id, attempt, tracker, run, stopReporting.Token);
            ImportReport report;
            using (var importScope = scopes.CreateScope())
            {
                var importer = importScope.ServiceProvider.GetRequiredService<MemberImporter>();
                await using var file = new FileStream(options.PathOf(upload.StoredName!), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                report = await importer.RunAsync(file, upload.FileName, upload.ProgramId, upload.StoreCode, upload.CheckOnly, caller, null, run.Token, options.ChunkSize, tracker);
            }

            await StopAsync(stopReporting, reporting);
            upload.Rows = report.Rows;
            upload.Imported = report.Imported;
            upload.Rejected = report.Rejected;
            upload.Fraction = 1;
            upload.RowsPerSecond = tracker.RowsPerSecond;
            upload.ImportJobId = report.JobId;
            foreach (var counted in new[] { nameof(ImportUpload.Rows), nameof(ImportUpload.Imported), nameof(ImportUpload.Rejected), nameof(ImportUpload.Fraction), nameof(ImportUpload.ImportJobId) })
            {
                // The progress was saved around the tracked row: write the final counts whatever the row held.
                db.Entry(upload).Property(counted).IsModified = true;
            }

            if (report.Rows == 0 && report.Errors.Count > 0)
            {
                // The header was refused (the upload checks it too; a file changed on disk since?).
                db.ImportUploadErrors.AddRange(report.Errors.Select(e => ErrorRow(id, e)));
                Fail(upload, "import.header_invalid", "The first line must name the columns; see the error report.");
            }
            else
            {
                upload.Status = ImportUploadStatus.Completed;
                upload.Message = report.AlreadyDone ? $"This file was imported before (import job {report.JobId}); nothing changed." : null;
            }

            await FinishAsync(db, audit, upload, caller);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await StopAsync(stopReporting, reporting);
            await RequeueAsync(id, attempt);
            log.LogInformation("Import upload {Upload} goes back to the queue: the server stops", id);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            await StopAsync(stopReporting, reporting);
            log.LogWarning("Import upload {Upload} was taken up by another runner; this one stops", id);
        }
        catch (ProblemException p)
        {
            await StopAsync(stopReporting, reporting);
            var first = p.Errors.Count > 0 ? p.Errors[0] : null;
            Fail(upload, first?.Code ?? p.Code, ImportUploads.Scrub(first?.Message ?? p.Message));
            await FinishAsync(db, audit, upload, caller);
        }
        catch (Exception e)
        {
            await StopAsync(stopReporting, reporting);
            log.LogError(e, "Import upload {Upload} failed on attempt {Attempt}", id, attempt);
            if (attempt < MaxAttempts)
            {
                await RequeueAsync(id, attempt);
                return;
            }

            db.ChangeTracker.Clear();
            upload = await db.ImportUploads.FirstAsync(u => u.Id == id, CancellationToken.None);
            Fail(upload, "import.stopped", "The import stopped on an unexpected error; upload the same file again to go on where it stopped.");
            await FinishAsync(db, audit, upload, caller);
        }
    }

    private static void Fail(ImportUpload upload, string code, string message)
    {
        upload.Status = ImportUploadStatus.Failed;
        upload.ErrorCode = code.Length > 60 ? code[..60] : code;
        upload.Message = message.Length > 500 ? message[..500] : message;
    }

    /// <summary>Saves the end of a run, audits it, and deletes the file (a finished check keeps it for "import these rows").</summary>
    private async Task FinishAsync(PatronDb db, AuditLog audit, ImportUpload upload, CallerScope? caller)
    {
        upload.FinishedAt = upload.HeartbeatAt = Now;
        var storedName = upload.StoredName;
        var keep = upload is { CheckOnly: true, Status: ImportUploadStatus.Completed } && upload.Imported > 0 && options.KeepChecked > TimeSpan.Zero;
        if (!keep)
        {
            upload.StoredName = null;
        }

        audit.Record(caller, "import.finished", null, null, "import_upload", upload.Id, new
        {
            file = upload.FileName,
            size = upload.FileSize,
            checkOnly = upload.CheckOnly,
            status = upload.Status.ToString().ToLowerInvariant(),
            rows = upload.Rows,
            imported = upload.Imported,
            refused = upload.Rejected,
            error = upload.ErrorCode,
        });
        await db.SaveChangesAsync(CancellationToken.None);
        if (!keep)
        {
            options.TryDelete(storedName, log);
        }

        log.LogInformation("Import upload {Upload} {Status}: {Rows} rows, {Imported} good, {Refused} refused", upload.Id, upload.Status, upload.Rows, upload.Imported, upload.Rejected);
    }

    private async Task RequeueAsync(long id, int attempt)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        await db.ImportUploads.Where(u => u.Id == id && u.Attempts == attempt && u.Status == ImportUploadStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.Status, ImportUploadStatus.Queued), CancellationToken.None);
    }

    private static async Task StopAsync(CancellationTokenSource stop, Task reporting)
    {
        await stop.CancelAsync();
        await reporting;
    }

    /// <summary>Saves the run's progress and heartbeat every second until it ends; cancels the run if another runner has taken it.</summary>
    private async Task ReportAsync(PatronDb db, SemaphoreSlim gate, long id, int attempt, ImportTracker tracker, CancellationTokenSource run, CancellationToken stop) =>
        await Heartbeat.RunAsync(TimeSpan.FromSeconds(1), async ct =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var (rows, imported, refused, fraction, rate, job, now) = (tracker.Checked, tracker.Imported, tracker.Refused, tracker.Fraction, tracker.RowsPerSecond, tracker.JobId, Now);
                return await db.ImportUploads.Where(u => u.Id == id && u.Attempts == attempt && u.Status == ImportUploadStatus.Running)
                    .ExecuteUpdateAsync(s => s
                        .SetProperty(u => u.Rows, rows)
                        .SetProperty(u => u.Imported, imported)
                        .SetProperty(u => u.Rejected, refused)
                        .SetProperty(u => u.Fraction, fraction)
                        .SetProperty(u => u.RowsPerSecond, rate)
                        .SetProperty(u => u.ImportJobId, job)
                        .SetProperty(u => u.HeartbeatAt, now), ct) == 1;
            }
            finally
            {
                gate.Release();
            }
        }, run, log, "import upload", id, stop);

    private async Task SaveErrorsAsync(PatronDb db, SemaphoreSlim gate, long id, IReadOnlyList<RowError> errors, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            var rows = errors.Select(e => ErrorRow(id, e)).ToList();
            db.ImportUploadErrors.AddRange(rows);
            await db.SaveChangesAsync(ct);
            foreach (var row in rows)
            {
                db.Entry(row).State = EntityState.Detached;
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private static ImportUploadError ErrorRow(long uploadId, RowError e)
    {
        var message = ImportUploads.Scrub(e.Message);
        var column = e.Column is null ? null : ImportUploads.Scrub(e.Column);
        return new ImportUploadError(uploadId, e.Row, column is { Length: > 40 } ? column[..40] : column, e.Code, message.Length > 300 ? message[..300] : message);
    }

    /// <summary>The uploader as a caller, if they may still import (a disabled account or a changed role stops the run).</summary>
    private async Task<CallerScope?> UploaderAsync(PatronDb db, long? staffId, CancellationToken ct)
    {
        var staff = staffId is null ? null : await db.Staff.AsNoTracking().Include(s => s.Stores).FirstOrDefaultAsync(s => s.Id == staffId, ct);
        if (staff is null || !staff.IsActive)
        {
            throw Problem.Forbidden("import.uploader_not_allowed", "The staff member who uploaded the file may no longer import members.");
        }

        var (stores, programs) = await AuthSetup.StaffScopeAsync(db, staff);
        var user = new ClaimsPrincipal(PatronClaims.ForStaff(staff, stores, programs, "import"));
        if (!(await authorization.AuthorizeAsync(user, Permissions.MembersImport)).Succeeded)
        {
            throw Problem.Forbidden("import.uploader_not_allowed", "The staff member who uploaded the file may no longer import members.");
        }

        return CallerScope.From(user);
    }

    /// <summary>Deletes the files of checks nobody imported within <see cref="ImportOptions.KeepChecked"/>, and uploads broken off long ago.</summary>
    private async Task CleanUpAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var cutoff = Now - options.KeepChecked;
        var expired = await db.ImportUploads
            .Where(u => u.CheckOnly && u.Status == ImportUploadStatus.Completed && u.StoredName != null && u.FinishedAt < cutoff)
            .OrderBy(u => u.Id)
            .Take(100)
            .ToListAsync(ct);
        foreach (var u in expired)
        {
            if (File.Exists(options.PathOf(u.StoredName!)) && options.TryDelete(u.StoredName, log))
            {
                u.StoredName = null;
            }
        }

        await db.SaveChangesAsync(ct);
        if (Directory.Exists(options.UploadDirectory))
        {
            foreach (var part in Directory.EnumerateFiles(options.UploadDirectory, "*.csv.part"))
            {
                if (File.GetLastWriteTimeUtc(part) < DateTime.UtcNow.AddDays(-1))
                {
                    options.TryDelete(part, log);
                }
            }
        }
    }
}
