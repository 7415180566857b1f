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
}

/// <summary>
/// A voucher a member holds: a face value in fen (0 for a gift item), a single-use code that
/// cannot be guessed, and a validity. Templates, scopes and stacking arrive with the coupons
/// feature; the program engine issues these from conversions, milestones and redemptions.
/// </summary>
public sealed class Coupon
{
    public const int CodeLength = 16;
    private const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

    private Coupon()
    {
        Code = "";
        Name = "";
    }

    public Coupon(long programId, long memberId, string name, long value, string? terms, CouponSource source, string? sourceRef, DateTime issuedAtUtc, DateTime? expiresAtUtc)
    {
        ProgramId = programId;
        MemberId = memberId;
        Code = NewCode();
        Name = name;
        Value = value;
        Terms = terms;
        Source = source;
        SourceRef = sourceRef;
        IssuedAt = issuedAtUtc;
        ExpiresAt = expiresAtUtc;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public long MemberId { get; private set; }

    public string Code { get; private set; }

    public string Name { get; private set; }

    public long Value { get; private set; }

    public string? Terms { get; private set; }

    public CouponSource Source { get; private set; }

    /// <summary>The rule or redemption that issued it.</summary>
    public string? SourceRef { get; private set; }

    public CouponStatus Status { get; private set; }

    public DateTime IssuedAt { get; private set; }

    public DateTime? ExpiresAt { get; private set; }

    public DateTime? UsedAt { get; private set; }

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
