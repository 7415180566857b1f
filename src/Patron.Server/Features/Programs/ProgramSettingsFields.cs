namespace Patron.Server.Features.Programs;

/// <summary>How a settings field is shown and read back into the program file.</summary>
public enum SettingType
{
    /// <summary>A whole number; blank leaves the file's default (or is refused where the file has none).</summary>
    Number,

    /// <summary>A decimal number; blank as <see cref="Number"/>.</summary>
    Decimal,

    /// <summary>A tick box: true or false.</summary>
    Flag,

    /// <summary>Text that must be given (codes and names): blank is written as "" and refused by the file's rules.</summary>
    Text,

    /// <summary>Text that may be left out: blank removes it.</summary>
    OptionalText,

    /// <summary>Text that may be left out and may run over several lines (a text box keeps its line breaks).</summary>
    LongText,

    /// <summary>One of <see cref="SettingField.Choices"/>.</summary>
    Choice,

    /// <summary>Words separated by commas.</summary>
    List,

    /// <summary>Texts one a line.</summary>
    Lines,

    /// <summary>Whole numbers separated by commas.</summary>
    Integers,

    /// <summary>A date yyyy-MM-dd, or blank for none.</summary>
    Date,

    /// <summary>Tick boxes of the weekdays.</summary>
    Weekdays,
}

/// <summary>
/// One field of the settings editor: its path in the program file (relative to its row for a
/// list), how it is read, its label (English, translated on the page) and when a blank is refused.
/// </summary>
public sealed record SettingField(string Path, SettingType Type, string Label)
{
    /// <summary>Choice values with their labels, the file's default first.</summary>
    public (string Value, string Label)[] Choices { get; init; } = [];

    /// <summary>Given the value of another field of the same row or section (by relative path), whether a blank is refused.</summary>
    public Func<Func<string, string>, bool>? RequiredWhen { get; init; }

    /// <summary>What an empty new row shows (the file's default where it is not blank).</summary>
    public string? NewRow { get; init; }

    public string? Help { get; init; }

    /// <summary>Bootstrap column classes.</summary>
    public string Width { get; init; } = "col-6 col-md-3 col-xl-2";

    public static readonly Func<Func<string, string>, bool> Always = _ => true;
}

/// <summary>A section's fields, or a list's row fields (<see cref="List"/> set) with the fields whose blanks make a row empty.</summary>
public sealed record SettingGroup(string Section, string? List, SettingField[] Fields)
{
    /// <summary>Rows whose key fields are all blank are skipped (the empty row at the end).</summary>
    public string[] KeyFields { get; init; } = [];

    public string Title { get; init; } = "";
}

/// <summary>The sections of the program file the editor shows as fields, beyond tiers, earning and member days.</summary>
public static class ProgramSettingsFields
{
    public static readonly SettingGroup Cards = new("cards", null,
    [
        new("cards.fee", SettingType.Number, "Card fee (fen)"),
        new("cards.annualFee", SettingType.Number, "Annual fee (fen)"),
        new("cards.validity.kind", SettingType.Choice, "Card validity") { Choices = [("none", "Never lapses"), ("days", "Days from issue"), ("years", "Years from issue")] },
        new("cards.validity.length", SettingType.Number, "Validity length") { RequiredWhen = v => v("cards.validity.kind") is "days" or "years" },
        new("cards.validity.restartOnPurchase", SettingType.Flag, "Each purchase restarts the period"),
        new("cards.validity.restartOnTopUp", SettingType.Flag, "Each top-up restarts the period"),
        new("cards.validity.renewalFee", SettingType.Number, "Renewal fee (fen)") { Help = "Blank: no renewal for a fee" },
        new("cards.validity.renewalPoints", SettingType.Number, "Points that renew automatically") { Help = "Blank: none" },
        new("cards.validity.purgeAfterDays", SettingType.Number, "Days after lapsing until off the active lists") { Help = "Blank: never" },
        new("cards.replacement.lost", SettingType.Number, "Replacement fee, lost (fen)"),
        new("cards.replacement.damaged", SettingType.Number, "Replacement fee, damaged (fen)"),
        new("cards.replacement.firstFree", SettingType.Flag, "First replacement free"),
        new("cards.subCards.max", SettingType.Number, "Sub-cards per member"),
        new("cards.subCards.tier", SettingType.OptionalText, "Sub-card tier") { Help = "Tier code; blank: the principal's tier" },
        new("cards.anonymous", SettingType.Flag, "Anonymous cards sold"),
        new("cards.allowMerge", SettingType.Flag, "Cards may be merged"),
    ])
    { Title = "Card policy" };

