using Patron.Domain.Calendars;
using Patron.Domain.Common;

namespace Patron.Domain.Programs;

/// <summary>
/// One version of a loyalty program's rules, effective from a date. Everything a chain's
/// program says (earning, expiry, tiers, member days, member prices, stacking, points debt) is
/// data here; the engines read it and never branch on a program's identity.
/// Money is integer fen, points are integers, percentages are decimals rounded explicitly.
/// </summary>
public sealed record ProgramDefinition
{
    public required string Code { get; init; }

    public required string Name { get; init; }

    public int Version { get; init; } = 1;

    public DateOnly EffectiveFrom { get; init; }

    public string TimeZone { get; init; } = "Asia/Shanghai";

    public EarningRules Earning { get; init; } = new();

    public ExpiryPolicy Expiry { get; init; } = new();

    /// <summary>Tiers from the lowest; the first is where new members start.</summary>
    public IReadOnlyList<TierDefinition> Tiers { get; init; } = [];

    public PricingRules Pricing { get; init; } = new();

    public PointsDebtPolicy PointsDebt { get; init; } = new();

    public EnrolmentPolicy Enrolment { get; init; } = new();

    public ReturnPolicy Returns { get; init; } = new();

    public IReadOnlyList<ConversionRule> Conversions { get; init; } = [];

    public IReadOnlyList<MilestoneRule> Milestones { get; init; } = [];

    public RedemptionRules Redemption { get; init; } = new();

    public IReadOnlyList<EntitlementRule> Entitlements { get; init; } = [];

    /// <summary>Fixed points for events other features report (referral, survey, activity …), by event code.</summary>
    public IReadOnlyDictionary<string, long> EventPoints { get; init; } = new Dictionary<string, long>();

    public AdjustmentPolicy Adjustments { get; init; } = new();

    public PointsPaymentPolicy PointsPayment { get; init; } = new();

    public CardPolicy Cards { get; init; } = new();

    /// <summary>Coupon templates, coupons per order, and what new members receive.</summary>
    public Coupons.CouponRules Coupons { get; init; } = new();

    public StoredValuePolicy StoredValue { get; init; } = new();

    /// <summary>Interests offered on the member file and the completeness score that counts as complete.</summary>
    public ProfilePolicy Profile { get; init; } = new();

    /// <summary>What one point is worth in fen when it is spent (liability reports; 3 when 100 points buy ¥3). 0 when not stated.</summary>
    public decimal PointCashValue { get; init; }

    public TierDefinition? FindTier(string? code) => code is null ? null : Tiers.FirstOrDefault(t => t.Code == code);

    public TierDefinition? EntryTier => Tiers.Count > 0 ? Tiers[0] : null;
}

/// <summary>Which basket lines a rule leaves out: by POS flag, category, brand or SKU.</summary>
public sealed record LineFilter
{
    public IReadOnlyList<string> Flags { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    public IReadOnlyList<string> Brands { get; init; } = [];

    public IReadOnlyList<string> Skus { get; init; } = [];

    public bool Matches(string sku, string? category, string? brand, IReadOnlyCollection<string> flags) =>
        Skus.Contains(sku)
        || (category is not null && Categories.Contains(category))
        || (brand is not null && Brands.Contains(brand))
        || flags.Any(Flags.Contains);
}

/// <summary>Points for purchases: an amount of eligible paid money per point, rounded per receipt.</summary>
public sealed record EarningRules
{
    /// <summary>Fen of eligible paid amount per point: 100 is ¥1 = 1 point, 200 is ¥2 = 1 point.</summary>
    public long AmountPerPoint { get; init; } = 100;

    /// <summary>How the receipt's points are rounded (down by default).</summary>
    public Rounding Rounding { get; init; } = Rounding.Down;

    /// <summary>A receipt whose eligible amount is below this (fen) earns nothing.</summary>
    public long MinimumReceipt { get; init; }

    /// <summary>Lines that earn nothing (special-price, limited, promotional, buy-and-gift, categories …).</summary>
    public LineFilter Excluded { get; init; } = new();

    /// <summary>Payment methods whose part of the receipt earns nothing (medical insurance, rebate cards …).</summary>
    public IReadOnlyList<string> ExcludedPaymentMethods { get; init; } = [];

