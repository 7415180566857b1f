using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Coupons;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Domain.Tiers;

namespace Patron.Server.Features.Points;

/// <summary>What a purchase set off beyond its own points.</summary>
public sealed record EffectsView(string? TierBefore, string? Tier, IReadOnlyList<IssuedCouponView> Coupons, IReadOnlyList<string> Entitlements, long MilestonePoints)
{
    public static readonly EffectsView None = new(null, null, [], [], 0);
}

public sealed record IssuedCouponView(string Code, string Name, long Value, string Source, DateTime? ExpiresAt)
{
    public static IssuedCouponView From(Coupon c) => new(c.Code, c.Name, c.Value, c.Source.ToString().ToLowerInvariant(), c.ExpiresAt);
}

/// <summary>
/// The program's consequences of an event, in the same transaction: tier promotion (with "reset
/// points" where the tier says so), automatic conversions of points into vouchers, milestone
/// rebates, and entitlements earned by the year's spending. All read the program's rules; none
/// knows any particular program.
/// </summary>
public sealed class EarningEffects(PatronDb db)
{
    public async Task<EffectsView> ApplyAsync(LockedMember m, DateTime atUtc, long earnedPoints, long paid, CancellationToken ct)
    {
        var rules = m.Rules;
        var year = m.LocalDate(atUtc).Year;
        var coupons = new List<Coupon>();
        var tierBefore = m.Account.Tier;

        // Milestones first: their points count toward conversions below.
        long milestonePoints = 0;
        foreach (var rule in rules.Milestones)
        {
            var amount = rule.Counter == MilestoneCounter.EarnedPoints ? earnedPoints : paid;
            if (amount <= 0)
            {
                continue;
            }

            var progress = await db.MilestoneProgress.FirstOrDefaultAsync(p => p.MemberId == m.Member.Id && p.RuleId == rule.Id, ct);
            if (progress is null)
            {
                progress = new MilestoneProgress(m.Member.Id, rule.Id);
                db.MilestoneProgress.Add(progress);
            }

            foreach (var step in progress.Advance(rule, amount, year))
            {
                if (step.Points > 0)
                {
                    m.Points.Earn(step.Points, PointsCause.Milestone, atUtc, m.ExpiresAt(atUtc), rule.Id);
                    milestonePoints += step.Points;
                }

                if (step.Voucher is { } v)
                {
                    coupons.Add(Issue(m, v, CouponSource.Milestone, rule.Id, atUtc));
                }
            }
        }

        foreach (var rule in rules.Conversions.Where(r => r.EveryPoints > 0))
        {
            for (var i = 0; i < 1000 && m.Points.Balance >= rule.EveryPoints; i++)
            {
                m.Points.Spend(rule.EveryPoints, PointsCause.Conversion, atUtc, rule.Id);
                coupons.Add(Issue(m, rule.Voucher, CouponSource.Conversion, rule.Id, atUtc));
            }
        }

        var granted = new List<string>();
        foreach (var rule in rules.Entitlements.Where(r => r.AnnualSpend > 0 && m.Account.SpendYear == year && m.Account.YearSpend >= r.AnnualSpend))
        {
            if (!await db.Entitlements.AnyAsync(e => e.MemberId == m.Member.Id && e.Code == rule.Code && e.Year == year, ct))
            {
                var end = TimeZoneInfo.ConvertTimeToUtc(new DateTime(year + 1, 1, 1, 0, 0, 0, DateTimeKind.Unspecified), m.Zone);
                db.Entitlements.Add(new Entitlement(m.Member.ProgramId, m.Member.Id, rule.Code, rule.Name, year, atUtc, end));
                granted.Add(rule.Code);
            }
        }

        Promote(m, atUtc);
        db.Coupons.AddRange(coupons);
        return new EffectsView(tierBefore, m.Account.Tier, [.. coupons.Select(IssuedCouponView.From)], granted, milestonePoints);
    }