    public static readonly SettingGroup StoredValue = new("storedValue", null,
    [
        new("storedValue.enabled", SettingType.Flag, "Stored value enabled"),
        new("storedValue.minimumTopUp", SettingType.Number, "Smallest top-up (fen)"),
        new("storedValue.maximumTopUp", SettingType.Number, "Largest top-up (fen)"),
        new("storedValue.spendOrder", SettingType.Choice, "Spend order") { Choices = [("principal_first", "Principal first"), ("bonus_first", "Bonus first"), ("proportional", "Proportionally")] },
        new("storedValue.refundable", SettingType.Flag, "Unspent principal refundable"),
    ])
    { Title = "Stored-value policy" };

    public static readonly SettingGroup BonusTiers = new("storedValue", "storedValue.bonusTiers",
    [
        new("minimum", SettingType.Number, "Top-up of at least (fen)") { RequiredWhen = SettingField.Always },
        new("bonus", SettingType.Number, "Bonus (fen)"),
        new("subCards", SettingType.Number, "Sub-cards issued"),
        new("subCardTier", SettingType.OptionalText, "Sub-card tier"),
        new("gifts", SettingType.Lines, "Gifts (one a line)") { Width = "col-12 col-md-4" },
    ])
    { KeyFields = ["minimum", "bonus", "gifts"], Title = "Top-up bonus tiers" };

    public static readonly SettingGroup Redemption = new("redemption", null,
    [
        new("redemption.months", SettingType.Integers, "Open months") { Help = "1–12 separated by commas; blank: every month", Width = "col-12 col-md-4" },
        new("redemption.window.weekdays", SettingType.Weekdays, "Open weekdays") { Help = "None ticked: every day", Width = "col-12 col-md-4" },
        new("redemption.window.daysOfMonth", SettingType.Integers, "Open days of the month") { Width = "col-6 col-md-2" },
        new("redemption.window.lunarDaysOfMonth", SettingType.Integers, "Open lunar days of the month") { Width = "col-6 col-md-2" },
    ])
    { Title = "Redemption catalogue" };

    public static readonly SettingGroup RedemptionItems = new("redemption", "redemption.items",
    [
        new("code", SettingType.Text, "Code"),
        new("name", SettingType.Text, "Item name"),
        new("points", SettingType.Number, "Points") { RequiredWhen = SettingField.Always },
        new("kind", SettingType.Choice, "Kind") { Choices = [("gift", "Gift"), ("coupon", "Coupon"), ("cash", "Cash off"), ("service", "Service")] },
        new("value", SettingType.Number, "Value (fen)") { RequiredWhen = v => v("kind") == "cash" },
        new("coupon", SettingType.OptionalText, "Coupon template") { Help = "Coupon items; blank: a cash coupon of the value" },
        new("validDays", SettingType.Number, "Valid days") { Help = "Blank: no limit" },
        new("tiers", SettingType.List, "Tiers") { Help = "Blank: everybody" },
        new("perMember", SettingType.Number, "Per member") { Help = "Blank: no limit" },
        new("limitPeriod", SettingType.Choice, "Limit period") { Choices = [("ever", "Ever"), ("year", "A year"), ("month", "A month")] },
        new("months", SettingType.Integers, "Months") { Help = "Blank: every month" },
        new("stores", SettingType.List, "Stores") { Help = "Blank: every store" },
        new("issuingStoreOnly", SettingType.Flag, "Enrolment store only"),
        new("stock", SettingType.Flag, "Stock counted per store"),
    ])
    { KeyFields = ["code", "name", "points"], Title = "Redemption items" };

    public static readonly SettingGroup Coupons = new("coupons", null,
    [
        new("coupons.maxPerOrder", SettingType.Number, "Coupons per order"),
        new("coupons.onEnrolment", SettingType.List, "Coupons for new members") { Help = "Template codes separated by commas", Width = "col-12 col-md-6" },
    ])
    { Title = "Coupon templates" };

