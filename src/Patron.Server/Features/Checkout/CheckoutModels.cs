using System.Security.Cryptography;
using System.Text.Json;
using Patron.Domain.Pricing;
using Patron.Domain.Sales;
using Patron.Server.Features.Members;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Checkout;

/// <summary>
/// A basket line as the POS sends it; prices in fen, flags such as special_price, limited,
/// promotional; <see cref="Allergens"/> the product's ingredient and drug-class tags (青霉素类,
/// 磺胺, …) that the quote checks against the member's allergies.
/// </summary>
public sealed record SaleLineRequest(string? Sku, int Quantity, long UnitPrice, string? Name = null, string? Category = null, string? Brand = null, IReadOnlyList<string>? Flags = null,
    IReadOnlyList<string>? Allergens = null);

/// <summary>The part of the payment made by one method (cash, bank_card, medical_insurance, rebate_card …), fen.</summary>
public sealed record PaymentRequest(string? Method, long Amount);

/// <summary>
/// A sale to price (quote) or record (commit). The member is named by id or card number, or is
/// enrolled at this checkout with <see cref="Enrol"/> (the program's enrolment policy decides
/// whether the purchase qualifies). <see cref="At"/> is the time on the receipt for a POS that
/// was offline; otherwise now.
/// </summary>
public sealed record SaleRequest(
    string? OrderNumber,
    IReadOnlyList<SaleLineRequest>? Lines,
    long? StoreId = null,
    long? MemberId = null,
    string? CardNumber = null,
    IReadOnlyList<PaymentRequest>? Payments = null,
    DateTimeOffset? At = null,
    EnrollMemberRequest? Enrol = null,
    long? PointsToUse = null,
    IReadOnlyList<string>? Coupons = null,
    bool AllergiesAcknowledged = false);

/// <summary>A receipt line: list amount, the whole discount (member discount and coupons, <see cref="CouponDiscount"/> of it from coupons), what was paid.</summary>
public sealed record SaleLineView(int Line, string Sku, int Quantity, long UnitPrice, long Amount, long Discount, long Paid, string? Rule, long Points, long CouponDiscount = 0)
{
    public static SaleLineView From(SaleLine l) => new(l.LineNo, l.Sku, l.Quantity, l.UnitPrice, l.Amount, l.Discount, l.Paid, l.DiscountRule, l.Points, l.CouponDiscount);
}

/// <summary>A coupon used on a basket and what it took off.</summary>
public sealed record AppliedCouponView(string Code, string Template, string Name, string Kind, long Discount)
{
    public static AppliedCouponView From(CouponApplied c) => new(c.Code, c.Template, c.Name, Patron.Server.Features.Coupons.Codes.Of(c.Kind), c.Discount);
}

/// <summary>A coupon the member holds (or the cashier named), whether it can be used on this basket and, if not, why.</summary>
public sealed record QuoteCouponView(string Code, string Template, string Name, string Kind, long Value, DateTime? ExpiresAt, bool Usable, string? Reason = null, string? Message = null);

/// <summary>
/// A recorded sale or return: per line what was paid, the discount and the rule that gave it,
/// and the points; for the member, the balance, debt and tier after it and what it set off.
/// </summary>
public sealed record SaleResult(
    long SaleId,
    string Kind,
    string OrderNumber,
    long StoreId,
    long? MemberId,
    DateTime At,
    IReadOnlyList<SaleLineView> Lines,
    long Amount,
    long Discount,
    long Paid,
    long Points,
    long? Balance,
    long? Debt,
    string? Tier,
    EffectsView? Effects,
    bool Replayed = false,
    long PointsUsed = 0,
    long PointsValue = 0,
    long StoredPrincipal = 0,
    long StoredBonus = 0)
{
    /// <summary>Money paid (or refunded, negative): <see cref="Paid"/> less what points and stored value paid.</summary>
    public long Money => Paid - PointsValue - StoredPrincipal - StoredBonus;

    /// <summary>The member's stored value after the sale or return, when it paid with (or gave back) stored value.</summary>
    public Patron.Server.Features.StoredValue.StoredValueBalance? StoredValueAfter { get; init; }

    /// <summary>Coupons used on the sale; on a return, the coupons the return made usable again.</summary>
    public IReadOnlyList<AppliedCouponView> Coupons { get; init; } = [];

    public static SaleResult From(Sale s, long? balance, long? debt, string? tier, EffectsView? effects, bool replayed = false) =>
        new(s.Id, s.Kind == SaleKind.Sale ? "sale" : "return", s.OrderNumber, s.StoreId, s.MemberId, s.At, [.. s.Lines.OrderBy(l => l.LineNo).Select(SaleLineView.From)],
            s.Amount, s.Discount, s.Paid, s.Points, balance, debt, tier, effects, replayed, s.PointsUsed, s.PointsValue, s.StoredPrincipal, s.StoredBonus);
}

/// <summary>How far the member may pay with points on this basket.</summary>
public sealed record PointsPaymentView(bool Allowed, long Available, long MaxPoints, long MaxValue, long PointsPerYuan, long Step);

public sealed record QuoteLineView(int Line, string Sku, int Quantity, long UnitPrice, long Amount, long Discount, long Paid, string? Rule, bool EarnsPoints, long CouponDiscount = 0);

