using Patron.Domain.Common;

namespace Patron.Domain.Rewards;

public enum RedemptionStatus
{
    /// <summary>Points spent; a gift waits for pickup, a coupon is issued.</summary>
    Done = 0,
    PickedUp = 1,
    Cancelled = 2,
}

/// <summary>Points exchanged for an item of the redemption table, with its cost for reports.</summary>
public sealed class Redemption
{
    private Redemption()
    {
        ItemCode = "";
        ItemName = "";
    }

    public Redemption(long programId, long memberId, long storeId, string itemCode, string itemName, long points, long value, long? couponId, DateTime atUtc)
    {
        ProgramId = programId;
        MemberId = memberId;
        StoreId = storeId;
        ItemCode = itemCode;
        ItemName = itemName;
        Points = points;
        Value = value;
        CouponId = couponId;
        At = atUtc;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public long MemberId { get; private set; }

    public long StoreId { get; private set; }

    public string ItemCode { get; private set; }

    public string ItemName { get; private set; }

    public long Points { get; private set; }

    /// <summary>Cost in fen: the coupon's face value or the gift's cost.</summary>
    public long Value { get; private set; }

    public long? CouponId { get; private set; }

    public RedemptionStatus Status { get; private set; }

    public DateTime At { get; private set; }

    public long? StaffId { get; set; }
}

/// <summary>
/// A service a member is granted for one period (a free health check, a trip): usable once, by
/// the holder, until it expires.
/// </summary>
public sealed class Entitlement
{
    private Entitlement()
    {
        Code = "";
        Name = "";
    }

    public Entitlement(long programId, long memberId, string code, string name, int year, DateTime grantedAtUtc, DateTime expiresAtUtc)
    {
        ProgramId = programId;
        MemberId = memberId;
        Code = code;
        Name = name;
        Year = year;
        GrantedAt = grantedAtUtc;
        ExpiresAt = expiresAtUtc;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public long MemberId { get; private set; }

    public string Code { get; private set; }

    public string Name { get; private set; }

    public int Year { get; private set; }

    public DateTime GrantedAt { get; private set; }

    public DateTime ExpiresAt { get; private set; }

    public DateTime? UsedAt { get; private set; }

    public long? UsedStoreId { get; private set; }

    public long? UsedByStaffId { get; private set; }

    /// <summary>Set when a return took the year's spending back below the threshold before it was used.</summary>
    public DateTime? RevokedAt { get; private set; }

    public bool IsUsable(DateTime atUtc) => UsedAt is null && RevokedAt is null && atUtc < ExpiresAt;

    public void Revoke(DateTime atUtc)
    {
        if (UsedAt is null)
        {
            RevokedAt ??= atUtc;
        }
    }

    public void Use(DateTime atUtc, long storeId, long? staffId)
    {
        if (UsedAt is not null)
        {
            throw new DomainException(new DomainError("entitlement.used", $"{Name} has already been used."));
        }

        if (atUtc >= ExpiresAt || RevokedAt is not null)
        {
            throw new DomainException(new DomainError("entitlement.expired", $"{Name} expired."));
        }

        UsedAt = atUtc;
        UsedStoreId = storeId;
        UsedByStaffId = staffId;
    }
}
