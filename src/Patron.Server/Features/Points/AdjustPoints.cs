using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Points;
using Patron.Domain.Tiers;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Points;

public sealed record AdjustPointsRequest(long Points, string? Reason, long? StoreId = null);

public sealed record AdjustmentView(long Id, long MemberId, long Points, string Reason, string Status, long RequestedBy, DateTime RequestedAt, long? DecidedBy, DateTime? DecidedAt, long? Balance)
{
    public static AdjustmentView From(PointsAdjustment a, long? balance) =>
        new(a.Id, a.MemberId, a.Points, a.Reason, a.Status.ToString().ToLowerInvariant(), a.RequestedBy, a.RequestedAt, a.DecidedBy, a.DecidedAt, balance);
}

public sealed record SetTierRequest(string? Tier, string? Reason);

/// <summary>
/// Manual changes by staff: points adjustments within the role's cap (from the program's rules),
/// with a second approver above the program's threshold, and tiers granted by head office.
/// Every request, approval and rejection is audited in the same transaction.
/// </summary>
public sealed class AdjustPoints(PatronDb db, MemberLedger ledger, AuditLog audit, TimeProvider clock)
{
    public async Task<AdjustmentView> RequestAsync(long memberId, AdjustPointsRequest r, CallerScope caller, CancellationToken ct)
    {
        var staffId = caller.StaffId ?? throw Problem.Forbidden("adjustment.staff_only", "Only staff may adjust points.");
        var now = clock.GetUtcNow().UtcDateTime;
        return await Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(memberId, caller, now, ct);
            var storeId = r.StoreId ?? caller.DefaultStoreId ?? m.Member.EnrolStoreId;
            caller.EnsureCanActAs(storeId);
            var adjustment = PointsAdjustment.Request(m.Rules.Adjustments, m.Member.ProgramId, memberId, storeId, r.Points, r.Reason, staffId, caller.Role, now);
            db.PointsAdjustments.Add(adjustment);
            await db.SaveChangesAsync(ct);
            if (adjustment.Status == AdjustmentStatus.Applied)
            {
                Apply(m, adjustment, now);
            }

            audit.Record(caller, adjustment.Status == AdjustmentStatus.Applied ? "points.adjusted" : "points.adjustment_requested", storeId, memberId, "points_adjustment", adjustment.Id,
                new { points = r.Points, reason = adjustment.Reason });
            return AdjustmentView.From(adjustment, m.Points.Balance);
        }, ct);
    }

    public async Task<AdjustmentView> DecideAsync(long adjustmentId, bool approve, CallerScope caller, CancellationToken ct)
    {
        var staffId = caller.StaffId ?? throw Problem.Forbidden("adjustment.staff_only", "Only staff may approve adjustments.");
        var now = clock.GetUtcNow().UtcDateTime;
        return await Transactions.RunAsync(db, async ct =>
        {
            var probe = await db.PointsAdjustments.AsNoTracking().FirstOrDefaultAsync(a => a.Id == adjustmentId, ct);
            if (probe is null || !caller.CanSeeProgram(probe.ProgramId))
            {
                throw Problem.NotFound("adjustment.not_found", "No such adjustment.");
            }

            caller.EnsureCanActAs(probe.StoreId);
            var m = await ledger.OpenAsync(probe.MemberId, caller, now, ct);
            var adjustment = await db.PointsAdjustments.FirstAsync(a => a.Id == adjustmentId, ct);
            adjustment.Decide(m.Rules.Adjustments, approve, staffId, caller.Role, now);
            if (adjustment.Status == AdjustmentStatus.Applied)
            {
                Apply(m, adjustment, now);
            }

            audit.Record(caller, approve ? "points.adjustment_approved" : "points.adjustment_rejected", adjustment.StoreId, adjustment.MemberId, "points_adjustment", adjustment.Id,
                new { points = adjustment.Points, requestedBy = adjustment.RequestedBy });
            return AdjustmentView.From(adjustment, m.Points.Balance);
        }, ct);
    }

    public async Task<IReadOnlyList<AdjustmentView>> PendingAsync(CallerScope caller, CancellationToken ct)
    {
        var pending = await db.PointsAdjustments.AsNoTracking().Where(a => a.Status == AdjustmentStatus.Pending).OrderBy(a => a.RequestedAt).Take(200).ToListAsync(ct);
        return [.. pending.Where(a => caller.CanSeeProgram(a.ProgramId) && caller.CanActAs(a.StoreId)).Select(a => AdjustmentView.From(a, null))];
    }

    /// <summary>Head office grants a tier (a "gold card" given by the chain); recorded in the tier history and audited.</summary>
    public async Task<string?> SetTierAsync(long memberId, SetTierRequest r, CallerScope caller, CancellationToken ct)
    {
        var reason = (r.Reason ?? "").Trim();
        if (reason.Length is 0 or > 200)
        {
            throw Problem.Invalid("tier.reason_required", "Give a reason (at most 200 characters).", "reason");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        return await Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(memberId, caller, now, ct);
            var tier = m.Rules.FindTier(r.Tier) ?? throw Problem.Invalid("tier.unknown", $"The program has no tier {r.Tier}.", "tier");
            if (tier.Code != m.Account.Tier)
            {
                db.TierChanges.Add(new TierChange(memberId, m.Account.Tier, tier.Code, TierChangeReason.Manual, now, caller.StaffId, reason));
                audit.Record(caller, "tier.set", m.Member.EnrolStoreId, memberId, "member", memberId, new { from = m.Account.Tier, to = tier.Code, reason });
                m.Account.SetTier(tier.Code, now);
            }

            return m.Account.Tier;
        }, ct);
    }

    private void Apply(LockedMember m, PointsAdjustment a, DateTime now)
    {
        var reference = "adjustment:" + a.Id;
        try
        {
            if (a.Points > 0)
            {
                m.Points.Earn(a.Points, PointsCause.Adjustment, now, m.ExpiresAt(now), reference);
            }
            else
            {
                m.Points.Spend(-a.Points, PointsCause.Adjustment, now, reference);
            }
        }
        catch (Domain.Common.DomainException e) when (e.Code == "points.insufficient")
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "points.insufficient", e.Message, [new("points.insufficient", e.Message, "points")]);
        }

        ledger.Stage(m, null, a.DecidedBy ?? a.RequestedBy);
    }
}
