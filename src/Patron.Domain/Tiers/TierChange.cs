namespace Patron.Domain.Tiers;

public enum TierChangeReason
{
    Enrolment = 0,
    Qualified = 1,
    Manual = 2,
    Retention = 3,

    /// <summary>A return took the counters below the tier's qualification.</summary>
    Return = 4,

    /// <summary>Brought over from another system by a member import.</summary>
    Import = 5,

    /// <summary>Two members were merged: the survivor's tier after taking over the other's, or the merged member's end.</summary>
    Merge = 6,
}

/// <summary>One line of a member's tier history.</summary>
public sealed class TierChange
{
    private TierChange()
    {
    }

    public TierChange(long memberId, string? fromTier, string? toTier, TierChangeReason reason, DateTime atUtc, long? staffId, string? note)
    {
        MemberId = memberId;
        FromTier = fromTier;
        ToTier = toTier;
        Reason = reason;
        At = atUtc;
        StaffId = staffId;
        Note = note;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public string? FromTier { get; private set; }

    public string? ToTier { get; private set; }

    public TierChangeReason Reason { get; private set; }

    public DateTime At { get; private set; }

    public long? StaffId { get; private set; }

    public string? Note { get; private set; }
}
