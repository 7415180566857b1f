using Patron.Domain.Members;

namespace Patron.Domain.Cards;

public enum CardKind
{
    Virtual = 0,
    Physical = 1,
    SubCard = 2,
}

public enum CardStatus
{
    Active = 0,
    Lost = 1,
    Replaced = 2,
    Lapsed = 3,
    Frozen = 4,
}

/// <summary>A member card: its number is unique across all programs.</summary>
public sealed class Card
{
    public const int NumberMaxLength = 24;

    private Card()
    {
        Number = "";
        Member = null!;
    }

    internal Card(long programId, Member member, string number, CardKind kind, long storeId, DateTime issuedAtUtc)
    {
        ProgramId = programId;
        Member = member;
        Number = number;
        Kind = kind;
        IssuedStoreId = storeId;
        IssuedAt = issuedAtUtc;
        Status = CardStatus.Active;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public long MemberId { get; private set; }

    public Member Member { get; private set; }

    public string Number { get; private set; }

    public CardKind Kind { get; private set; }

    public CardStatus Status { get; private set; }

    public long IssuedStoreId { get; private set; }

    public DateTime IssuedAt { get; private set; }

    public DateTime? ValidUntil { get; private set; }

    public bool IsUsable => Status == CardStatus.Active;
}
