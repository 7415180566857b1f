using Patron.Domain.Calendars;

namespace Patron.Domain.Programs;

/// <summary>Who may join at the counter: a single purchase of at least this much (fen), or free (0).</summary>
public sealed record EnrolmentPolicy
{
    public long MinimumPurchase { get; init; }

    /// <summary>When set, only lines of this brand count toward <see cref="MinimumPurchase"/>.</summary>
    public string? Brand { get; init; }

    /// <summary>Whether the qualifying purchase itself earns points (and gets member prices).</summary>
    public bool QualifyingPurchaseEarns { get; init; } = true;
}

/// <summary>A health topic a member may say they care about (减重, 控糖, 母婴 …), offered on the profile and used by segments.</summary>
public sealed record InterestDefinition(string Code, string Name);

/// <summary>The member file's configurable parts: the interests offered and the score at which a file counts as complete.</summary>
public sealed record ProfilePolicy
{
    public const int MaxInterests = 50;

    public static readonly IReadOnlyList<InterestDefinition> DefaultInterests =
    [
        new("weight_loss", "体重管理"),
        new("diabetes", "血糖管理"),
        new("blood_pressure", "血压管理"),
        new("heart", "心脑血管"),
        new("baby_care", "母婴"),
        new("elderly_care", "老年保健"),
        new("nutrition", "营养保健"),
        new("skin_care", "皮肤护理"),
        new("sleep", "睡眠"),
        new("tcm", "中医养生"),
    ];

    public IReadOnlyList<InterestDefinition> Interests { get; init; } = DefaultInterests;

    /// <summary>The completeness score (0–100) from which a member's file counts as complete in staff reports.</summary>
    public int CompleteAt { get; init; } = 80;
}

/// <summary>What may be returned and until when, in the store's local time.</summary>
public sealed record ReturnPolicy
{
    /// <summary>Days after the sale a return is accepted (0 = the same day only); null for no limit.</summary>
    public int? WindowDays { get; init; }

    /// <summary>"HH:mm": on the last day of the window, returns close at this local time.</summary>
    public string? LastDayUntil { get; init; }

    /// <summary>Lines that can never be returned (split-package drugs, food, cosmetics …).</summary>
    public LineFilter NotReturnable { get; init; } = new();
}

/// <summary>
/// Automatic conversion: each time the balance reaches <see cref="EveryPoints"/>, that many points
/// become a voucher; the remainder keeps accumulating.
/// </summary>
public sealed record ConversionRule
{
    public required string Id { get; init; }

    public long EveryPoints { get; init; }

    public required VoucherSpec Voucher { get; init; }
}

/// <summary>A voucher or gift handed out by a rule (coupon templates arrive with the coupons feature).</summary>
public sealed record VoucherSpec
{
    public required string Name { get; init; }

    /// <summary>Face value in fen (0 for a gift item).</summary>
    public long Value { get; init; }

    /// <summary>Days it stays valid from issue; null for no limit.</summary>
    public int? ValidDays { get; init; }

    /// <summary>Conditions in words, printed on the voucher ("drug purchases only, no change").</summary>
    public string? Terms { get; init; }
}

public enum MilestoneCounter
{
    /// <summary>Points earned by purchases.</summary>
    EarnedPoints = 0,

    /// <summary>Paid amount in fen.</summary>
    Spend = 1,
}

/// <summary>
/// Rebates on a running counter: when the counter passes each threshold, that step's reward is
/// given once; after the last step the counter starts again when <see cref="ResetAfterLast"/>
/// (and the resets of the year are counted, e.g. for a year-end bonus).
/// </summary>
public sealed record MilestoneRule
{
    public required string Id { get; init; }

    public MilestoneCounter Counter { get; init; }

    public IReadOnlyList<MilestoneStep> Steps { get; init; } = [];

    public bool ResetAfterLast { get; init; }
}

public sealed record MilestoneStep
{
    public long Threshold { get; init; }

    /// <summary>Points credited at this step (0 for none).</summary>
    public long Points { get; init; }

    /// <summary>A voucher issued at this step, if any.</summary>
    public VoucherSpec? Voucher { get; init; }
}

public enum RewardKind
{
    /// <summary>Goods handed over at the store against a pickup code.</summary>
    Gift = 0,

    /// <summary>A coupon for a later purchase (a template of the program, or a cash coupon of <see cref="RedemptionItem.Value"/>).</summary>
    Coupon = 1,

    /// <summary>Points turned into cash off the next purchase: a cash coupon of <see cref="RedemptionItem.Value"/>.</summary>
    Cash = 2,

    /// <summary>A service (a health check, a trip): an entitlement used once, marked used by staff.</summary>
    Service = 3,
}

/// <summary>The period a per-member redemption limit counts over.</summary>
public enum LimitPeriod
{
    Ever = 0,
    Year = 1,
    Month = 2,
}

