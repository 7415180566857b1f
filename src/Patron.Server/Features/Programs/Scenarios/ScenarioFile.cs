using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Patron.Domain.Common;

namespace Patron.Server.Features.Programs.Scenarios;

/// <summary>
/// A program test case (docs/scenarios.md): steps run in order on a fresh database with a
/// virtual clock, each optionally followed by expectations. Money is written in yuan ("45.00"),
/// times in the program's local time ("2026-03-19 10:00").
/// </summary>
public sealed record ScenarioFile
{
    public string? Name { get; init; }

    /// <summary>The program file, relative to the scenario file; <c>--program</c> overrides it.</summary>
    public string? Program { get; init; }

    public IReadOnlyList<ScenarioStep> Steps { get; init; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static ScenarioFile Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ScenarioFile>(json, Json) ?? throw new DomainException(new DomainError("scenario.malformed", "The file is empty."));
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) ? null : e.Path.TrimStart('$', '.');
            throw new DomainException(new DomainError("scenario.malformed", $"{field}: {e.Message.Split(" Path:", 2)[0]}", field));
        }
    }

    /// <summary>"45.00" → 4500 fen; at most two decimals.</summary>
    public static long Fen(string yuan, string field)
    {
        if (!decimal.TryParse(yuan, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            || decimal.Round(value, 2) != value)
        {
            throw new DomainException(new DomainError("scenario.malformed", $"{field}: \"{yuan}\" is not an amount in yuan with at most two decimals.", field));
        }

        return (long)(value * 100);
    }

    public static string Yuan(long fen) => (fen / 100m).ToString("0.00", CultureInfo.InvariantCulture);
}

public sealed record ScenarioStep
{
    /// <summary>Local time of the step: "yyyy-MM-dd HH:mm" or "yyyy-MM-dd" (noon). Omitted: one minute after the previous step.</summary>
    public string? At { get; init; }

    public string? Note { get; init; }

    public EnrolStep? Enrol { get; init; }

    public SaleStep? Sale { get; init; }

    public ReturnStep? Return { get; init; }

    public RedeemStep? Redeem { get; init; }

    public AdjustStep? Adjust { get; init; }

    public ApproveStep? Approve { get; init; }

    public SetTierStep? SetTier { get; init; }

    public MemberStep? UseEntitlement { get; init; }

    /// <summary>Fixed points for an event (referral, survey …) from the program's eventPoints.</summary>
    public EventStep? Event { get; init; }

    /// <summary>Tops up a member's stored value.</summary>
    public TopUpStep? TopUp { get; init; }

    /// <summary>Pays back unspent stored-value principal.</summary>
    public RefundStep? Refund { get; init; }

    /// <summary>An operation on the member's principal card (or, for revoke, their latest sub-card).</summary>
    public CardStep? Card { get; init; }

    /// <summary>Issues a sub-card at the counter for someone the member names.</summary>
    public SubCardStep? SubCard { get; init; }

    public IssueCouponStep? IssueCoupon { get; init; }

    /// <summary>Hands over the member's latest gift redemption at its store against its pickup code.</summary>
    public MemberStep? Pickup { get; init; }

    /// <summary>Cancels the member's latest redemption (points and stock come back).</summary>
    public MemberStep? CancelRedemption { get; init; }

    /// <summary>Runs the periodic jobs (expiry, tier retention, card validity) at the step's time.</summary>
    public bool RunJobs { get; init; }

    /// <summary>Only looks at a member (for expectations).</summary>
    public MemberStep? Check { get; init; }

    public Expectation? Expect { get; init; }
}

public sealed record EnrolStep
{
    public required string Member { get; init; }

    public string? Name { get; init; }

    public string? Birthday { get; init; }

    /// <summary>Joining with this purchase (the program's enrolment policy decides).</summary>
    public SaleStep? Purchase { get; init; }
}

public sealed record SaleStep
{
    public string? Member { get; init; }

    public required string Order { get; init; }

    public IReadOnlyList<LineStep> Lines { get; init; } = [];

    public IReadOnlyList<PaymentStep>? Payments { get; init; }

    /// <summary>Points the member pays with (the program's pointsPayment decides how far they go).</summary>
    public long? PointsToUse { get; init; }

    /// <summary>Which card identifies the member: "principal" (default: none, the member by id) or "sub" (their latest sub-card).</summary>
    public string? Card { get; init; }

    /// <summary>Coupons to use, by template code: the member's open coupon of each template that expires first.</summary>
    public IReadOnlyList<string>? Coupons { get; init; }
}

/// <summary>Issues coupons of a template to a member (as head office, with the reason "scenario").</summary>
public sealed record IssueCouponStep
{
    public required string Member { get; init; }

    public required string Template { get; init; }

    public int Count { get; init; } = 1;
}

public sealed record TopUpStep
{
    public required string Member { get; init; }

    public required string Amount { get; init; }

    /// <summary>The POS order number; generated when omitted.</summary>
    public string? Order { get; init; }

    /// <summary>Top up through the member's latest sub-card instead (to show it is refused).</summary>
    public string? Card { get; init; }
}

public sealed record RefundStep
{
    public required string Member { get; init; }

    public required string Amount { get; init; }

    public string Reason { get; init; } = "scenario";
}

public sealed record CardStep
{
    public required string Member { get; init; }

    /// <summary>report_lost, replace (after a loss), exchange_damaged, freeze, unfreeze, renew, revoke_sub_card.</summary>
    public required string Action { get; init; }
}

public sealed record SubCardStep
{
    public required string Member { get; init; }