/// <summary>
/// A priced basket: per line the member price and the rule that gave it, the coupons applied, the
/// totals, the points it would earn, and what the member may pay with (points within limits; the
/// coupons they hold, each usable on this basket or not, with the reason).
/// </summary>
public sealed record QuoteResult(
    long? MemberId,
    string? Tier,
    IReadOnlyList<QuoteLineView> Lines,
    long Amount,
    long Discount,
    long Payable,
    long EligibleForPoints,
    long Points,
    long? Balance,
    PointsPaymentView? PayWithPoints = null,
    IReadOnlyList<QuoteCouponView>? Coupons = null)
{
    /// <summary>The coupons named in the request, applied in order, and what each took off.</summary>
    public IReadOnlyList<AppliedCouponView> AppliedCoupons { get; init; } = [];

    /// <summary>Lines whose ingredient or class tags hit the member's recorded allergies: the sale needs <c>allergiesAcknowledged</c>.</summary>
    public IReadOnlyList<Members.AllergyWarning> AllergyWarnings { get; init; } = [];

    public long CouponDiscount => AppliedCoupons.Sum(c => c.Discount);

    /// <summary>The member's stored value (null for a sub-card, which has none): frozen when the card lapsed.</summary>
    public Patron.Server.Features.StoredValue.StoredValueBalance? StoredValue { get; init; }

    /// <summary>Things the cashier should know: card.lapsed (no member benefits until renewed).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public static QuoteResult From(Quote q, long? memberId, string? tier, long? balance, PointsPaymentView? payWithPoints = null, IReadOnlyList<QuoteCouponView>? coupons = null) =>
        new(memberId, tier, [.. q.Lines.Select(l => new QuoteLineView(l.Index + 1, l.Sku, l.Quantity, l.UnitPrice, l.Amount, l.Discount, l.Paid, l.DiscountRule, l.EarnsPoints, l.CouponDiscount))],
            q.Amount, q.Discount, q.Payable, q.EligibleForPoints, q.Points, balance, payWithPoints, coupons)
        {
            AppliedCoupons = [.. q.Coupons.Select(AppliedCouponView.From)],
        };
}

internal static class CheckoutInput
{
    public const int MaxLines = PricingEngine.MaxLines;

    /// <summary>The largest amount of one payment, fen (¥10,000,000,000).</summary>
    public const long MaxPaymentAmount = 1_000_000_000_000;

    public static string Order(string? orderNumber, string field = "orderNumber")
    {
        var order = (orderNumber ?? "").Trim();
        return order.Length is 0 or > Sale.OrderNumberMaxLength || order.Any(char.IsControl)
            ? throw Problem.Invalid("sale.order_number_invalid", $"The order number is 1–{Sale.OrderNumberMaxLength} characters.", field)
            : order;
    }

    public static List<BasketLine> Basket(IReadOnlyList<SaleLineRequest>? lines)
    {
        var errors = new FieldErrors();
        if (lines is null || lines.Count == 0 || lines.Count > MaxLines)
        {
            errors.Add("lines", "sale.lines_invalid", $"A sale has 1–{MaxLines} lines.");
            errors.ThrowIfAny();
        }

        var basket = new List<BasketLine>(lines!.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var l = lines[i];
            if (string.IsNullOrWhiteSpace(l.Sku) || l.Sku.Length > 64)
            {
                errors.Add($"lines[{i}].sku", "sale.sku_invalid", "Each line needs a SKU of at most 64 characters.");
            }

            if (l.Quantity is <= 0 or > 100_000)
            {
                errors.Add($"lines[{i}].quantity", "sale.quantity_invalid", "The quantity is a whole number from 1 to 100000.");
            }

            if (l.UnitPrice is < 0 or > 100_000_000)
            {
                errors.Add($"lines[{i}].unitPrice", "sale.price_invalid", "The unit price is in fen, from 0 to 100000000.");
            }

            if ((l.Name?.Length ?? 0) > 200 || (l.Category?.Length ?? 0) > 64 || (l.Brand?.Length ?? 0) > 64 || string.Join(',', l.Flags ?? []).Length > 200
                || (l.Allergens?.Count ?? 0) > 30 || (l.Allergens ?? []).Any(a => a is null || a.Length > 50))
            {
                errors.Add($"lines[{i}]", "sale.line_too_long", "Name ≤ 200, category and brand ≤ 64, flags ≤ 200 characters; at most 30 allergen tags of ≤ 50.");
            }

            basket.Add(new BasketLine(l.Sku?.Trim() ?? "", l.Quantity, l.UnitPrice, l.Category, l.Brand, l.Flags, l.Name));
        }

        errors.ThrowIfAny();
        return basket;
    }

    public static List<string> Coupons(IReadOnlyList<string>? coupons)
    {
        var list = (coupons ?? []).Select(c => (c ?? "").Trim().ToUpperInvariant()).ToList();
        if (list.Count > 20 || list.Any(c => c.Length is 0 or > 32))
        {
            throw Problem.Invalid("coupon.code_invalid", "Name at most 20 coupons by their codes.", "coupons");
        }

        return list;
    }

    public static List<Payment> Payments(IReadOnlyList<PaymentRequest>? payments)
    {
        var list = new List<Payment>();
        for (var i = 0; i < (payments?.Count ?? 0); i++)
        {
            var p = payments![i];
            if (string.IsNullOrWhiteSpace(p.Method) || p.Method.Length > 32 || p.Amount < 0)
            {
                throw Problem.Invalid("sale.payment_invalid", "A payment names its method and a non-negative amount in fen.", $"payments[{i}]");
            }

            if (p.Amount > MaxPaymentAmount)
            {
                // Far above any sale, and small enough that the payments of a sale add up without overflow.
                throw Problem.Invalid("payment.amount_invalid", $"A payment is at most {MaxPaymentAmount} fen.", $"payments[{i}]");
            }

            list.Add(new Payment(p.Method.Trim(), p.Amount));
        }

        return list;
    }

    public static string Hash<T>(T request) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request)));
}
