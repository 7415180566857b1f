using Patron.Domain.Calendars;
using Patron.Domain.Common;
using Patron.Domain.Programs;

namespace Patron.Domain.Pricing;

/// <summary>One priced line: what it cost, the member discount, what is paid, and the rule that gave it.</summary>
public sealed record QuoteLine(
    int Index,
    string Sku,
    int Quantity,
    long UnitPrice,
    long Amount,
    long Discount,
    long Paid,
    string? DiscountRule,
    bool EarnsPoints);

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
}

/// <summary>
/// Prices a basket for a member on a local date and counts the points it earns. The same code
/// serves the quote and the commit, so what the cashier is shown is what is recorded.
/// </summary>
public static class PricingEngine
{
    public const int MaxLines = 500;

    public static Quote Quote(ProgramDefinition program, IReadOnlyList<BasketLine> basket, PricingMember? member, DateOnly localDate, IReadOnlyList<Payment>? payments = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(basket.Count, MaxLines);
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
            var (discount, rule) = member is null ? (0L, null) : Discount(program.Pricing, line, amount, tier, member, localDate);
            var earns = member is not null && !program.Earning.Excluded.Matches(line.Sku, line.Category, line.Brand, line.FlagList);
            lines.Add(new QuoteLine(i, line.Sku, line.Quantity, line.UnitPrice, amount, discount, amount - discount, rule, earns));
        }

        var total = lines.Sum(l => l.Amount);
        var totalDiscount = lines.Sum(l => l.Discount);
        var payable = total - totalDiscount;
        var multiplier = 0;
        var eligible = 0L;
        var points = 0L;
        if (member is not null)
        {
            eligible = lines.Where(l => l.EarnsPoints).Sum(l => l.Paid);
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

        return new Quote(lines, total, totalDiscount, payable, eligible, points, multiplier);
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
