using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Sales;
using Patron.Domain.Tiers;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Points;

/// <summary>
/// The daily points jobs of every program, each claimed per (job, local day) so that it runs
/// exactly once per period whatever the number of nodes and re-runs: expiry removes the
/// remainder of every lapsed lot (one entry per lot), and tier retention moves members who
/// did not reach their tier's threshold over its window one tier down.
/// </summary>
public sealed class PointsJobs(PatronDb db, MemberLedger ledger, ProgramRules programs, TimeProvider clock)
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    public sealed record Outcome(string Job, string Period, bool Ran, int Members, long Points);

    public async Task<IReadOnlyList<Outcome>> RunAsync(CancellationToken ct)
    {
        var results = new List<Outcome>();
        var programIds = await db.ProgramVersions.Where(v => v.Status == ProgramVersionStatus.Published).Select(v => v.ProgramId).Distinct().ToListAsync(ct);
        foreach (var programId in programIds)
        {
            results.Add(await ExpireAsync(programId, ct));
            try
            {
                results.Add(await RetainTiersAsync(programId, ct));
            }
            catch (Infrastructure.Problems.ProblemException e) when (e.Code == "program.not_in_force")
            {
                // Published for a later date only: nothing to retain yet.
            }
        }

        return results;
    }

    public async Task<Outcome> ExpireAsync(long programId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var period = await PeriodAsync(programId, now, ct);
        var job = $"points-expiry/{programId}";
        if (!await ClaimAsync(job, period, now, ct))
        {
            return new Outcome(job, period, false, 0, 0);
        }

        var memberIds = await db.PointsLots
            .Where(l => l.Remaining > 0 && l.ExpiresAt != null && l.ExpiresAt <= now)
            .Join(db.Members.Where(m => m.ProgramId == programId), l => l.MemberId, m => m.Id, (l, m) => l.MemberId)
            .Distinct().ToListAsync(ct);
        long points = 0;
        var failed = 0;
        foreach (var memberId in memberIds)
        {
            try
            {
                points += await Transactions.RunAsync(db, async ct =>
                {
                    var m = await ledger.OpenAsync(memberId, null, now, ct);
                    var expired = m.Points.Expire(now).Sum(e => -e.Points);
                    ledger.Stage(m);
                    return expired;
                }, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Left for the next run of this period (expiry is idempotent per lot).
                db.ChangeTracker.Clear();
                failed++;
            }
        }

        await FinishAsync(job, period, $"{memberIds.Count - failed} members, {points} points expired", failed == 0, ct);
        return new Outcome(job, period, true, memberIds.Count - failed, points);
    }

    public async Task<Outcome> RetainTiersAsync(long programId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var period = await PeriodAsync(programId, now, ct);
        var job = $"tier-retention/{programId}";
        var rules = await programs.InForceAsync(programId, DateOnly.ParseExact(period, "yyyy-MM-dd"), ct);
        if (!rules.Tiers.Any(t => t.Retention is not null) || !await ClaimAsync(job, period, now, ct))
        {
            return new Outcome(job, period, false, 0, 0);
        }

        var moved = 0;
        for (var rank = 1; rank < rules.Tiers.Count; rank++)
        {
            var tier = rules.Tiers[rank];
            if (tier.Retention is not { } keep)
            {
                continue;
            }

            var since = now.AddMonths(-keep.WindowMonths);
            var due = await db.MemberAccounts.Where(a => a.ProgramId == programId && a.Tier == tier.Code && a.TierSince <= since).Select(a => a.MemberId).ToListAsync(ct);
            foreach (var memberId in due)
            {
                // Points earned count under the member and the members merged into it (their
                // entries stay under their own ids; sales change owner in a merge).
                var person = db.Members.Where(m => m.Id == memberId || m.MergedIntoId == memberId).Select(m => m.Id);
                var reached = keep.Counter == MilestoneCounter.Spend
                    ? await db.Sales.Where(s => s.MemberId == memberId && s.At > since).SumAsync(s => (long?)s.Paid, ct) ?? 0
                    : await db.PointsEntries.Where(e => person.Contains(e.MemberId) && e.At > since && (e.Cause == PointsCause.Sale || e.Cause == PointsCause.Return)).SumAsync(e => (long?)e.Points, ct) ?? 0;
                if (reached >= keep.Threshold)
                {
                    continue;
                }

                var lower = rules.Tiers[rank - 1].Code;
                moved += await Transactions.RunAsync(db, async ct =>
                {
                    var m = await ledger.OpenAsync(memberId, null, now, ct);
                    if (m.Account.Tier != tier.Code || m.Account.TierSince > since)
                    {
                        return 0; // changed since it was read (promoted, or set by head office)
                    }

                    db.TierChanges.Add(new TierChange(memberId, m.Account.Tier, lower, TierChangeReason.Retention, now, null, $"{reached} < {keep.Threshold} in {keep.WindowMonths} months"));
                    m.Account.Downgrade(lower, now);
                    return 1;
                }, ct);
            }
        }

        await FinishAsync(job, period, $"{moved} members moved down", true, ct);
        return new Outcome(job, period, true, moved, 0);
    }

    private async Task<string> PeriodAsync(long programId, DateTime now, CancellationToken ct) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, await programs.ZoneAsync(programId, ct))).ToString("yyyy-MM-dd");

    /// <summary>
    /// Inserts the (job, period) row; false when another run holds it. A claim left unfinished
    /// for <see cref="StaleAfter"/> (its node stopped, or some members failed) is taken over by
    /// a guarded update, so the period is completed once.
    /// </summary>
    private async Task<bool> ClaimAsync(string job, string period, DateTime now, CancellationToken ct)
    {
        var stale = now - StaleAfter;
        if (await db.JobRuns.AnyAsync(r => r.Job == job && r.Period == period, ct))
        {
            return await db.JobRuns.Where(r => r.Job == job && r.Period == period && r.FinishedAt == null && r.StartedAt < stale)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.StartedAt, now), ct) == 1;
        }

        db.JobRuns.Add(new JobRun(job, period, now));
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            // Taken by another node or run; anything else (the row is absent) is a real failure.
            db.ChangeTracker.Clear();
            if (await db.JobRuns.AnyAsync(r => r.Job == job && r.Period == period, ct))
            {
                return false;
            }

            throw;
        }
    }

    private async Task FinishAsync(string job, string period, string outcome, bool complete, CancellationToken ct)
    {
        var run = await db.JobRuns.FirstAsync(r => r.Job == job && r.Period == period, ct);
        if (complete)
        {
            run.Finish(clock.GetUtcNow().UtcDateTime, outcome);
        }
        else
        {
            run.Note(outcome);
        }

        await db.SaveChangesAsync(ct);
    }
}

/// <summary>Runs the periodic jobs every few minutes on every node; the claims keep each period to one run.</summary>
/// <remarks>Off with <c>Patron:Jobs=false</c> (tests and scenario runs drive the jobs themselves).</remarks>
public sealed class JobRunner(IServiceScopeFactory scopes, IConfiguration config, ILogger<JobRunner> log) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Patron:Jobs", true))
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var scope = scopes.CreateScope();
                foreach (var o in (await scope.ServiceProvider.GetRequiredService<PointsJobs>().RunAsync(stoppingToken)).Where(o => o.Ran))
                {
                    log.LogInformation("Job {Job} ran for {Period}: {Members} members, {Points} points", o.Job, o.Period, o.Members, o.Points);
                }

                var cards = await scope.ServiceProvider.GetRequiredService<Cards.CardsJob>().RunAsync(stoppingToken);
                if (cards.Renewed + cards.Lapsed + cards.Purged > 0)
                {
                    log.LogInformation("Card validity: {Renewed} renewed by points, {Lapsed} lapsed, {Purged} members left the active lists", cards.Renewed, cards.Lapsed, cards.Purged);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Periodic jobs failed; they are retried next round");
            }

            await Task.Delay(Every, stoppingToken);
        }
    }
}
