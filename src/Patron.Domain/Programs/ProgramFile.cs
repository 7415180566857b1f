using System.Text.Json;
using System.Text.Json.Serialization;
using Patron.Domain.Common;

namespace Patron.Domain.Programs;

/// <summary>
/// The JSON program file (docs/programs.md): reading with errors that name the field, semantic
/// validation, and writing. An invalid file never yields a definition.
/// </summary>
public static class ProgramFile
{
    /// <summary>The longest span a program may give points or a card validity: dates further out do not exist (year 9999) or mean nothing.</summary>
    public const int MaxYears = 100;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        AllowDuplicateProperties = false,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.All),
    };

    /// <summary>Parses and validates; throws <see cref="DomainException"/> with every problem found.</summary>
    /// <summary>Reads and validates a program file: every problem is reported with its field.</summary>
    public static ProgramDefinition Parse(string json)
    {
        var program = Read(json);
        var errors = Validate(program);
        return errors.Count > 0 ? throw new DomainException(errors) : program;
    }

    /// <summary>
    /// Reads a stored version without validating it again: it was valid under the rules of the day it
    /// was saved, and a rule added since must not stop the sales of a version in force (publishing a
    /// draft validates it again).
    /// </summary>
    public static ProgramDefinition Read(string json)
    {
        ProgramDefinition? program;
        try
        {
            program = JsonSerializer.Deserialize<ProgramDefinition>(json, Json);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? null : e.Path.TrimStart('$', '.');
            var reason = e.Message.Split(" Path:", 2)[0];
            throw new DomainException(new DomainError("program.file_malformed", field is null ? reason : $"{field}: {reason}", field));
        }

        return program ?? throw new DomainException(new DomainError("program.file_malformed", "The file is empty."));
    }

    public static string Write(ProgramDefinition program) => JsonSerializer.Serialize(program, Json);

    public static IReadOnlyList<DomainError> Validate(ProgramDefinition p)
    {
        var errors = new List<DomainError>();
        void Fail(string field, string message) => errors.Add(new DomainError("program.invalid", $"{field}: {message}", field));

        if (string.IsNullOrWhiteSpace(p.Code) || p.Code.Length > 32)
        {
            Fail("code", "1–32 characters are required.");
        }

        if (string.IsNullOrWhiteSpace(p.Name) || p.Name.Length > 100)
        {
            Fail("name", "1–100 characters are required.");
        }

        if (p.Version < 1)
        {
            Fail("version", "must be 1 or more.");
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(p.TimeZone, out _))
        {
            Fail("timeZone", $"'{p.TimeZone}' is not a known time zone.");
        }

        if (p.Earning.AmountPerPoint < 1)
        {
            Fail("earning.amountPerPoint", "must be at least 1 fen.");
        }

        if (p.Earning.MinimumReceipt < 0)
        {
            Fail("earning.minimumReceipt", "must not be negative.");
        }

        if (p.Earning.BirthdayMultiplierPercent is < 0 or > 10_000)
        {
            Fail("earning.birthdayMultiplierPercent", "must be between 0 and 10000.");
        }

        ValidateExpiry(p.Expiry, Fail);

        var codes = new HashSet<string>();
        for (var i = 0; i < p.Tiers.Count; i++)
        {
            var t = p.Tiers[i];
            var at = $"tiers[{i}]";
            if (string.IsNullOrWhiteSpace(t.Code) || !codes.Add(t.Code))
            {
                Fail($"{at}.code", "a unique, non-empty code is required.");
            }

            if (t.PercentOff is < 0 or > 100)
            {
                Fail($"{at}.percentOff", "must be between 0 and 100.");
            }

            if (t.PointsMultiplierPercent is < 0 or > 10_000)
            {
                Fail($"{at}.pointsMultiplierPercent", "must be between 0 and 10000.");
            }

            if (t.Qualification.Threshold < 0)
            {
                Fail($"{at}.qualification.threshold", "must not be negative.");
            }
        }

        for (var i = 1; i < p.Tiers.Count; i++)
        {
            var (lower, upper) = (p.Tiers[i - 1].Qualification, p.Tiers[i].Qualification);
            if (upper.Kind != TierQualificationKind.Manual && lower.Kind == upper.Kind && upper.Threshold <= lower.Threshold)
            {
                Fail($"tiers[{i}].qualification.threshold", "tiers are listed from the lowest: thresholds must rise.");
            }
        }

        var ids = new HashSet<string>();
        for (var i = 0; i < p.Pricing.Discounts.Count; i++)
        {
            var d = p.Pricing.Discounts[i];
            var at = $"pricing.discounts[{i}]";
            if (string.IsNullOrWhiteSpace(d.Id) || !ids.Add(d.Id))
            {
                Fail($"{at}.id", "a unique, non-empty id is required.");
            }

            if (d.PercentOff is <= 0 or > 100)
            {
                Fail($"{at}.percentOff", "must be more than 0 and at most 100.");
            }

            foreach (var tier in d.Tiers.Where(t => !codes.Contains(t)))
            {
                Fail($"{at}.tiers", $"unknown tier '{tier}'.");
            }

            if (d.When.DaysOfMonth.Any(x => x is < 1 or > 31))
            {
                Fail($"{at}.when.daysOfMonth", "days are 1–31.");
            }

            if (d.When.LunarDaysOfMonth.Any(x => x is < 1 or > 30))
            {
                Fail($"{at}.when.lunarDaysOfMonth", "lunar days are 1–30.");
            }

            if (d.When.DateRanges.Any(r => r.To < r.From))
            {
                Fail($"{at}.when.dateRanges", "a range ends before it starts.");
            }
        }

        for (var i = 0; i < p.Pricing.MemberPrices.Count; i++)
        {
            if (p.Pricing.MemberPrices[i].Price < 0 || string.IsNullOrWhiteSpace(p.Pricing.MemberPrices[i].Sku))
            {
                Fail($"pricing.memberPrices[{i}]", "a SKU and a price that is not negative are required.");
            }
        }

        if (p.PointsDebt.Max < 0)
        {
            Fail("pointsDebt.max", "must not be negative.");
        }

        ValidateRewards(p, codes, Fail);
        ValidateCards(p, codes, Fail);
        ValidateProfile(p.Profile, Fail);

        return errors;
    }

    private static void ValidateRewards(ProgramDefinition p, HashSet<string> tierCodes, Action<string, string> fail)
    {
        if (p.Enrolment.MinimumPurchase < 0)
        {
            fail("enrolment.minimumPurchase", "must not be negative.");
        }

        if (p.Returns.WindowDays is < 0)
        {
            fail("returns.windowDays", "must not be negative.");
        }

        if (p.Returns.LastDayUntil is { } until && !TimeOnly.TryParseExact(until, "HH:mm", out _))
        {
            fail("returns.lastDayUntil", "write it as HH:mm, for example 18:00.");
        }

        for (var i = 0; i < p.Conversions.Count; i++)
        {
            var c = p.Conversions[i];
            if (string.IsNullOrWhiteSpace(c.Id) || c.Id.Length > 32)
            {
                fail($"conversions[{i}].id", "an id of 1–32 characters is required.");
            }

            if (c.EveryPoints < 1)
            {
                fail($"conversions[{i}].everyPoints", "must be at least 1.");
            }

            ValidateVoucher(c.Voucher, $"conversions[{i}].voucher", fail);
        }

        for (var i = 0; i < p.Milestones.Count; i++)
        {
            var m = p.Milestones[i];
            if (string.IsNullOrWhiteSpace(m.Id) || m.Id.Length > 32)
            {
                fail($"milestones[{i}].id", "an id of 1–32 characters is required.");
            }

            if (m.Steps.Count == 0)
            {
                fail($"milestones[{i}].steps", "at least one step is required.");
            }

            for (var j = 0; j < m.Steps.Count; j++)
            {
                var step = m.Steps[j];
                if (step.Threshold < 1 || (j > 0 && step.Threshold <= m.Steps[j - 1].Threshold))
                {
                    fail($"milestones[{i}].steps[{j}].threshold", "thresholds are positive and rise from step to step.");
                }

                if (step.Points < 0 || (step.Points == 0 && step.Voucher is null))
                {
                    fail($"milestones[{i}].steps[{j}]", "a step gives points, a voucher or both.");
                }

                if (step.Voucher is not null)
                {
                    ValidateVoucher(step.Voucher, $"milestones[{i}].steps[{j}].voucher", fail);
                }
            }
        }

        if (p.Redemption.Months.Any(m => m is < 1 or > 12))
        {
            fail("redemption.months", "months are 1–12.");
        }

        var items = new HashSet<string>();
        for (var i = 0; i < p.Redemption.Items.Count; i++)
        {
            var item = p.Redemption.Items[i];
            if (string.IsNullOrWhiteSpace(item.Code) || item.Code.Length > 32 || !items.Add(item.Code))
            {
                fail($"redemption.items[{i}].code", "a unique code of 1–32 characters is required.");
            }

            if (item.Points < 1)
            {
                fail($"redemption.items[{i}].points", "must be at least 1.");
            }

            if (item.Value < 0)
            {
                fail($"redemption.items[{i}].value", "must not be negative.");
            }

            foreach (var tier in item.Tiers.Where(t => !tierCodes.Contains(t)))
            {
                fail($"redemption.items[{i}].tiers", $"unknown tier '{tier}'.");
            }

            if (item.Coupon is { } template && (item.Kind != RewardKind.Coupon || p.Coupons.Find(template) is null))
            {
                fail($"redemption.items[{i}].coupon", $"'{template}' must be a coupon template of this program, on a coupon item.");
            }

            if (item.Kind is RewardKind.Cash && item.Value < 1)
            {
                fail($"redemption.items[{i}].value", "a cash item needs a value of at least 1 fen.");
            }

            if (item.PerMember is < 1 || item.ValidDays is < 1 || item.Months.Any(m => m is < 1 or > 12))
            {
                fail($"redemption.items[{i}]", "perMember and validDays are at least 1; months are 1–12.");
            }

            if (item.Stock && item.Kind != RewardKind.Gift)
            {
                fail($"redemption.items[{i}].stock", "only gifts have stock.");
            }
        }

        ValidateCoupons(p.Coupons, fail);

        var entitlements = new HashSet<string>();
        for (var i = 0; i < p.Entitlements.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(p.Entitlements[i].Code) || !entitlements.Add(p.Entitlements[i].Code))
            {
                fail($"entitlements[{i}].code", "a unique, non-empty code is required.");
            }

            if (p.Entitlements[i].AnnualSpend < 1)
            {
                fail($"entitlements[{i}].annualSpend", "must be at least 1 fen.");
            }
        }

        foreach (var (code, points) in p.EventPoints.Where(e => e.Value < 1))
        {
            fail($"eventPoints.{code}", "must be at least 1.");
        }

        if (p.PointsPayment.PointsPerYuan is < 1 or > 1_000_000 || p.PointsPayment.MaxPercentOfPayable is < 1 or > 100)
        {
            fail("pointsPayment", "pointsPerYuan is 1–1000000 and maxPercentOfPayable 1–100.");
        }

        if (p.PointCashValue < 0 || p.PointCashValue > 10_000)
        {
            fail("pointCashValue", "fen per point, from 0 to 10000.");
        }

        foreach (var (role, cap) in p.Adjustments.CapByRole.Where(e => e.Value < 0 || !KnownRoles.Contains(e.Key)))
        {
            fail($"adjustments.capByRole.{role}", "roles are admin, marketing, store_manager, cashier and auditor; caps are not negative.");
        }

        for (var i = 0; i < p.Tiers.Count; i++)
        {
            if (p.Tiers[i].Retention is { } r && (r.WindowMonths is < 1 or > 120 || r.Threshold < 0))
            {
                fail($"tiers[{i}].retention", "the window is 1–120 months and the threshold not negative.");
            }
        }
    }

    private static void ValidateCards(ProgramDefinition p, HashSet<string> tierCodes, Action<string, string> fail)
    {
        var c = p.Cards;
        if (c.Fee < 0 || c.AnnualFee < 0 || c.Replacement.Lost < 0 || c.Replacement.Damaged < 0)
        {
            fail("cards", "fees (fee, annualFee, replacement.lost, replacement.damaged) must not be negative.");
        }

        var v = c.Validity;
        if (v.Kind != ValidityKind.None && (v.Length < 1 || v.Length > (v.Kind == ValidityKind.Years ? MaxYears : MaxYears * 365)))
        {
            fail("cards.validity.length", $"a validity of days or years needs a length of 1 or more, up to {MaxYears} years.");
        }

        if (v.Kind == ValidityKind.None && (v.RestartOnPurchase || v.RestartOnTopUp || v.RenewalFee is not null || v.RenewalPoints is not null))
        {
            fail("cards.validity.kind", "restarts and renewals need a validity of days or years.");
        }

        if (v.RenewalFee is < 0 || v.RenewalPoints is < 1 || v.PurgeAfterDays is < 0)
        {
            fail("cards.validity", "renewalFee is not negative, renewalPoints at least 1 and purgeAfterDays not negative.");
        }

        if (c.SubCards.Max is < 0 or > 100)
        {
            fail("cards.subCards.max", "must be between 0 and 100.");
        }

        if (c.SubCards.Tier is { } subTier && !tierCodes.Contains(subTier))
        {
            fail("cards.subCards.tier", $"unknown tier '{subTier}'.");
        }

        var sv = p.StoredValue;
        if (sv.MinimumTopUp < 1 || sv.MaximumTopUp < sv.MinimumTopUp)
        {
            fail("storedValue.minimumTopUp", "at least 1 fen, and not above maximumTopUp.");
        }

        for (var i = 0; i < sv.BonusTiers.Count; i++)
        {
            var t = sv.BonusTiers[i];
            var at = $"storedValue.bonusTiers[{i}]";
            if (t.Minimum < 1 || (i > 0 && t.Minimum <= sv.BonusTiers[i - 1].Minimum))
            {
                fail($"{at}.minimum", "minimums are positive and rise from tier to tier.");
            }

            if (t.Bonus < 0 || t.SubCards is < 0 or > 100 || t.Gifts.Any(g => string.IsNullOrWhiteSpace(g) || g.Length > 100 || g.Any(char.IsControl)))
            {
                fail(at, "bonus is not negative, subCards 0–100, gifts are named in 1–100 characters without line breaks.");
            }

            // A top-up records its tier's gifts one per line, in a column of limited length.
            if (string.Join('\n', t.Gifts).Length > StoredValue.TopUp.GiftsMaxLength)
            {
                fail($"{at}.gifts", $"the gifts' names together (one per line) are at most {StoredValue.TopUp.GiftsMaxLength} characters.");
            }

            if (t.SubCardTier is { } tier && !tierCodes.Contains(tier))
            {
                fail($"{at}.subCardTier", $"unknown tier '{tier}'.");
            }
        }

        if (!sv.Enabled && sv.BonusTiers.Count > 0)
        {
            fail("storedValue.enabled", "bonus tiers need stored value enabled.");
        }
    }

    private static void ValidateCoupons(Coupons.CouponRules rules, Action<string, string> fail)
    {
        if (rules.MaxPerOrder is < 1 or > 20)
        {
            fail("coupons.maxPerOrder", "must be 1–20.");
        }

        var codes = new HashSet<string>();
        for (var i = 0; i < rules.Templates.Count; i++)
        {
            var t = rules.Templates[i];
            var at = $"coupons.templates[{i}]";
            if (string.IsNullOrWhiteSpace(t.Code) || t.Code.Length > 32 || !codes.Add(t.Code))
            {
                fail($"{at}.code", "a unique code of 1–32 characters is required.");
            }

            if (string.IsNullOrWhiteSpace(t.Name) || t.Name.Length > 100)
            {
                fail($"{at}.name", "1–100 characters are required.");
            }

            switch (t.Kind)
            {
                case Coupons.CouponKind.Cash when t.Value < 1:
                case Coupons.CouponKind.Threshold when t.Value < 1 || t.MinimumSpend <= t.Value:
                    fail($"{at}.value", "a cash coupon takes at least 1 fen off; a threshold coupon takes less than its minimumSpend.");
                    break;
                case Coupons.CouponKind.Discount when t.PercentOff is <= 0 or >= 100 || t.Cap < 0:
                    fail($"{at}.percentOff", "a discount coupon takes more than 0 and less than 100 percent off, with a cap not negative.");
                    break;
            }

            if (t.MinimumSpend < 0 || t.Cost is < 0 || t.Uses < 1 || t.PerMember is < 1 || t.Total is < 1 || t.ValidDays is < 1)
            {
                fail(at, "minimumSpend and cost are not negative; uses, perMember, total and validDays are at least 1.");
            }

            if (t.ValidFrom is { } from && t.ValidUntil is { } until && until < from)
            {
                fail($"{at}.validUntil", "must not be before validFrom.");
            }
        }

        foreach (var code in rules.OnEnrolment.Where(c => rules.Find(c) is null))
        {
            fail("coupons.onEnrolment", $"unknown template '{code}'.");
        }
    }

    private static readonly string[] KnownRoles = ["admin", "marketing", "store_manager", "cashier", "auditor"];

    private static void ValidateVoucher(VoucherSpec v, string at, Action<string, string> fail)
    {
        if (string.IsNullOrWhiteSpace(v.Name) || v.Name.Length > 100)
        {
            fail($"{at}.name", "1–100 characters are required.");
        }

        if (v.Value < 0)
        {
            fail($"{at}.value", "must not be negative.");
        }

        if (v.ValidDays is < 1)
        {
            fail($"{at}.validDays", "must be at least 1 when given.");
        }
    }

    private static void ValidateProfile(ProfilePolicy profile, Action<string, string> fail)
    {
        if (profile.CompleteAt is < 1 or > 100)
        {
            fail("profile.completeAt", "must be between 1 and 100.");
        }

        if (profile.Interests.Count > ProfilePolicy.MaxInterests)
        {
            fail("profile.interests", $"at most {ProfilePolicy.MaxInterests} interests.");
        }

        var seen = new HashSet<string>();
        for (var i = 0; i < profile.Interests.Count; i++)
        {
            var x = profile.Interests[i];
            if (string.IsNullOrWhiteSpace(x.Code) || x.Code.Length > 32 || x.Code.Contains('|') || !seen.Add(x.Code))
            {
                fail($"profile.interests[{i}].code", "a unique code of 1–32 characters without '|' is required.");
            }

            if (string.IsNullOrWhiteSpace(x.Name) || x.Name.Length > 20)
            {
                fail($"profile.interests[{i}].name", "1–20 characters are required.");
            }
        }
    }

    private static void ValidateExpiry(ExpiryPolicy e, Action<string, string> fail)
    {
        if (e.After < 0)
        {
            fail("expiry.after", "must not be negative.");
        }

        if (e.Kind is ExpiryKind.AfterDays or ExpiryKind.AfterMonths && e.After < 1)
        {
            fail("expiry.after", "must be at least 1 for after_days and after_months.");
        }

        var longest = e.Kind switch
        {
            ExpiryKind.AfterDays => MaxYears * 365,
            ExpiryKind.AfterMonths or ExpiryKind.EndOfMonth => MaxYears * 12,
            ExpiryKind.EndOfQuarter => MaxYears * 4,
            _ => int.MaxValue,
        };
        if (e.After > longest)
        {
            fail("expiry.after", $"points may be kept up to {MaxYears} years.");
        }

        if (e.CutoffMonthDay is { } c)
        {
            if (e.Kind != ExpiryKind.EndOfYear)
            {
                fail("expiry.cutoffMonthDay", "applies to end_of_year only.");
            }
            else if (!DateOnly.TryParseExact("2023-" + c, "yyyy-MM-dd", out _))
            {
                fail("expiry.cutoffMonthDay", "write it as MM-dd, a day every year has (not 02-29), for example 12-31.");
            }
        }

        if (e.SoonDays is < 0 or > 366)
        {
            fail("expiry.soonDays", "must be between 0 and 366.");
        }
    }
}
