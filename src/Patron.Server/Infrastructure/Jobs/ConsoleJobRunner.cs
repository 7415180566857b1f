using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Infrastructure.Jobs;

/// <summary>
/// Runs queued console jobs (simulations, exports), one at a time on each node, oldest first. A
/// job is claimed by a conditional update (status and attempt count), so two nodes never run
/// the same attempt; its progress and heartbeat are saved about once a second, and its end
/// (result or file, or the problem code of its failure) is saved with it. When the server
/// stops, the job goes back to the queue; a job whose runner died (no heartbeat for
/// <see cref="ConsoleJobOptions.StaleAfter"/>) is taken up again from the start. Finished jobs
/// and their files are deleted after <see cref="ConsoleJobOptions.Keep"/>.
/// </summary>
public sealed class ConsoleJobRunner(
    IServiceScopeFactory scopes,
    ConsoleJobOptions options,
    ConsoleJobSignal signal,
    IAuthorizationService authorization,
    TimeProvider clock,
    ILogger<ConsoleJobRunner> log,
    IConsoleJobProbe? probe = null)
    : BackgroundService
{
    /// <summary>An unexpected failure is retried this many times (a lost connection); then the job fails.</summary>
    public const int MaxAttempts = 3;

    /// <summary>How many waiting jobs one look at the queue reads (claimed one by one, oldest first).</summary>
    public const int ClaimBatchSize = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.RunnerEnabled)
        {
            return;
        }

        await RunnerLoop.RunAsync(signal, options.Poll, async ct =>
        {
            using var scope = scopes.CreateScope();
            await CleanUpAsync(scope.ServiceProvider.GetRequiredService<PatronDb>(), clock, options, ct);
        }, RunOneAsync, log, stoppingToken);
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

    /// <summary>Deletes jobs (and their files) finished longer ago than the options keep them.</summary>
    public static async Task<int> CleanUpAsync(PatronDb db, TimeProvider clock, ConsoleJobOptions options, CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - options.Keep;
        var old = db.ConsoleJobs.Where(j => (j.Status == ConsoleJobStatus.Completed || j.Status == ConsoleJobStatus.Failed) && j.FinishedAt < cutoff);
        await db.ConsoleJobFiles.Where(f => old.Any(j => j.Id == f.JobId)).ExecuteDeleteAsync(ct);
        return await old.ExecuteDeleteAsync(ct);
    }

    /// <summary>
    /// The oldest job waiting (or abandoned on an attempt before the last), claimed for this
    /// runner; null when nothing waits. A job abandoned on its last attempt (its runner died
    /// each time: a crash, out of memory) fails with <c>job.stopped</c> instead of running again.
    /// </summary>
    private async Task<(long Id, int Attempt)?> ClaimAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var now = Now;
        var stale = now - options.StaleAfter;
        var given = await db.ConsoleJobs
            .Where(j => j.Status == ConsoleJobStatus.Running && (j.HeartbeatAt == null || j.HeartbeatAt < stale) && j.Attempts >= MaxAttempts)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, ConsoleJobStatus.Failed)
                .SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.HeartbeatAt, now)
                .SetProperty(j => j.ErrorCode, "job.stopped")
                .SetProperty(j => j.ErrorMessage, "The job stopped each time it ran; start it again."), ct);
        if (given > 0)
        {
            log.LogWarning("{Count} console job(s) abandoned on their last attempt failed (job.stopped)", given);
        }

        var waiting = await db.ConsoleJobs.AsNoTracking()
            .Where(j => j.Status == ConsoleJobStatus.Queued
                || (j.Status == ConsoleJobStatus.Running && (j.HeartbeatAt == null || j.HeartbeatAt < stale) && j.Attempts < MaxAttempts))
            .OrderBy(j => j.Id)
            .Take(ClaimBatchSize)
            .Select(j => new { j.Id, j.Status, j.Attempts })
            .ToListAsync(ct);
        foreach (var w in waiting)
        {
            var claimed = await db.ConsoleJobs
                .Where(j => j.Id == w.Id && j.Status == w.Status && j.Attempts == w.Attempts)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(j => j.Status, ConsoleJobStatus.Running)
                    .SetProperty(j => j.Attempts, w.Attempts + 1)
                    .SetProperty(j => j.Fraction, 0)
                    .SetProperty(j => j.HeartbeatAt, now)
                    .SetProperty(j => j.StartedAt, j => j.StartedAt ?? now), ct);
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
        var job = await db.ConsoleJobs.AsNoTracking().FirstAsync(j => j.Id == id, stoppingToken);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var stopReporting = new CancellationTokenSource();
        var progress = new Progress(id, probe);
        var reporting = Task.CompletedTask;
        try
        {
            var work = scope.ServiceProvider.GetServices<IConsoleJobWork>().FirstOrDefault(w => w.Kind == job.Kind)
                ?? throw Problem.Invalid("job.kind_unknown", "This server does not know this kind of job.", "kind");
            var caller = await StaffCaller.LoadAsync(db, authorization, job.StaffId, work.Policy, "job", stoppingToken)
                ?? throw Problem.Forbidden("job.not_allowed", "The staff member who started the job may no longer do this.");
            log.LogInformation("Console job {Job} ({Kind}) started, attempt {Attempt}", id, job.Kind, attempt);
            reporting = ReportAsync(id, attempt, progress, run, stopReporting.Token);
            await work.CheckAsync(job.Parameters, caller, run.Token);
            var output = await work.RunAsync(id, job.Parameters, caller, progress, run.Token);
            await StopAsync(stopReporting, reporting);
            await FinishAsync(id, attempt, ConsoleJobStatus.Completed, null, null, output);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await StopAsync(stopReporting, reporting);
            await RequeueAsync(id, attempt, countAttempt: false);
            log.LogInformation("Console job {Job} goes back to the queue: the server stops", id);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            await StopAsync(stopReporting, reporting);
            log.LogWarning("Console job {Job} was taken up by another runner; this one stops", id);
        }
        catch (Exception e) when (e is ProblemException or DomainException)
        {
            await StopAsync(stopReporting, reporting);
            var p = e as ProblemException ?? Problem.FromDomain((DomainException)e);
            var first = p.Errors.Count > 0 ? p.Errors[0] : null;
            await FinishAsync(id, attempt, ConsoleJobStatus.Failed, first?.Code ?? p.Code, first?.Message ?? p.Message, null);
        }
        catch (Exception e)
        {
            await StopAsync(stopReporting, reporting);
            log.LogError(e, "Console job {Job} failed on attempt {Attempt}", id, attempt);
            if (attempt < MaxAttempts)
            {
                await RequeueAsync(id, attempt, countAttempt: true);
                signal.Queued();
                return;
            }

            await FinishAsync(id, attempt, ConsoleJobStatus.Failed, "job.stopped", "The job stopped on an unexpected error; start it again.", null);
        }
    }

    /// <summary>Saves the end of a run (unless another runner has taken the job since), with its file.</summary>
    private async Task FinishAsync(long id, int attempt, ConsoleJobStatus status, string? code, string? message, ConsoleJobOutput? output)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var job = await db.ConsoleJobs.FirstAsync(j => j.Id == id, CancellationToken.None);
        if (job.Attempts != attempt || job.Status != ConsoleJobStatus.Running)
        {
            log.LogWarning("Console job {Job} was taken up by another runner; this run's end is not saved", id);
            return;
        }

        var now = Now;
        job.Status = status;
        job.FinishedAt = job.HeartbeatAt = now;
        job.ErrorCode = code is { Length: > 60 } ? code[..60] : code;
        job.ErrorMessage = message is { Length: > 500 } ? message[..500] : message;
        if (status == ConsoleJobStatus.Completed)
        {
            job.Fraction = 1;
            job.Result = output?.Result;
            if (output?.File is { } bytes)
            {
                job.FileName = output.FileName;
                job.FileSize = bytes.LongLength;
                db.ConsoleJobFiles.Add(new ConsoleJobFile(id, output.ContentType ?? "application/octet-stream", bytes, now));
            }
        }

        await db.SaveChangesAsync(CancellationToken.None);
        log.LogInformation("Console job {Job} {Status}{Code}", id, status, code is null ? "" : " (" + code + ")");
    }

    /// <summary>Puts the job back in the queue; a run the server's stop broke off does not count as an attempt.</summary>
    private async Task RequeueAsync(long id, int attempt, bool countAttempt)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var attempts = countAttempt ? attempt : attempt - 1;
        await db.ConsoleJobs.Where(j => j.Id == id && j.Attempts == attempt && j.Status == ConsoleJobStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, ConsoleJobStatus.Queued).SetProperty(j => j.Attempts, attempts), CancellationToken.None);
    }

    private static async Task StopAsync(CancellationTokenSource stop, Task reporting)
    {
        await stop.CancelAsync();
        await reporting;
    }

    /// <summary>Saves the run's progress and heartbeat every <see cref="ConsoleJobOptions.ProgressEvery"/> until it ends; cancels the run if another runner has taken it.</summary>
    private async Task ReportAsync(long id, int attempt, Progress progress, CancellationTokenSource run, CancellationToken stop)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        await Heartbeat.RunAsync(options.ProgressEvery, async ct =>
        {
            var (fraction, now) = (progress.Fraction, Now);
            return await db.ConsoleJobs.Where(j => j.Id == id && j.Attempts == attempt && j.Status == ConsoleJobStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.Fraction, fraction).SetProperty(j => j.HeartbeatAt, now), ct) == 1;
        }, run, log, "console job", id, stop);
    }

    /// <summary>The latest fraction a job's work reported, 0–1 (saved by the reporting loop).</summary>
    private sealed class Progress(long id, IConsoleJobProbe? probe) : IProgress<double>
    {
        private double _fraction;

        public double Fraction => Volatile.Read(ref _fraction);

        public void Report(double value)
        {
            var clamped = double.IsNaN(value) ? 0 : Math.Clamp(value, 0, 1);
            Volatile.Write(ref _fraction, clamped);
            probe?.Reported(id, clamped);
        }
    }
}
