namespace Patron.Domain.Pricing;

/// <summary>A basket line as the POS sends it. Prices are fen; flags come from the POS (special_price …).</summary>
public sealed record BasketLine(
    string Sku,
    int Quantity,
    long UnitPrice,
    string? Category = null,
    string? Brand = null,
    IReadOnlyList<string>? Flags = null,
    string? Name = null)
{
    public IReadOnlyList<string> FlagList => Flags ?? [];

    public long Amount => checked(Quantity * UnitPrice);
}

/// <summary>A part of the payment by one method (cash, card, medical_insurance, rebate_card …), fen.</summary>
public sealed record Payment(string Method, long Amount)
{
    /// <summary>The part paid with points: it never earns points.</summary>
    public const string Points = "points";

    /// <summary>The part paid from the member's stored value (principal and bonus).</summary>
    public const string StoredValue = "stored_value";
}

/// <summary>Who is buying, as pricing sees it: their tier and birthday, or nobody.</summary>
public sealed record PricingMember(string? Tier, DateOnly? Birthday)
{
    public static readonly PricingMember? Anonymous = null;
}
