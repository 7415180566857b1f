using Patron.Domain.Common;
using Patron.Domain.Pricing;

namespace Patron.Domain.Sales;

public enum SaleKind
{
    Sale = 0,
    Return = 1,
}

/// <summary>
/// A sale or a return as recorded, identified by (store, POS order number). A sale keeps, per
/// line, what was paid and the points the line earned; returns draw on those figures so that a
/// line is never returned beyond what was sold and a full return reverses exactly what the
/// line earned.
/// </summary>
public sealed class Sale
{
    public const int OrderNumberMaxLength = 64;

    private readonly List<SaleLine> _lines = [];

    private Sale()
    {
        OrderNumber = "";
    }

    public Sale(SaleKind kind, long programId, long storeId, long? memberId, string orderNumber, DateTime atUtc, DateOnly localDate, long? originalSaleId = null)
    {
        Kind = kind;
        ProgramId = programId;
        StoreId = storeId;
        MemberId = memberId;
        OrderNumber = orderNumber;
        At = atUtc;
        LocalDate = localDate;
        OriginalSaleId = originalSaleId;
    }

    public long Id { get; private set; }

    public SaleKind Kind { get; private set; }

    public long ProgramId { get; private set; }

    public long StoreId { get; private set; }

    public long? MemberId { get; private set; }

    public string OrderNumber { get; private set; }

    public DateTime At { get; private set; }

    /// <summary>The store's local date of the sale: the day member-day rules looked at.</summary>
    public DateOnly LocalDate { get; private set; }

    public long? OriginalSaleId { get; private set; }

    /// <summary>Before member discounts, fen (negative for a return).</summary>
    public long Amount { get; private set; }

    public long Discount { get; private set; }

    /// <summary>What the customer paid (or, for a return, got back), fen.</summary>
    public long Paid { get; private set; }

    /// <summary>Points this sale earned, or (negative) the points a return reversed.</summary>
    public long Points { get; private set; }

    /// <summary>Points the member paid with (a return: negative, the points given back).</summary>
    public long PointsUsed { get; private set; }

    /// <summary>What those points were worth, fen (part of <see cref="Paid"/>; the rest was money).</summary>
    public long PointsValue { get; private set; }

    public long ReturnedPointsUsed { get; private set; }

    public long ReturnedPointsValue { get; private set; }

    /// <summary>Stored value paid with: principal part, fen (a return: negative, given back).</summary>
    public long StoredPrincipal { get; private set; }

    /// <summary>Stored value paid with: bonus part, fen (a return: negative, given back).</summary>
    public long StoredBonus { get; private set; }

    public long ReturnedStoredPrincipal { get; private set; }

    public long ReturnedStoredBonus { get; private set; }

    /// <summary>What was paid with stored value (principal and bonus), fen.</summary>
    public long StoredValue => StoredPrincipal + StoredBonus;

    /// <summary>Records stored value used as payment for this sale.</summary>
    public void PayWithStoredValue(long principal, long bonus)
    {
        if (Kind != SaleKind.Sale || principal < 0 || bonus < 0 || principal + bonus + PointsValue > Paid)
        {
            throw new DomainException(new DomainError("stored_value.payment_invalid", "Stored value and points pay for at most what the sale costs.", "payments"));
        }

        StoredPrincipal = principal;
        StoredBonus = bonus;
    }

    /// <summary>Records points used as payment for this sale.</summary>
    public void PayWithPoints(long points, long value)
    {
        if (Kind != SaleKind.Sale || points < 0 || value < 0 || value + StoredPrincipal + StoredBonus > Paid)
        {
            throw new DomainException(new DomainError("points.payment_invalid", "Points pay for at most what the sale costs.", "pointsToUse"));
        }

        PointsUsed = points;
        PointsValue = value;
    }

    public long? StaffId { get; set; }

    public long? TerminalId { get; set; }

    /// <summary>A hash of the request that made it, so a retry can be told from a different order with the same number.</summary>
    public string? RequestHash { get; set; }

    public IReadOnlyList<SaleLine> Lines => _lines;

    /// <summary>Every unit of every line has come back.</summary>
    public bool FullyReturned => _lines.All(l => l.ReturnedQuantity == l.Quantity);

