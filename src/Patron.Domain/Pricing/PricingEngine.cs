using Patron.Domain.Calendars;
using Patron.Domain.Common;
using Patron.Domain.Coupons;
using Patron.Domain.Programs;
using Patron.Domain.Sales;

namespace Patron.Domain.Pricing;

/// <summary>
/// One priced line: what it cost, the whole discount (member discount and coupons), what is
/// paid, the member rule that gave the discount and the part of it that coupons took.
/// </summary>
public sealed record QuoteLine(
    int Index,
    string Sku,
    int Quantity,
    long UnitPrice,
    long Amount,
    long Discount,
    long Paid,
    string? DiscountRule,
    bool EarnsPoints,
    long CouponDiscount = 0,
    long EarningCoupon = 0)
{
    /// <summary>What the line's points are counted on: what is paid, plus coupon discounts that still earn.</summary>
    public long EarningBasis => EarnsPoints ? Paid + EarningCoupon : 0;
}

/// <summary>A coupon the cashier wants to use on this basket: its code and its terms as issued.</summary>
public sealed record CouponInput(string Code, CouponTemplate Template);

/// <summary>What a coupon took off this basket.</summary>
public sealed record CouponApplied(string Code, string Template, string Name, CouponKind Kind, long Discount, bool EarnsPoints);

public sealed record Quote(
    IReadOnlyList<QuoteLine> Lines,
    long Amount,
    long Discount,
    long Payable,
    long EligibleForPoints,
    long Points,
    int PointsMultiplierPercent)
{
    public QuoteLine this[int index] => Lines[index];

    public IReadOnlyList<CouponApplied> Coupons { get; init; } = [];

    public long CouponDiscount => Coupons.Sum(c => c.Discount);
}

/// <summary>
/// Prices a basket for a member on a local date and counts the points it earns. The same code
/// serves the quote and the commit, so what the cashier is shown is what is recorded.
/// </summary>
public static class PricingEngine
{
    public const int MaxLines = 500;

    /// <summary>
    /// Prices <paramref name="basket"/>; with <paramref name="coupons"/>, applies them in the order
    /// given after member prices and discounts, or refuses the basket with the reason a coupon
    /// cannot be used (a <see cref="DomainException"/> with a coupon.* code).
    /// </summary>
    public static Quote Quote(ProgramDefinition program, IReadOnlyList<BasketLine> basket, PricingMember? member, DateOnly localDate, IReadOnlyList<Payment>? payments = null,
        IReadOnlyList<CouponInput>? coupons = null, string? storeCode = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(basket.Count, MaxLines);
        coupons ??= [];
        CheckStacking(program.Coupons, coupons);
        var tier = member is null ? null : program.FindTier(member.Tier) ?? program.EntryTier;
        var lines = new List<QuoteLine>(basket.Count);
        for (var i = 0; i < basket.Count; i++)
        {
            var line = basket[i];
            if (line.Quantity <= 0 || line.UnitPrice < 0)
            {
                throw new DomainException(new DomainError("basket.line_invalid", $"Line {i + 1}: quantity must be positive and price not negative.", $"lines[{i}]"));
            }

            var amount = line.Amount;
            var listPrice = coupons.Any(c => !c.Template.WithMemberDiscount && Covers(program, c.Template, line));
            var (discount, rule) = member is null || listPrice ? (0L, null) : Discount(program.Pricing, line, amount, tier, member, localDate);
            var earns = member is not null && !program.Earning.Excluded.Matches(line.Sku, line.Category, line.Brand, line.FlagList);
            lines.Add(new QuoteLine(i, line.Sku, line.Quantity, line.UnitPrice, amount, discount, amount - discount, rule, earns));
        }

        var applied = new List<CouponApplied>(coupons.Count);
        var earningCouponPart = new long[lines.Count];
        foreach (var coupon in coupons)
        {
            applied.Add(Apply(program, basket, lines, coupon, storeCode, earningCouponPart));
        }

        var total = lines.Sum(l => l.Amount);
        var totalDiscount = lines.Sum(l => l.Discount);
        var payable = total - totalDiscount;
        var multiplier = 0;
        var eligible = 0L;
        var points = 0L;
        if (member is not null)
        {
            eligible = lines.Where(l => l.EarnsPoints).Sum(l => l.Paid + earningCouponPart[l.Index]);
            var excludedPaid = (payments ?? []).Where(p => p.Method == Payment.Points || program.Earning.ExcludedPaymentMethods.Contains(p.Method)).Sum(p => p.Amount);
            eligible = Math.Max(0, eligible - excludedPaid);
            multiplier = tier?.PointsMultiplierPercent ?? 100;
            if (member.Birthday is { } b && DaySchedule.IsBirthday(localDate, b))
            {
                multiplier = multiplier * program.Earning.BirthdayMultiplierPercent / 100;
            }

            points = eligible < program.Earning.MinimumReceipt || eligible == 0
                ? 0
                : program.Earning.Rounding.Divide(checked(eligible * multiplier), checked(program.Earning.AmountPerPoint * 100));
        }

        return new Quote(lines, total, totalDiscount, payable, eligible, points, multiplier) { Coupons = applied };
    }

