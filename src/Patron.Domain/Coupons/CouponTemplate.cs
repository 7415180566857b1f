using Patron.Domain.Programs;

namespace Patron.Domain.Coupons;

public enum CouponKind
{
    /// <summary>¥N off (代金券).</summary>
    Cash = 0,

    /// <summary>N% off the lines in scope, up to a cap (折扣券).</summary>
    Discount = 1,

    /// <summary>¥X off once the lines in scope reach ¥Y (满减券).</summary>
    Threshold = 2,

    /// <summary>A named item handed over free (礼品券); with a SKU, one unit of it on the receipt is free.</summary>
    Gift = 3,
}

/// <summary>What a return does to a coupon used on the sale once the whole sale has come back.</summary>
public enum CouponOnReturn
{
    /// <summary>The coupon is usable again (if still within its validity).</summary>
    Restore = 0,

    /// <summary>The coupon stays used.</summary>
    Void = 1,
}

/// <summary>Which lines and stores a coupon applies to; empty lists mean all.</summary>
public sealed record CouponScope
{
    public IReadOnlyList<string> Categories { get; init; } = [];

    public IReadOnlyList<string> Brands { get; init; } = [];

    public IReadOnlyList<string> Skus { get; init; } = [];

    /// <summary>Store codes where it may be used; everywhere in the program when empty.</summary>
    public IReadOnlyList<string> Stores { get; init; } = [];

    public bool Covers(string sku, string? category, string? brand) =>
        (Skus.Count == 0 && Categories.Count == 0 && Brands.Count == 0)
        || Skus.Contains(sku)
        || (category is not null && Categories.Contains(category))
        || (brand is not null && Brands.Contains(brand));

    public bool AllowsStore(string storeCode) => Stores.Count == 0 || Stores.Contains(storeCode);
}

/// <summary>
/// A kind of coupon the program hands out: what it takes off and where, when it is valid, how
/// many may be issued, how it stacks, and what a return does to it. An issued coupon keeps a
/// copy of its template, so a later program version never changes a coupon a member holds.
/// Coupons never pay out cash and give no change: a discount larger than the lines it applies
/// to is lost.
/// </summary>
public sealed record CouponTemplate
{
    public required string Code { get; init; }

    public required string Name { get; init; }

    public CouponKind Kind { get; init; }

    /// <summary>Fen off (cash and threshold coupons).</summary>
    public long Value { get; init; }

    /// <summary>Percent off (discount coupons), e.g. 12 for 12% off.</summary>
    public decimal PercentOff { get; init; }

    /// <summary>The most a discount coupon takes off, fen; no cap when 0.</summary>
    public long Cap { get; init; }

    /// <summary>The lines in scope must come to at least this (fen, after member discounts); the "¥Y" of a threshold coupon.</summary>
    public long MinimumSpend { get; init; }

    public CouponScope Scope { get; init; } = new();

    /// <summary>Gift coupons: the SKU given free (one unit); without it the gift is handed over off the receipt.</summary>
    public string? GiftSku { get; init; }

    /// <summary>First day it may be used (local date), when the validity is fixed.</summary>
    public DateOnly? ValidFrom { get; init; }

    /// <summary>Last day it may be used (local date), when the validity is fixed.</summary>
    public DateOnly? ValidUntil { get; init; }

    /// <summary>Days it stays valid from issue (after which it expires); wins over <see cref="ValidUntil"/> when earlier.</summary>
    public int? ValidDays { get; init; }

    /// <summary>Most coupons of this template one member may ever receive; no limit when null.</summary>
    public int? PerMember { get; init; }

    /// <summary>Most coupons of this template ever issued; no limit when null.</summary>
    public int? Total { get; init; }

    /// <summary>How many sales one coupon serves (a bearer promotion code may serve several; a member's coupon one).</summary>
    public int Uses { get; init; } = 1;

    /// <summary>Used alone: no other coupon on the same order.</summary>
    public bool Exclusive { get; init; }

    /// <summary>Whether member prices and discounts still apply to the lines it covers; when false those lines are priced at list price.</summary>
    public bool WithMemberDiscount { get; init; } = true;

    /// <summary>Whether the part it takes off still earns points (usually not).</summary>
    public bool DiscountEarnsPoints { get; init; }

    public CouponOnReturn OnReturn { get; init; }

    /// <summary>What one use costs the chain, fen (a gift's purchase cost); defaults to the discount given.</summary>
    public long? Cost { get; init; }

    /// <summary>Conditions in words, printed on the coupon.</summary>
    public string? Terms { get; init; }

    /// <summary>
    /// When a coupon issued at <paramref name="issuedAtUtc"/> starts and stops counting: from the
    /// start of <see cref="ValidFrom"/> (local) or issue, until the earlier of the end of
    /// <see cref="ValidUntil"/> (local) and <see cref="ValidDays"/> days after issue.
    /// </summary>
    public (DateTime? StartsAt, DateTime? ExpiresAt) Window(DateTime issuedAtUtc, TimeZoneInfo zone)
    {
        DateTime Midnight(DateOnly d) => TimeZoneInfo.ConvertTimeToUtc(d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone);
        DateTime? starts = ValidFrom is { } f && Midnight(f) > issuedAtUtc ? Midnight(f) : null;
        DateTime? expires = ValidUntil is { } u ? Midnight(u.AddDays(1)) : null;
        if (ValidDays is { } days && (expires is null || issuedAtUtc.AddDays(days) < expires))
        {
            expires = issuedAtUtc.AddDays(days);
        }

        return (starts, expires);
    }

    /// <summary>A plain cash voucher described by a rule's voucher spec (conversions, milestones, redemption items without a template).</summary>
    public static CouponTemplate FromVoucher(string code, VoucherSpec v) => new()
    {
        Code = code,
        Name = v.Name,
        Kind = v.Value > 0 ? CouponKind.Cash : CouponKind.Gift,
        Value = v.Value,
        ValidDays = v.ValidDays,
        Terms = v.Terms,
    };
}

/// <summary>The coupon rules of a program: its templates, how many coupons one order may use, and what a new member receives.</summary>
public sealed record CouponRules
{
    public int MaxPerOrder { get; init; } = 1;

    /// <summary>Templates issued to every new member at enrolment.</summary>
    public IReadOnlyList<string> OnEnrolment { get; init; } = [];

    public IReadOnlyList<CouponTemplate> Templates { get; init; } = [];

    public CouponTemplate? Find(string code) => Templates.FirstOrDefault(t => t.Code == code);
}