    /// <summary>Points multiplier on the member's birthday, in percent (200 doubles).</summary>
    public int BirthdayMultiplierPercent { get; init; } = 100;
}

public enum ExpiryKind
{
    Never = 0,
    AfterDays = 1,
    AfterMonths = 2,
    EndOfYear = 3,
    EndOfMonth = 4,
    EndOfQuarter = 5,
}

/// <summary>
/// When earned points lapse, in the program's local time. EndOfYear: at the start of 1 Jan after
/// the year of earning, where points earned on or after <see cref="CutoffMonthDay"/> count to the
/// next year. EndOfMonth / EndOfQuarter: at the end of the month or quarter <see cref="After"/>
/// periods after the one of earning (0 = that same period).
/// </summary>
public sealed record ExpiryPolicy
{
    public ExpiryKind Kind { get; init; } = ExpiryKind.Never;

    public int After { get; init; }

    /// <summary>"MM-dd": for EndOfYear, points earned on or after this day count to the next year.</summary>
    public string? CutoffMonthDay { get; init; }

    /// <summary>How many days ahead "points expiring soon" looks.</summary>
    public int SoonDays { get; init; } = 30;
}

public enum TierQualificationKind
{
    /// <summary>Assigned by head office only.</summary>
    Manual = 0,
    CumulativePoints = 1,
    CumulativeSpend = 2,
    SinglePurchase = 3,
    SingleTopUp = 4,
    AnnualFee = 5,
}

public sealed record TierQualification
{
    public TierQualificationKind Kind { get; init; } = TierQualificationKind.Manual;

    /// <summary>Points, or fen for spend, purchase, top-up and fee.</summary>
    public long Threshold { get; init; }
}

public enum PromotionPoints
{
    Keep = 0,
    Reset = 1,
}

public sealed record TierDefinition
{
    public required string Code { get; init; }

    public required string Name { get; init; }

    public TierQualification Qualification { get; init; } = new();

    /// <summary>Member discount of this tier on every day, in percent off (10 = 10% off); 0 for none.</summary>
    public decimal PercentOff { get; init; }

    /// <summary>Points multiplier in percent (150 = 1.5 points per point).</summary>
    public int PointsMultiplierPercent { get; init; } = 100;

    public PromotionPoints OnPromotion { get; init; } = PromotionPoints.Keep;

    /// <summary>Benefits in words, for the member page and staff.</summary>
    public IReadOnlyList<string> Benefits { get; init; } = [];

    /// <summary>What it takes to keep this tier; null keeps it for good.</summary>
    public TierRetention? Retention { get; init; }
}

public enum Stacking
{
    /// <summary>A line gets the single largest discount it qualifies for.</summary>
    Best = 0,

    /// <summary>Discounts apply one after another in the order listed, each on what remains.</summary>
    Ordered = 1,
}

/// <summary>A percentage discount on the days of its schedule, for some tiers or for all.</summary>
public sealed record DiscountRule
{
    public required string Id { get; init; }

    public string? Name { get; init; }

    public decimal PercentOff { get; init; }

    /// <summary>Days it applies on; every day when empty.</summary>
    public DaySchedule When { get; init; } = new();

    /// <summary>Tier codes it is for; all members when empty.</summary>
    public IReadOnlyList<string> Tiers { get; init; } = [];

    public bool AppliesTo(string? tier, DateOnly date, DateOnly? birthday) =>
        (Tiers.Count == 0 || (tier is not null && Tiers.Contains(tier))) && When.Matches(date, birthday);
}

/// <summary>A fixed member price (fen) for a SKU, for some tiers or for all members.</summary>
public sealed record MemberPrice
{
    public required string Sku { get; init; }

    public long Price { get; init; }

    public IReadOnlyList<string> Tiers { get; init; } = [];
}

public sealed record PricingRules
{
    public Stacking Stacking { get; init; } = Stacking.Best;

    /// <summary>How a percentage discount is rounded to whole fen, per line.</summary>
    public Rounding Rounding { get; init; } = Rounding.HalfUp;

    /// <summary>Lines that get no member discount or member price at all (special-price items …).</summary>
    public LineFilter NoDiscount { get; init; } = new();

    public IReadOnlyList<DiscountRule> Discounts { get; init; } = [];

    public IReadOnlyList<MemberPrice> MemberPrices { get; init; } = [];
}

/// <summary>Whether a return after spending may leave the balance negative, and how far.</summary>
public sealed record PointsDebtPolicy
{
    public bool Allowed { get; init; }

    /// <summary>The largest debt in points; 0 with <see cref="Allowed"/> means no limit.</summary>
    public long Max { get; init; }
}