    /// <summary>Why <paramref name="coupon"/> cannot be used on this basket on its own, or null when it can.</summary>
    public static DomainError? Refusal(ProgramDefinition program, IReadOnlyList<BasketLine> basket, PricingMember? member, DateOnly localDate, CouponInput coupon, string? storeCode)
    {
        try
        {
            Quote(program, basket, member, localDate, null, [coupon], storeCode);
            return null;
        }
        catch (DomainException e) when (e.Code.StartsWith("coupon.", StringComparison.Ordinal))
        {
            return e.Errors[0];
        }
    }

    private static void CheckStacking(CouponRules rules, IReadOnlyList<CouponInput> coupons)
    {
        if (coupons.Count == 0)
        {
            return;
        }

        if (coupons.Select(c => c.Code).Distinct(StringComparer.Ordinal).Count() != coupons.Count)
        {
            throw new DomainException(new DomainError("coupon.repeated", "The same coupon is named twice.", "coupons"));
        }

        if (coupons.Count > rules.MaxPerOrder)
        {
            throw new DomainException(new DomainError("coupon.too_many", $"At most {rules.MaxPerOrder} coupon(s) per order.", "coupons"));
        }

        if (coupons.Count > 1 && coupons.FirstOrDefault(c => c.Template.Exclusive) is { } alone)
        {
            throw new DomainException(new DomainError("coupon.exclusive", $"{alone.Template.Name} cannot be combined with other coupons.", "coupons"));
        }
    }

    /// <summary>Coupons never touch lines the program keeps free of discounts (special prices …).</summary>
    private static bool Covers(ProgramDefinition program, CouponTemplate t, BasketLine line) =>
        t.Scope.Covers(line.Sku, line.Category, line.Brand) && !program.Pricing.NoDiscount.Matches(line.Sku, line.Category, line.Brand, line.FlagList);