    public string? Holder { get; init; }
}

public sealed record LineStep
{
    public required string Sku { get; init; }

    public required string Price { get; init; }

    public int Qty { get; init; } = 1;

    public string? Name { get; init; }

    public string? Category { get; init; }

    public string? Brand { get; init; }

    public IReadOnlyList<string>? Flags { get; init; }
}

public sealed record PaymentStep
{
    public required string Method { get; init; }

    public required string Amount { get; init; }
}

public sealed record ReturnStep
{
    public required string Order { get; init; }

    public IReadOnlyList<ReturnLineStep>? Lines { get; init; }
}

public sealed record ReturnLineStep
{
    public int Line { get; init; }

    public int? Qty { get; init; }
}

public sealed record RedeemStep
{
    public required string Member { get; init; }

    public required string Item { get; init; }
}

public sealed record AdjustStep
{
    public required string Member { get; init; }

    public long Points { get; init; }

    public string Reason { get; init; } = "scenario";

    /// <summary>Who asks: admin (default), admin2, marketing, manager or cashier.</summary>
    public string By { get; init; } = "admin";
}

/// <summary>Approves (or rejects) the last adjustment waiting for a second person.</summary>
public sealed record ApproveStep
{
    public string By { get; init; } = "admin2";

    public bool Reject { get; init; }
}

public sealed record EventStep
{
    public required string Member { get; init; }

    public required string Code { get; init; }

    public string Reference { get; init; } = "scenario";
}

public sealed record SetTierStep
{
    public required string Member { get; init; }

    public required string Tier { get; init; }
}

public sealed record MemberStep
{
    public required string Member { get; init; }

    /// <summary>For useEntitlement: the entitlement's code.</summary>
    public string? Code { get; init; }
}

/// <summary>What must hold after a step. Only the fields given are checked.</summary>
public sealed record Expectation
{
    /// <summary>The step must be refused with this error code.</summary>
    public string? Error { get; init; }

    public IReadOnlyList<LineExpectation>? Lines { get; init; }

    public string? Amount { get; init; }

    public string? Discount { get; init; }

    public string? Paid { get; init; }

    /// <summary>For a return: the amount given back.</summary>
    public string? Refund { get; init; }

    /// <summary>The part of paid (or refunded) that is money, not points.</summary>
    public string? Money { get; init; }

    /// <summary>Points the step earned (negative: took back).</summary>
    public long? Points { get; init; }

    public long? Balance { get; init; }

    public long? Debt { get; init; }

    public string? Tier { get; init; }

    public long? ExpiringSoon { get; init; }

    /// <summary>Coupons the step issued (conversions, milestones, redemptions).</summary>
    public int? CouponsIssued { get; init; }

    /// <summary>Coupons the member holds, unused.</summary>
    public int? Coupons { get; init; }

    /// <summary>What coupons took off a sale (or, for a return, the value of the coupons it made usable again), yuan.</summary>
    public string? CouponDiscount { get; init; }

    /// <summary>The face value of the coupon the step issued (a redemption or an issue step), yuan.</summary>
    public string? CouponValue { get; init; }

    /// <summary>The state of the member's latest redemption: awaiting_pickup, done, picked_up or cancelled.</summary>
    public string? Redemption { get; init; }

    /// <summary>Entitlements the step granted, by code.</summary>
    public IReadOnlyList<string>? EntitlementsGranted { get; init; }

    /// <summary>Times the member completed (and restarted) milestone ladders this year.</summary>
    public int? MilestoneResets { get; init; }

    /// <summary>Status of the adjustment the step made: applied, pending or rejected.</summary>
    public string? Status { get; init; }

    /// <summary>The member's stored value after the step (principal + bonus), yuan.</summary>
    public string? StoredValue { get; init; }

    public string? Principal { get; init; }

    public string? Bonus { get; init; }

    /// <summary>Whether the stored value is frozen (every principal card lapsed).</summary>
    public bool? Frozen { get; init; }

    /// <summary>The bonus a top-up gave, yuan.</summary>
    public string? BonusGiven { get; init; }

    /// <summary>Gifts a top-up handed over.</summary>
    public IReadOnlyList<string>? Gifts { get; init; }

    /// <summary>Sub-cards the step issued.</summary>
    public int? SubCardsIssued { get; init; }

    /// <summary>Sub-cards the member holds (not revoked).</summary>
    public int? SubCards { get; init; }

    /// <summary>The tier the member's sub-cards carry (all of them, comma-separated when they differ).</summary>
    public string? SubCardTier { get; init; }

    /// <summary>Status of the member's current principal card: active, lost, lapsed, frozen …</summary>
    public string? CardStatus { get; init; }

    /// <summary>Principal cards the member has had, including replaced ones.</summary>
    public int? Cards { get; init; }

    /// <summary>The fee the step charged (a card operation), yuan.</summary>
    public string? Fee { get; init; }

    /// <summary>Local date (yyyy-MM-dd) the current principal card is valid until; "none" when it does not lapse.</summary>
    public string? ValidUntil { get; init; }

    /// <summary>Of a sale paid with stored value: the principal and bonus parts used, yuan.</summary>
    public string? PrincipalUsed { get; init; }

    public string? BonusUsed { get; init; }

    /// <summary>Of a stored-value refund: the bonus that lapsed with it, yuan.</summary>
    public string? BonusForfeited { get; init; }
}

public sealed record LineExpectation
{
    public string? Paid { get; init; }

    public string? Discount { get; init; }

    public string? Rule { get; init; }

    public long? Points { get; init; }
}