    /// <summary>Records a priced sale and spreads its points over the earning lines.</summary>
    public static Sale FromQuote(long programId, long storeId, long? memberId, string orderNumber, DateTime atUtc, DateOnly localDate, IReadOnlyList<BasketLine> basket, Quote quote)
    {
        var sale = new Sale(SaleKind.Sale, programId, storeId, memberId, orderNumber, atUtc, localDate);
        var shares = Allocation.Spread(quote.Points, quote.Lines.Select(l => l.EarningBasis).ToList());
        for (var i = 0; i < quote.Lines.Count; i++)
        {
            var q = quote.Lines[i];
            var b = basket[i];
            sale._lines.Add(new SaleLine(i + 1, b.Sku, b.Name, b.Category, b.Brand, b.FlagList, q.Quantity, q.UnitPrice, q.Amount, q.Discount, q.Paid, q.DiscountRule, shares[i]) { CouponDiscount = q.CouponDiscount });
        }

        sale.Amount = quote.Amount;
        sale.Discount = quote.Discount;
        sale.Paid = quote.Payable;
        sale.Points = quote.Points;
        return sale;
    }

    /// <summary>
    /// A return of some quantities of this sale's lines. Each returned line gives back its share
    /// of what was paid and of the points it earned, pro rata by quantity, with the last unit
    /// taking whatever is left so that returning a whole line reverses it exactly.
    /// </summary>
    /// <param name="storeId">The store that takes the goods back (it may differ from the store of sale).</param>
    public Sale Return(string orderNumber, long storeId, DateTime atUtc, DateOnly localDate, IReadOnlyList<(int LineNo, int Quantity)> requested)
    {
        if (Kind != SaleKind.Sale)
        {
            throw new DomainException(new DomainError("return.not_a_sale", "Only a sale can be returned."));
        }

        if (requested.Count == 0)
        {
            throw new DomainException(new DomainError("return.no_lines", "Name at least one line to return.", "lines"));
        }

        // Check every line before taking any, so a refused return leaves the sale as it was.
        var lines = new List<(SaleLine Line, int Quantity)>(requested.Count);
        var seen = new HashSet<int>();
        for (var i = 0; i < requested.Count; i++)
        {
            var (lineNo, quantity) = requested[i];
            var line = _lines.FirstOrDefault(l => l.LineNo == lineNo)
                ?? throw new DomainException(new DomainError("return.line_unknown", $"The sale has no line {lineNo}.", $"lines[{i}].line"));
            if (!seen.Add(lineNo))
            {
                throw new DomainException(new DomainError("return.line_repeated", $"Line {lineNo} is named twice.", $"lines[{i}].line"));
            }

            var left = line.Quantity - line.ReturnedQuantity;
            if (quantity <= 0 || quantity > left)
            {
                var message = left == 0 ? $"Line {lineNo} has already been returned in full." : $"Line {lineNo}: {left} left to return, {quantity} asked.";
                throw new DomainException(new DomainError("return.quantity_exceeds", message, $"lines[{i}].quantity"));
            }

            lines.Add((line, quantity));
        }

        if (atUtc < At)
        {
            throw new DomainException(new DomainError("return.before_sale", "A return cannot be dated before its sale.", "at"));
        }

        var ret = new Sale(SaleKind.Return, ProgramId, storeId, MemberId, orderNumber, atUtc, localDate, Id);
        foreach (var (line, quantity) in lines)
        {
            var (paid, points, amount, discount) = line.TakeReturn(quantity);
            ret._lines.Add(new SaleLine(line.LineNo, line.Sku, line.Name, line.Category, line.Brand, line.FlagList, -quantity, line.UnitPrice, -amount, -discount, -paid, line.DiscountRule, -points));
        }

        ret.Amount = ret._lines.Sum(l => l.Amount);
        ret.Discount = ret._lines.Sum(l => l.Discount);
        ret.Paid = ret._lines.Sum(l => l.Paid);
        ret.Points = ret._lines.Sum(l => l.Points);

        // Points and stored value paid with come back in proportion to what is refunded; the
        // last return takes the rest.
        var all = FullyReturned;
        var refundedPaid = _lines.Sum(l => l.ReturnedPaid);
        long Share(long total, long already) => (all || Paid == 0 ? total : (long)((Int128)total * refundedPaid / Paid)) - already;
        if (PointsUsed > 0)
        {
            var points = Share(PointsUsed, ReturnedPointsUsed);
            var value = Share(PointsValue, ReturnedPointsValue);
            ReturnedPointsUsed += points;
            ReturnedPointsValue += value;
            ret.PointsUsed = -points;
            ret.PointsValue = -value;
        }

        if (StoredValue > 0)
        {
            // Points and stored value together give back a proportional share of what they paid,
            // cumulatively and never more than this return refunds (points first, stored value
            // the rest); the stored value splits into principal and bonus in the sale's ratio.
            // The last return takes exactly what is left.
            var nonCash = PointsValue + StoredValue;
            var target = all || Paid == 0 ? nonCash : (long)((Int128)nonCash * refundedPaid / Paid);
            var storedTotal = all ? StoredValue : Math.Clamp(target - ReturnedPointsValue, ReturnedStoredPrincipal + ReturnedStoredBonus, StoredValue);
            var principalTotal = all ? StoredPrincipal : (long)((Int128)StoredPrincipal * storedTotal / StoredValue);
            var principal = principalTotal - ReturnedStoredPrincipal;
            var bonus = storedTotal - principalTotal - ReturnedStoredBonus;
            ReturnedStoredPrincipal += principal;
            ReturnedStoredBonus += bonus;
            ret.StoredPrincipal = -principal;
            ret.StoredBonus = -bonus;
        }

        return ret;
    }
}

