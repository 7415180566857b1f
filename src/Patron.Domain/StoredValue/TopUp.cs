namespace Patron.Domain.StoredValue;

/// <summary>
/// A top-up as recorded, identified by (store, POS order number) like a sale: the money paid,
/// the bonus it earned, what else the bonus tier gave (sub-cards, gifts handed over), and the
/// receipt: the balance after it and the tier before and after it, so a retry answers as the
/// first time did.
/// </summary>
public sealed class TopUp
{
    public const int GiftsMaxLength = 500;

    private TopUp()
    {
        OrderNumber = "";
        Gifts = "";
    }

    public TopUp(long programId, long storeId, long memberId, string orderNumber, DateTime atUtc, long amount, long bonus, IReadOnlyList<string> gifts, int subCards)
    {
        ProgramId = programId;
        StoreId = storeId;
        MemberId = memberId;
        OrderNumber = orderNumber;
        At = atUtc;
        Amount = amount;
        Bonus = bonus;
        Gifts = string.Join('\n', gifts);
        SubCards = subCards;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public long StoreId { get; private set; }

    public long MemberId { get; private set; }

    public string OrderNumber { get; private set; }

    public DateTime At { get; private set; }

    /// <summary>Money paid, fen: the principal added.</summary>
    public long Amount { get; private set; }

    public long Bonus { get; private set; }

    /// <summary>Gift items handed over, one per line.</summary>
    public string Gifts { get; private set; }

    public int SubCards { get; private set; }

    public long? StaffId { get; set; }

    public long? TerminalId { get; set; }

    public string? RequestHash { get; set; }

    /// <summary>Principal after the top-up; null on top-ups recorded before receipts were kept.</summary>
    public long? PrincipalAfter { get; private set; }

    /// <summary>Bonus after the top-up; null on top-ups recorded before receipts were kept.</summary>
    public long? BonusAfter { get; private set; }

    /// <summary>The member's tier before the top-up (null also on top-ups recorded before receipts were kept).</summary>
    public string? TierBefore { get; private set; }

    /// <summary>The member's tier after the top-up (single_top_up tiers); null as for <see cref="TierBefore"/>.</summary>
    public string? TierAfter { get; private set; }

    /// <summary>Whether the receipt (balance and tiers after) was recorded.</summary>
    public bool HasReceipt => PrincipalAfter is not null;

    public IReadOnlyList<string> GiftList => Gifts.Length == 0 ? [] : Gifts.Split('\n');

    /// <summary>Records the balance after the top-up and the tier before and after it.</summary>
    public void RecordReceipt(long principalAfter, long bonusAfter, string? tierBefore, string? tierAfter)
    {
        PrincipalAfter = principalAfter;
        BonusAfter = bonusAfter;
        TierBefore = tierBefore;
        TierAfter = tierAfter;
    }
}