    public static readonly SettingGroup CouponTemplates = new("coupons", "coupons.templates",
    [
        new("code", SettingType.Text, "Code"),
        new("name", SettingType.Text, "Coupon name"),
        new("kind", SettingType.Choice, "Kind") { Choices = [("cash", "Cash voucher"), ("discount", "Discount coupon"), ("threshold", "Spend-threshold discount"), ("gift", "Gift coupon")] },
        new("value", SettingType.Number, "Value (fen)") { RequiredWhen = v => v("kind") is "cash" or "threshold" },
        new("percentOff", SettingType.Decimal, "% off") { RequiredWhen = v => v("kind") == "discount" },
        new("cap", SettingType.Number, "Cap (fen)") { Help = "Blank: no cap" },
        new("minimumSpend", SettingType.Number, "Minimum spend (fen)") { RequiredWhen = v => v("kind") == "threshold" },
        new("scope.categories", SettingType.List, "Categories") { Help = "Blank: all lines" },
        new("scope.brands", SettingType.List, "Brands"),
        new("scope.skus", SettingType.List, "SKUs"),
        new("scope.stores", SettingType.List, "Stores") { Help = "Blank: every store" },
        new("giftSku", SettingType.OptionalText, "Gift SKU"),
        new("validFrom", SettingType.Date, "Valid from"),
        new("validUntil", SettingType.Date, "Valid until"),
        new("validDays", SettingType.Number, "Valid days") { Help = "Blank: no limit" },
        new("perMember", SettingType.Number, "Per member") { Help = "Blank: no limit" },
        new("total", SettingType.Number, "Total issued") { Help = "Blank: no limit" },
        new("uses", SettingType.Number, "Uses per coupon") { NewRow = "1" },
        new("cost", SettingType.Number, "Cost per use (fen)") { Help = "Blank: the discount given" },
        new("onReturn", SettingType.Choice, "On a return") { Choices = [("restore", "Usable again"), ("void", "Stays used")] },
        new("exclusive", SettingType.Flag, "No other coupon on the order"),
        new("withMemberDiscount", SettingType.Flag, "With member discounts") { NewRow = "true" },
        new("discountEarnsPoints", SettingType.Flag, "Discount earns points"),
        new("terms", SettingType.LongText, "Terms") { Width = "col-12 col-md-6" },
    ])
    { KeyFields = ["code", "name", "value", "percentOff"], Title = "Coupon templates" };

    public static readonly SettingGroup Expiry = new("expiry", null,
    [
        new("expiry.kind", SettingType.Choice, "Points expire") { Choices = [("never", "Points never expire"), ("after_days", "Days after earning"), ("after_months", "Months after earning"), ("end_of_year", "At the end of the year"), ("end_of_month", "At the end of the month"), ("end_of_quarter", "At the end of the quarter")] },
        new("expiry.after", SettingType.Number, "After (days, months or periods)") { RequiredWhen = v => v("expiry.kind") is "after_days" or "after_months" },
        new("expiry.cutoffMonthDay", SettingType.OptionalText, "Year-end cut-off (MM-dd)") { Help = "End of the year only: earned on or after it counts to the next year" },
        new("expiry.soonDays", SettingType.Number, "Expiring soon: days ahead"),
    ])
    { Title = "Points expiry" };

    public static readonly SettingGroup Pricing = new("pricing", null,
    [
        new("pricing.stacking", SettingType.Choice, "Stacking") { Choices = [("best", "The best discount only"), ("ordered", "One after another")] },
        new("pricing.rounding", SettingType.Choice, "Discount rounding per line") { Choices = [("half_up", "Round half up"), ("down", "Round down"), ("up", "Round up")] },
        new("pricing.noDiscount.flags", SettingType.List, "No member discount: POS flags") { Width = "col-12 col-md-6" },
        new("pricing.noDiscount.categories", SettingType.List, "Categories") { Width = "col-12 col-md-6" },
        new("pricing.noDiscount.brands", SettingType.List, "Brands") { Width = "col-12 col-md-6" },
        new("pricing.noDiscount.skus", SettingType.List, "SKUs") { Width = "col-12 col-md-6" },
    ])
    { Title = "Pricing and stacking" };

    public static readonly SettingGroup MemberPrices = new("pricing", "pricing.memberPrices",
    [
        new("sku", SettingType.Text, "SKU"),
        new("price", SettingType.Number, "Member price (fen)") { RequiredWhen = SettingField.Always },
        new("tiers", SettingType.List, "Tiers") { Help = "Blank: all members", Width = "col-12 col-md-4" },
    ])
    { KeyFields = ["sku", "price"], Title = "Member prices" };

    /// <summary>In the order the page shows them: each section's own fields, then its list.</summary>
    public static readonly SettingGroup[] All = [Cards, StoredValue, BonusTiers, Redemption, RedemptionItems, Coupons, CouponTemplates, Expiry, Pricing, MemberPrices];

    /// <summary>The sections these groups edit, in the page's order.</summary>
    public static readonly string[] Sections = ["cards", "storedValue", "redemption", "coupons", "expiry", "pricing"];

    public static IEnumerable<SettingGroup> Of(string section) => All.Where(g => g.Section == section);

    public static SettingGroup? ListGroup(string list) => All.FirstOrDefault(g => g.List == list);
}
