using Patron.Domain.Common;

namespace Patron.Domain.Rewards;

public enum RedemptionStatus
{
    /// <summary>Points spent; a gift waits for pickup, a coupon or service is issued.</summary>
    Done = 0,
    PickedUp = 1,
    Cancelled = 2,
}

/// <summary>
/// Points exchanged for an item of the catalogue, with its cost for reports. A gift waits at
/// the store for its pickup code; until it is picked up the redemption can be cancelled and the
/// points come back. Gifts handed over are not returnable.
/// </summary>
public sealed class Redemption
{
    private Redemption()
    {
        ItemCode = "";
        ItemName = "";
    }

    public Redemption(long programId, long memberId, long storeId, string itemCode, string itemName, Programs.RewardKind kind, long points, long value, long? couponId, DateTime atUtc)
    {
        ProgramId = programId;
        MemberId = memberId;
        StoreId = storeId;
        ItemCode = itemCode;
        ItemName = itemName;
        Kind = kind;
        Points = points;
        Value = value;
        CouponId = couponId;
        At = atUtc;
        if (kind == Programs.RewardKind.Gift)
        {
            NewPickupCode();
        }
    }

    public const int PickupCodeLength = 10;

    /// <summary>Ten random digits (one in ten billion to guess); drawn again if another redemption of the program has them.</summary>
    public void NewPickupCode() => PickupCode = System.Security.Cryptography.RandomNumberGenerator.GetString("0123456789", PickupCodeLength);

    /// <summary>Whether the redemption took a unit of the store's stock (given back if it is cancelled).</summary>
    public bool TookStock { get; init; }

    public Programs.RewardKind Kind { get; private set; }

    /// <summary>The digits the member shows at the store to collect a gift.</summary>
    public string? PickupCode { get; private set; }

    public DateTime? PickedUpAt { get; private set; }

    public long? PickedUpStoreId { get; private set; }

    public long? PickedUpByStaffId { get; private set; }

    public DateTime? CancelledAt { get; private set; }

    public long? CancelledByStaffId { get; private set; }

    public long? EntitlementId { get; set; }

    public bool AwaitsPickup => Kind == Programs.RewardKind.Gift && Status == RedemptionStatus.Done;

    public void PickUp(long storeId, long? staffId, DateTime atUtc)
    {
        if (Status == RedemptionStatus.Cancelled)
        {
            throw new DomainException(new DomainError("redemption.cancelled", "This redemption was cancelled."));
        }

        if (!AwaitsPickup)
        {
            throw new DomainException(new DomainError("redemption.picked_up", $"{ItemName} has already been collected."));
        }

        if (storeId != StoreId)
        {
            throw new DomainException(new DomainError("redemption.wrong_store", "The gift waits at the store where it was redeemed."));
        }

        Status = RedemptionStatus.PickedUp;
        PickedUpAt = atUtc;
        PickedUpStoreId = storeId;
        PickedUpByStaffId = staffId;
    }

    /// <summary>Cancels before the gift is collected (or the coupon or service used); the caller gives the points back.</summary>
    public void Cancel(long? staffId, DateTime atUtc)
    {
        if (Status == RedemptionStatus.PickedUp)
        {
            throw new DomainException(new DomainError("redemption.picked_up", $"{ItemName} has been collected: gifts are not returnable."));
        }

        if (Status == RedemptionStatus.Cancelled)
        {
            throw new DomainException(new DomainError("redemption.cancelled", "This redemption was already cancelled."));
        }

        Status = RedemptionStatus.Cancelled;
        CancelledAt = atUtc;
        CancelledByStaffId = staffId;
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

    /// <summary>Where it came from: null for a spending rule, or the redemption that bought it.</summary>
    public long? RedemptionId { get; set; }

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

/// <summary>How many units of a catalogue gift a store holds for pickup.</summary>
public sealed class GiftStock
{
    private GiftStock()
    {
        ItemCode = "";
    }

    public GiftStock(long programId, string itemCode, long storeId, int quantity, DateTime atUtc)
    {
        ProgramId = programId;
        ItemCode = itemCode;
        StoreId = storeId;
        Quantity = quantity;
        UpdatedAt = atUtc;
    }

    public long ProgramId { get; private set; }

    public string ItemCode { get; private set; }

    public long StoreId { get; private set; }

    public int Quantity { get; private set; }

    public DateTime UpdatedAt { get; private set; }

    public void Set(int quantity, DateTime atUtc)
    {
        if (quantity < 0)
        {
            throw new DomainException(new DomainError("stock.negative", "Stock cannot be negative.", "quantity"));
        }

        Quantity = quantity;
        UpdatedAt = atUtc;
    }
}