    /// <summary>
    /// What a return undoes beyond its points: milestone counters go back (rewards given stay
    /// given), entitlements of the sale's year not yet used are revoked when the year's spending
    /// falls below their threshold, the largest purchase is recomputed, and a tier reached by
    /// qualification is lowered when the counters no longer reach it.
    /// </summary>
    public async Task ReverseAsync(LockedMember m, Patron.Domain.Sales.Sale ret, DateTime saleAtUtc, DateTime atUtc, CancellationToken ct)
    {
        var memberId = m.Member.Id;
        foreach (var rule in m.Rules.Milestones)
        {
            var amount = rule.Counter == MilestoneCounter.EarnedPoints ? -ret.Points : -ret.Paid;
            var progress = await db.MilestoneProgress.FirstOrDefaultAsync(p => p.MemberId == memberId && p.RuleId == rule.Id, ct);
            progress?.Retreat(amount);
        }

        var saleYear = m.LocalDate(saleAtUtc).Year;
        if (m.Account.SpendYear == saleYear)
        {
            var below = m.Rules.Entitlements.Where(r => m.Account.YearSpend < r.AnnualSpend).Select(r => r.Code).ToList();
            var revoked = await db.Entitlements.Where(e => e.MemberId == memberId && e.Year == saleYear && below.Contains(e.Code) && e.UsedAt == null && e.RevokedAt == null).ToListAsync(ct);
            revoked.ForEach(e => e.Revoke(atUtc));
        }

        var sales = await db.Sales.AsNoTracking().Where(s => s.MemberId == memberId && s.Kind == Patron.Domain.Sales.SaleKind.Sale).Select(s => new { s.Id, Paid = s.Paid - s.PointsValue }).ToListAsync(ct);
        var returned = await db.Sales.AsNoTracking().Where(s => s.MemberId == memberId && s.Kind == Patron.Domain.Sales.SaleKind.Return)
            .GroupBy(s => s.OriginalSaleId).Select(g => new { Id = g.Key, Paid = g.Sum(s => s.Paid - s.PointsValue) }).ToListAsync(ct);
        var back = returned.Where(r => r.Id != null).ToDictionary(r => r.Id!.Value, r => r.Paid);
        m.Account.CorrectLargestPurchase(sales.Count == 0 ? 0 : sales.Max(s => s.Paid + back.GetValueOrDefault(s.Id)));

        var lower = TierEvaluator.AfterReturn(m.Rules, m.Account.Tier, m.Account.Counters);
        if (lower != m.Account.Tier)
        {
            db.TierChanges.Add(new TierChange(memberId, m.Account.Tier, lower, TierChangeReason.Return, atUtc, null, ret.OrderNumber));
            m.Account.SetTier(lower, atUtc);
        }
    }

    /// <summary>Moves the member up when the counters now reach a higher tier; "reset points" tiers clear the balance.</summary>
    public void Promote(LockedMember m, DateTime atUtc)
    {
        var next = TierEvaluator.AfterEvent(m.Rules, m.Account.Tier, m.Account.Counters);
        if (next == m.Account.Tier)
        {
            return;
        }

        db.TierChanges.Add(new TierChange(m.Member.Id, m.Account.Tier, next, TierChangeReason.Qualified, atUtc, null, null));
        m.Account.SetTier(next, atUtc);
        if (m.Rules.FindTier(next)?.OnPromotion == PromotionPoints.Reset && m.Points.Balance > 0)
        {
            m.Points.Spend(m.Points.Balance, PointsCause.Adjustment, atUtc, "tier_reset:" + next);
        }
    }

    private static Coupon Issue(LockedMember m, VoucherSpec v, CouponSource source, string sourceRef, DateTime atUtc)
    {
        var template = CouponTemplate.FromVoucher(sourceRef, v);
        var (starts, expires) = template.Window(atUtc, m.Zone);
        return new(m.Member.ProgramId, m.Member.Id, template, source, sourceRef, atUtc, starts, expires);
    }
}