/// <summary>One line of a sale (positive quantities) or of a return (negative), with its share of the points.</summary>
public sealed class SaleLine
{
    private SaleLine()
    {
        Sku = "";
        Flags = "";
    }

    internal SaleLine(int lineNo, string sku, string? name, string? category, string? brand, IReadOnlyList<string> flags, int quantity, long unitPrice, long amount, long discount, long paid, string? discountRule, long points)
    {
        LineNo = lineNo;
        Sku = sku;
        Name = name;
        Category = category;
        Brand = brand;
        Flags = string.Join(',', flags);
        Quantity = quantity;
        UnitPrice = unitPrice;
        Amount = amount;
        Discount = discount;
        Paid = paid;
        DiscountRule = discountRule;
        Points = points;
    }

    public long Id { get; private set; }

    public long SaleId { get; private set; }

    /// <summary>1-based position in the sale; a return line names the sale line it returns.</summary>
    public int LineNo { get; private set; }

    public string Sku { get; private set; }

    public string? Name { get; private set; }

    public string? Category { get; private set; }

    public string? Brand { get; private set; }

    /// <summary>POS flags, comma-separated (special_price, limited …).</summary>
    public string Flags { get; private set; }

    public int Quantity { get; private set; }

    public long UnitPrice { get; private set; }

    public long Amount { get; private set; }

    public long Discount { get; private set; }

    public long Paid { get; private set; }

    public string? DiscountRule { get; private set; }

    public long Points { get; private set; }

    /// <summary>The part of <see cref="Discount"/> that coupons took (sales only).</summary>
    public long CouponDiscount { get; internal set; }

    public int ReturnedQuantity { get; private set; }

    public long ReturnedPaid { get; private set; }

    public long ReturnedPoints { get; private set; }

    public long ReturnedAmount { get; private set; }

    public long ReturnedDiscount { get; private set; }

    public IReadOnlyList<string> FlagList => Flags.Length == 0 ? [] : Flags.Split(',');

    /// <summary>Cumulative pro-rata shares: after all units are back, every total is returned exactly.</summary>
    internal (long Paid, long Points, long Amount, long Discount) TakeReturn(int quantity)
    {
        var after = ReturnedQuantity + quantity;
        long Share(long total, long already) => (after == Quantity ? total : total * after / Quantity) - already;
        var result = (Share(Paid, ReturnedPaid), Share(Points, ReturnedPoints), Share(Amount, ReturnedAmount), Share(Discount, ReturnedDiscount));
        ReturnedQuantity = after;
        ReturnedPaid += result.Item1;
        ReturnedPoints += result.Item2;
        ReturnedAmount += result.Item3;
        ReturnedDiscount += result.Item4;
        return result;
    }
}

/// <summary>Splits a whole number over weights by largest remainder: the parts always add up to the total.</summary>
public static class Allocation
{
    public static long[] Spread(long total, IReadOnlyList<long> weights)
    {
        var parts = new long[weights.Count];
        var sum = weights.Sum();
        if (total == 0 || sum <= 0)
        {
            return parts;
        }

        var remainders = new (long Rem, int Index)[weights.Count];
        long given = 0;
        for (var i = 0; i < weights.Count; i++)
        {
            var product = (Int128)total * weights[i];
            parts[i] = (long)(product / sum);
            remainders[i] = ((long)(product % sum), i);
            given += parts[i];
        }

        foreach (var (_, index) in remainders.OrderByDescending(r => r.Rem).ThenBy(r => r.Index).Take((int)(total - given)))
        {
            parts[index]++;
        }

        return parts;
    }
}
