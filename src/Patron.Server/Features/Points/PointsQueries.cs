using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Coupons;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Points;

public sealed record PointsEntryView(long Id, long Points, string Cause, DateTime At, string? Reference, DateTime? ExpiresAt, long DebtIncurred, long DebtRepaid);

public sealed record PointsLotView(DateTime EarnedAt, DateTime? ExpiresAt, long Points, long Remaining);

public sealed record TierChangeView(string? From, string? To, string Reason, DateTime At, string? Note);

/// <summary>Where the member stands on a milestone ladder: the counter, the next step (0-based) and the year's resets.</summary>
public sealed record MilestoneView(string Rule, long Counter, int NextStep, int Year, int Resets);

/// <summary>A member's points as the counter and the member page show them.</summary>
public sealed record PointsSummary(
    long MemberId,
    long Balance,
    long Debt,
    string? Tier,
    DateTime? TierSince,
    long ExpiringSoon,
    DateTime ExpiringBy,
    long CumulativeEarned,
    long CumulativeSpend,
    long YearSpend,
    IReadOnlyList<PointsLotView> Lots,
    IReadOnlyList<PointsEntryView> Entries,
    IReadOnlyList<IssuedCouponView> Coupons,
    IReadOnlyList<TierChangeView> TierHistory,
    IReadOnlyList<MilestoneView> Milestones);

public sealed class PointsQueries(PatronDb db, MemberLedger ledger, ProgramRules programs, TimeProvider clock)
{
    public const int EntriesShown = 100;

    /// <summary>The rules in force today for a program, in its own time zone.</summary>
    public async Task<Domain.Programs.ProgramDefinition> RulesAsync(long programId, CancellationToken ct)
    {
        var zone = await programs.ZoneAsync(programId, ct);
        return await programs.InForceAsync(programId, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, zone)), ct);
    }

    /// <param name="history">False at the counter (identify): the ledger, tier history and milestones are left out.</param>
    public async Task<PointsSummary> GetAsync(long memberId, CallerScope caller, CancellationToken ct, bool history = true)
    {
        var member = await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Id == memberId, ct);
        if (member is null || !caller.CanSeeProgram(member.ProgramId))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var rules = await RulesAsync(member.ProgramId, ct);
        var (account, soon, horizon) = await ledger.PeekAsync(memberId, rules, ct);
        var lots = await db.PointsLots.AsNoTracking().Where(l => l.MemberId == memberId && l.Remaining > 0).OrderBy(l => l.ExpiresAt).ToListAsync(ct);

        // Lots lapsed but not yet expired by the job do not count.
        var lapsed = lots.Where(l => l.ExpiresAt <= now).Sum(l => l.Remaining);
        soon -= lapsed;
        var entries = !history ? [] : await db.PointsEntries.AsNoTracking().Include(e => e.Lot).Where(e => e.MemberId == memberId)
            .OrderByDescending(e => e.Id).Take(EntriesShown).ToListAsync(ct);
        var coupons = await db.Coupons.AsNoTracking().Where(c => c.MemberId == memberId && c.Status == CouponStatus.Issued).OrderBy(c => c.ExpiresAt).ToListAsync(ct);
        var milestones = !history ? [] : await db.MilestoneProgress.AsNoTracking().Where(p => p.MemberId == memberId).OrderBy(p => p.RuleId).ToListAsync(ct);
        var tiers = !history ? [] : await db.TierChanges.AsNoTracking().Where(t => t.MemberId == memberId).OrderByDescending(t => t.Id).Take(50).ToListAsync(ct);
        return new PointsSummary(
            memberId,
            (account?.Balance ?? 0) - lapsed,
            account?.Debt ?? 0,
            account?.Tier ?? rules.EntryTier?.Code,
            account?.TierSince,
            soon,
            horizon,
            account?.CumulativeEarned ?? 0,
            account?.CumulativeSpend ?? 0,
            account?.YearSpend ?? 0,
            [.. lots.Where(l => !(l.ExpiresAt <= now)).Select(l => new PointsLotView(l.EarnedAt, l.ExpiresAt, l.Points, l.Remaining))],
            [.. entries.Select(e => new PointsEntryView(e.Id, e.Points, e.Cause.ToString().ToLowerInvariant(), e.At, e.Reference, e.Lot?.ExpiresAt, e.DebtIncurred, e.DebtRepaid))],
            [.. coupons.Select(IssuedCouponView.From)],
            [.. tiers.Select(t => new TierChangeView(t.FromTier, t.ToTier, t.Reason.ToString().ToLowerInvariant(), t.At, t.Note))],
            [.. milestones.Select(p => new MilestoneView(p.RuleId, p.Counter, p.NextStep, p.ResetsYear, p.Resets))]);
    }
}
