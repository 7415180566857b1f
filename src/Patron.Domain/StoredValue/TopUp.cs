namespace Patron.Domain.StoredValue;

/// <summary>
/// A top-up as recorded, identified by (store, POS order number) like a sale: the money paid,
/// the bonus it earned, and what else the bonus tier gave (sub-cards, gifts handed over).
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

    public IReadOnlyList<string> GiftList => Gifts.Length == 0 ? [] : Gifts.Split('\n');
}
