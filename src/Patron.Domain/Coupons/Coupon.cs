using System.Security.Cryptography;
using Patron.Domain.Common;

namespace Patron.Domain.Coupons;

public enum CouponStatus
{
    Issued = 0,
    Used = 1,
    Void = 2,
}

/// <summary>Where a coupon came from, for cost and campaign reports.</summary>
public enum CouponSource
{
    Conversion = 0,
    Milestone = 1,
    Redemption = 2,
    Manual = 3,
    Enrolment = 4,

    /// <summary>Issued through the API by a campaign or another system.</summary>
    Campaign = 5,
}

/// <summary>
/// A coupon: a single-use code that cannot be guessed, held by a member (or by whoever presents
/// it, for a bearer promotion), valid between two instants, carrying a copy of the template it
/// was issued from. A bearer coupon may serve several sales (<see cref="UsesLeft"/>).
/// </summary>
public sealed class Coupon
{
    public const int CodeLength = 16;
    private const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    private CouponTemplate? _template;

    private Coupon()
    {
        Code = "";
        Name = "";
        TemplateCode = "";
        Rules = "{}";
    }

    public Coupon(long programId, long? memberId, CouponTemplate template, CouponSource source, string? sourceRef, DateTime issuedAtUtc, DateTime? startsAtUtc, DateTime? expiresAtUtc)
    {
        ProgramId = programId;
        MemberId = memberId;
        Code = NewCode();
        TemplateCode = template.Code;
        Kind = template.Kind;
        Name = template.Name;
        Value = template.Kind is CouponKind.Cash or CouponKind.Threshold ? template.Value : 0;
        Terms = template.Terms;
        Rules = System.Text.Json.JsonSerializer.Serialize(template, Programs.ProgramFile.Json);
        _template = template;
        UsesLeft = memberId is null ? template.Uses : 1;
        Source = source;
        SourceRef = sourceRef;
        IssuedAt = issuedAtUtc;
        StartsAt = startsAtUtc;
        ExpiresAt = expiresAtUtc;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    /// <summary>The holder; null for a bearer coupon anybody may present.</summary>
    public long? MemberId { get; private set; }

    public string Code { get; private set; }

    public string TemplateCode { get; private set; }

    public CouponKind Kind { get; private set; }

    public string Name { get; private set; }

    /// <summary>Face value in fen for cash and threshold coupons; 0 for discount and gift coupons.</summary>
    public long Value { get; private set; }

    public string? Terms { get; private set; }

    /// <summary>The template as issued (JSON).</summary>
    public string Rules { get; private set; }

    /// <summary>The template as issued; a coupon from before templates is a plain cash voucher (or a gift when it has no value).</summary>
    public CouponTemplate Template => _template ??= Rules == "{}"
        ? new CouponTemplate { Code = TemplateCode, Name = Name, Kind = Value > 0 ? CouponKind.Cash : CouponKind.Gift, Value = Value, Terms = Terms }
        : System.Text.Json.JsonSerializer.Deserialize<CouponTemplate>(Rules, Programs.ProgramFile.Json)!;

    public int UsesLeft { get; private set; }

    public CouponSource Source { get; private set; }

    /// <summary>The rule, redemption, campaign or reason that issued it.</summary>
    public string? SourceRef { get; private set; }

    public long? StoreId { get; set; }

    public long? IssuedByStaffId { get; set; }

    public CouponStatus Status { get; private set; }

    public DateTime IssuedAt { get; private set; }

    public DateTime? StartsAt { get; private set; }

    public DateTime? ExpiresAt { get; private set; }

    public DateTime? UsedAt { get; private set; }

    public bool IsValidAt(DateTime atUtc) => (StartsAt is null || atUtc >= StartsAt) && (ExpiresAt is null || atUtc < ExpiresAt);

    /// <summary>Why it cannot be used now by <paramref name="memberId"/>, or null.</summary>
    public DomainError? Refusal(long? memberId, DateTime atUtc) =>
        Status == CouponStatus.Void ? new DomainError("coupon.void", $"{Name} has been voided.", "coupons")
        : Status == CouponStatus.Used || UsesLeft <= 0 ? new DomainError("coupon.used", $"{Name} has been used.", "coupons")
        : MemberId is { } owner && owner != memberId ? new DomainError("coupon.not_owner", $"{Name} belongs to another member.", "coupons")
        : StartsAt is { } s && atUtc < s ? new DomainError("coupon.not_yet_valid", $"{Name} is valid from {s:yyyy-MM-dd HH:mm} UTC.", "coupons")
        : ExpiresAt is { } e && atUtc >= e ? new DomainError("coupon.expired", $"{Name} expired.", "coupons")
        : null;

    public void Void(DateTime atUtc)
    {
        if (Status == CouponStatus.Used)
        {
            throw new DomainException(new DomainError("coupon.used", "The coupon has been used."));
        }

        Status = CouponStatus.Void;
        UsedAt = atUtc;
    }

    /// <summary>16 characters from a 32-symbol alphabet without look-alikes: 80 random bits.</summary>
    public static string NewCode() => RandomNumberGenerator.GetString(Alphabet, CodeLength);
}

/// <summary>One use of a coupon on a sale: what it took off, what it cost, and whether a return gave it back.</summary>
public sealed class CouponUse
{
    private CouponUse()
    {
    }

    public CouponUse(long couponId, long programId, long saleId, long? memberId, long storeId, DateTime atUtc, long discount, long cost)
    {
        CouponId = couponId;
        ProgramId = programId;
        SaleId = saleId;
        MemberId = memberId;
        StoreId = storeId;
        At = atUtc;
        Discount = discount;
        Cost = cost;
    }

    public long Id { get; private set; }

    public long CouponId { get; private set; }

    public long ProgramId { get; private set; }

    public long SaleId { get; private set; }

    public long? MemberId { get; private set; }

    public long StoreId { get; private set; }

    public DateTime At { get; private set; }

    public long Discount { get; private set; }

    public long Cost { get; private set; }

    /// <summary>Set when the whole sale came back; <see cref="Restored"/> tells whether the coupon became usable again.</summary>
    public DateTime? ReturnedAt { get; private set; }

    public bool Restored { get; private set; }

    public void Returned(DateTime atUtc, bool restored)
    {
        ReturnedAt ??= atUtc;
        Restored = restored;
    }
}