    private static CouponApplied Apply(ProgramDefinition program, IReadOnlyList<BasketLine> basket, List<QuoteLine> lines, CouponInput coupon, string? storeCode, long[] earningPart)
    {
        var t = coupon.Template;
        DomainException Refuse(string code, string message) => new(new DomainError(code, message, "coupons"));
        if (storeCode is not null && !t.Scope.AllowsStore(storeCode))
        {
            throw Refuse("coupon.wrong_store", $"{t.Name} is not valid at this store.");
        }

        if (t.Kind == CouponKind.Gift && t.GiftSku is null)
        {
            // The gift is handed over off the receipt: nothing comes off the bill.
            return new CouponApplied(coupon.Code, t.Code, t.Name, t.Kind, 0, t.DiscountEarnsPoints);
        }

        var scope = lines.Where(l => Covers(program, t, basket[l.Index]) && l.Paid > 0).Select(l => l.Index).ToList();
        if (t.Kind == CouponKind.Gift && t.GiftSku is { } gift)
        {
            scope = [.. scope.Where(i => basket[i].Sku == gift).Take(1)];
            if (scope.Count == 0)
            {
                throw Refuse("coupon.gift_not_in_basket", $"{t.Name}: put the gift ({gift}) in the basket to give it free.");
            }
        }
        else if (t.Kind != CouponKind.Gift && scope.Count == 0)
        {
            throw Refuse("coupon.no_eligible_lines", $"{t.Name} applies to none of these items.");
        }

        var basis = scope.Sum(i => lines[i].Paid);
        if (t.Kind != CouponKind.Gift && basis < t.MinimumSpend)
        {
            throw Refuse("coupon.minimum_spend", $"{t.Name} needs ¥{t.MinimumSpend / 100m:0.00} of eligible items; these come to ¥{basis / 100m:0.00}.");
        }

        var off = t.Kind switch
        {
            CouponKind.Cash or CouponKind.Threshold => Math.Min(t.Value, basis),
            CouponKind.Discount => Math.Min(t.Cap > 0 ? t.Cap : basis, Percent(program.Pricing.Rounding, basis, t.PercentOff)),
            // One unit of the gift at what it costs on this receipt (after the member discount).
            _ => lines[scope[0]].Paid - (lines[scope[0]].Paid * (lines[scope[0]].Quantity - 1) / lines[scope[0]].Quantity),
        };

        var shares = Allocation.Spread(off, [.. scope.Select(i => lines[i].Paid)]);
        for (var k = 0; k < scope.Count; k++)
        {
            var i = scope[k];
            var l = lines[i];
            lines[i] = l with { Discount = l.Discount + shares[k], Paid = l.Paid - shares[k], CouponDiscount = l.CouponDiscount + shares[k] };
            if (t.DiscountEarnsPoints)
            {
                earningPart[i] += shares[k];
                lines[i] = lines[i] with { EarningCoupon = lines[i].EarningCoupon + shares[k] };
            }
        }

        return new CouponApplied(coupon.Code, t.Code, t.Name, t.Kind, off, t.DiscountEarnsPoints);
    }

    private static (long Discount, string? Rule) Discount(PricingRules pricing, BasketLine line, long amount, TierDefinition? tier, PricingMember member, DateOnly date)
    {
        if (amount == 0 || pricing.NoDiscount.Matches(line.Sku, line.Category, line.Brand, line.FlagList))
        {
            return (0, null);
        }

        // Candidates in a fixed order (member price, tier, rules as listed); the first wins a tie.
        var candidates = new List<(string Rule, Func<long, long> Off)>();
        var price = pricing.MemberPrices.FirstOrDefault(p => p.Sku == line.Sku && (p.Tiers.Count == 0 || (tier is not null && p.Tiers.Contains(tier.Code))));
        if (price is not null)
        {
            candidates.Add(("member_price:" + price.Sku, remaining => Math.Min(remaining, Math.Max(0, amount - checked(price.Price * line.Quantity)))));
        }

        if (tier is { PercentOff: > 0 })
        {
            candidates.Add(("tier:" + tier.Code, remaining => Percent(pricing.Rounding, remaining, tier.PercentOff)));
        }

        foreach (var rule in pricing.Discounts.Where(r => r.AppliesTo(tier?.Code, date, member.Birthday)))
        {
            candidates.Add((rule.Id, remaining => Percent(pricing.Rounding, remaining, rule.PercentOff)));
        }

        if (candidates.Count == 0)
        {
            return (0, null);
        }

        if (pricing.Stacking == Stacking.Best)
        {
            var best = (Discount: 0L, Rule: (string?)null);
            foreach (var (rule, off) in candidates)
            {
                var d = off(amount);
                if (d > best.Discount)
                {
                    best = (d, rule);
                }
            }

            return best;
        }

        var total = 0L;
        var rules = new List<string>();
        foreach (var (rule, off) in candidates)
        {
            var d = off(amount - total);
            if (d > 0)
            {
                total += d;
                rules.Add(rule);
            }
        }

        return (total, rules.Count == 0 ? null : string.Join('+', rules));
    }

    private static long Percent(Rounding rounding, long amount, decimal percentOff) =>
        Math.Min(amount, rounding.Apply(amount * percentOff / 100m));
}
