namespace Patron.Domain.Cards;

public enum CardEventKind
{
    Issued = 0,
    Activated = 1,
    ReportedLost = 2,
    Replaced = 3,
    DamagedExchange = 4,
    Frozen = 5,
    Unfrozen = 6,
    Renewed = 7,
    Lapsed = 8,
    Revoked = 9,
    HolderChanged = 10,
    AnnualFee = 11,

    /// <summary>The card moved to another member in a merge of duplicates (and, where the program allows one principal card, was replaced).</summary>
    Merged = 12,
}

/// <summary>
/// One step in a card's life, with the fee charged for it (fen, 0 for none), where, by whom and
/// why. Card fees are revenue; the finance view sums them from here.
/// </summary>
public sealed class CardEvent
{
    public const int NoteMaxLength = 200;

    private CardEvent()
    {
    }

    public CardEvent(long cardId, long memberId, long programId, CardEventKind kind, long fee, long storeId, DateTime at, long? staffId, string? note, long? otherCardId = null)
    {
        CardId = cardId;
        MemberId = memberId;
        ProgramId = programId;
        Kind = kind;
        Fee = fee;
        StoreId = storeId;
        At = at;
        StaffId = staffId;
        Note = note;
        OtherCardId = otherCardId;
    }

    public long Id { get; private set; }

    public long CardId { get; private set; }

    public long MemberId { get; private set; }

    public long ProgramId { get; private set; }

    public CardEventKind Kind { get; private set; }

    public long Fee { get; private set; }

    public long StoreId { get; private set; }

    public DateTime At { get; private set; }

    public long? StaffId { get; private set; }

    public string? Note { get; private set; }

    /// <summary>For a replacement: the other card (the new one on the old card's event).</summary>
    public long? OtherCardId { get; private set; }
}