/// <summary>One item of the redemption catalogue: what a number of points buys, for whom, where and when.</summary>
public sealed record RedemptionItem
{
    public required string Code { get; init; }

    public required string Name { get; init; }

    public long Points { get; init; }

    public RewardKind Kind { get; init; }

    /// <summary>Value in fen: a coupon's face value, a gift's cost (for liability and cost reports).</summary>
    public long Value { get; init; }

    /// <summary>Coupon items: the coupon template issued (otherwise a cash coupon of <see cref="Value"/>).</summary>
    public string? Coupon { get; init; }

    /// <summary>Days a coupon or service stays valid from the redemption; services default to the end of the year.</summary>
    public int? ValidDays { get; init; }

    /// <summary>Tiers allowed to redeem it; everybody when empty.</summary>
    public IReadOnlyList<string> Tiers { get; init; } = [];

    /// <summary>How many times one member may redeem it in <see cref="LimitPeriod"/>; no limit when null.</summary>
    public int? PerMember { get; init; }

    public LimitPeriod LimitPeriod { get; init; }

    /// <summary>Months (1–12) this item may be redeemed in, on top of the catalogue's window; every month when empty.</summary>
    public IReadOnlyList<int> Months { get; init; } = [];

    /// <summary>Store codes where it may be redeemed; every store when empty.</summary>
    public IReadOnlyList<string> Stores { get; init; } = [];

    /// <summary>Only at the store where the member enrolled.</summary>
    public bool IssuingStoreOnly { get; init; }

    /// <summary>Gifts: stock is counted per store and a redemption takes one.</summary>
    public bool Stock { get; init; }

    public bool IsOpen(DateOnly date) => Months.Count == 0 || Months.Contains(date.Month);
}

/// <summary>When members may redeem and for what. An empty window schedule means every day.</summary>
public sealed record RedemptionRules
{
    public DaySchedule Window { get; init; } = new();

    /// <summary>Months (1–12) in which redemption is open; every month when empty.</summary>
    public IReadOnlyList<int> Months { get; init; } = [];

    public IReadOnlyList<RedemptionItem> Items { get; init; } = [];

    public bool IsOpen(DateOnly date) => (Months.Count == 0 || Months.Contains(date.Month)) && Window.Matches(date, null);
}

/// <summary>A service granted by spending in a calendar year (a health check, a trip), usable once, expiring at year end.</summary>
public sealed record EntitlementRule
{
    public required string Code { get; init; }

    public required string Name { get; init; }

    /// <summary>Paid amount in fen within one calendar year that grants it.</summary>
    public long AnnualSpend { get; init; }
}

/// <summary>Manual adjustments: how many points a role may move alone, and above what a second person approves.</summary>
public sealed record AdjustmentPolicy
{
    /// <summary>Largest adjustment (absolute points) per role code (admin, marketing, store_manager, cashier); absent = not allowed.</summary>
    public IReadOnlyDictionary<string, long> CapByRole { get; init; } = new Dictionary<string, long> { ["admin"] = 100_000, ["store_manager"] = 500 };

    /// <summary>Adjustments of more than this many points wait for a second approver; null = never.</summary>
    public long? ApprovalAbove { get; init; } = 1_000;
}

/// <summary>Keeping a tier: over a trailing window, the member must reach a threshold or drop one tier.</summary>
public sealed record TierRetention
{
    public int WindowMonths { get; init; } = 12;

    public MilestoneCounter Counter { get; init; } = MilestoneCounter.Spend;

    public long Threshold { get; init; }
}

/// <summary>
/// Paying with points at the counter: <see cref="PointsPerYuan"/> points are worth ¥1, and points
/// pay at most <see cref="MaxPercentOfPayable"/> percent of what a sale costs. The part paid
/// with points earns no points.
/// </summary>
public sealed record PointsPaymentPolicy
{
    public bool Allowed { get; init; }

    public long PointsPerYuan { get; init; } = 100;

    public int MaxPercentOfPayable { get; init; } = 100;

    /// <summary>The smallest number of points that pays a whole number of fen.</summary>
    public long Step => PointsPerYuan / (long)System.Numerics.BigInteger.GreatestCommonDivisor(PointsPerYuan, 100);

    /// <summary>Fen that <paramref name="points"/> pay (points are used in whole steps).</summary>
    public long ValueOf(long points) => points * 100 / PointsPerYuan;

    /// <summary>The most points a sale of <paramref name="payable"/> fen may take, given the balance.</summary>
    public long MaxPoints(long payable, long balance)
    {
        if (!Allowed || balance <= 0 || payable <= 0)
        {
            return 0;
        }

        var maxValue = payable * MaxPercentOfPayable / 100;
        var byValue = maxValue * PointsPerYuan / 100;
        var points = Math.Min(byValue, balance);
        return points - (points % Step);
    }
}
