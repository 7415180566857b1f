using Patron.Domain.Common;
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

    /// <summary>Reported lost: refused everywhere until replaced.</summary>
    Lost = 1,

    /// <summary>Replaced by another card (after a loss or damage): its number is void.</summary>
    Replaced = 2,

    /// <summary>Its validity ended without renewal: benefits stop, stored value is frozen, history stays.</summary>
    Lapsed = 3,

    /// <summary>Frozen by staff (a dispute, a suspected misuse) until unfrozen.</summary>
    Frozen = 4,

    /// <summary>A sub-card its principal took back.</summary>
    Revoked = 5,

    /// <summary>Issued but not yet activated (a physical card handed out blank).</summary>
    Inactive = 6,
}

/// <summary>
/// A member card: its number is unique across all programs. A principal card (virtual or
/// physical) carries the member's validity; a sub-card belongs to a principal member, carries a
/// tier's benefits and no balance, and may be held by another person.
/// </summary>
public sealed class Card
{
    public const int NumberMaxLength = 24;
    public const int HolderMaxLength = 50;

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
        StatusAt = issuedAtUtc;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public long MemberId { get; private set; }

    public Member Member { get; private set; }

    public string Number { get; private set; }

    public CardKind Kind { get; private set; }

    public CardStatus Status { get; private set; }

    /// <summary>When the status last changed (null: not since issue).</summary>
    public DateTime? StatusAt { get; private set; }

    public long IssuedStoreId { get; private set; }

    public DateTime IssuedAt { get; private set; }

    /// <summary>End of validity (exclusive); null when the card does not lapse.</summary>
    public DateTime? ValidUntil { get; private set; }

    /// <summary>For a sub-card, the tier whose benefits it carries.</summary>
    public string? Tier { get; private set; }

    /// <summary>Who holds the card when it is not the member (a sub-card's holder, an organisation's purchaser).</summary>
    public string? Holder { get; private set; }

    /// <summary>An anonymous (不记名) card: it cannot be reported lost or replaced.</summary>
    public bool Anonymous { get; private set; }

    /// <summary>The card this one replaced.</summary>
    public long? ReplacesCardId { get; private set; }

    public bool IsPrincipal => Kind != CardKind.SubCard;

    /// <summary>Whether its validity has ended by <paramref name="at"/>.</summary>
    public bool IsExpiredAt(DateTime at) => Status == CardStatus.Lapsed || (ValidUntil is { } until && until <= at);

    /// <summary>Whether it may be used at a counter: active (a lapsed card identifies, without benefits).</summary>
    public bool IsUsable => Status is CardStatus.Active or CardStatus.Lapsed;

    /// <summary>Why it cannot be used, as an error code; null when it can.</summary>
    public string? RefusalCode => IsUsable ? null : "card." + Status.ToString().ToLowerInvariant();

    internal void Configure(DateTime? validUntil, string? tier, string? holder, bool anonymous, long? replaces, bool inactive)
    {
        ValidUntil = validUntil;
        Tier = tier;
        Holder = holder;
        Anonymous = anonymous;
        ReplacesCardId = replaces;
        if (inactive)
        {
            Status = CardStatus.Inactive;
        }
    }

    /// <summary>
    /// Blocks the card everywhere until it is replaced. A frozen card is not reported lost: that
    /// would let whoever may report losses (a cashier) undo a freeze by replacing it.
    /// </summary>
    public void ReportLost(DateTime at)
    {
        Require(Status != CardStatus.Frozen, "card.frozen", "A frozen card cannot be reported lost; it must be unfrozen first.");
        Require(Status is CardStatus.Active or CardStatus.Lapsed or CardStatus.Inactive, "card.not_reportable", "Only a card in use can be reported lost.");
        Require(!Anonymous, "card.anonymous", "An anonymous card cannot be reported lost or replaced.");
        Move(CardStatus.Lost, at);
    }

    /// <summary>
    /// Voids this card in favour of <paramref name="replacement"/>, which takes its validity. A
    /// frozen card is not exchanged (the replacement would be active: an undone freeze).
    /// </summary>
    public void ReplaceBy(Card replacement, bool damaged, DateTime at)
    {
        Require(!Anonymous, "card.anonymous", "An anonymous card cannot be reported lost or replaced.");
        Require(IsPrincipal, "card.sub_card", "A sub-card is not replaced: revoke it and issue another.");
        Require(!damaged || Status != CardStatus.Frozen, "card.frozen", "A frozen card cannot be exchanged; it must be unfrozen first.");
        Require(damaged ? Status is CardStatus.Active or CardStatus.Lapsed : Status == CardStatus.Lost,
            damaged ? "card.not_exchangeable" : "card.not_lost", damaged ? "Only a card in use can be exchanged for damage." : "Report the card lost before replacing it.");
        replacement.ValidUntil = ValidUntil;
        replacement.ReplacesCardId = Id;
        replacement.Holder = Holder;
        if (Status == CardStatus.Lapsed || (ValidUntil is { } until && until <= at))
        {
            replacement.Move(CardStatus.Lapsed, at);
        }

        Move(CardStatus.Replaced, at);
    }

    public void Freeze(DateTime at)
    {
        Require(Status is CardStatus.Active or CardStatus.Lapsed, "card.not_freezable", "Only a card in use can be frozen.");
        Move(CardStatus.Frozen, at);
    }

    public void Unfreeze(DateTime at)
    {
        Require(Status == CardStatus.Frozen, "card.not_frozen", "The card is not frozen.");
        Move(ValidUntil is { } until && until <= at ? CardStatus.Lapsed : CardStatus.Active, at);
    }

    public void Activate(DateTime at)
    {
        Require(Status == CardStatus.Inactive, "card.not_inactive", "The card is already activated.");
        Move(CardStatus.Active, at);
    }

    public void Revoke(DateTime at)
    {
        Require(Kind == CardKind.SubCard, "card.not_sub_card", "Only a sub-card can be revoked.");
        Require(Status != CardStatus.Revoked, "card.revoked", "The sub-card is already revoked.");
        Move(CardStatus.Revoked, at);
    }

    /// <summary>Starts a new validity period ending at <paramref name="until"/>; a lapsed card becomes active.</summary>
    public void Renew(DateTime? until, DateTime at)
    {
        Require(Status is not (CardStatus.Replaced or CardStatus.Revoked), "card.not_renewable", "A replaced or revoked card cannot be renewed.");
        ValidUntil = until;
        if (Status == CardStatus.Lapsed)
        {
            Move(CardStatus.Active, at);
        }
    }

    /// <summary>Marks a card whose validity has ended as lapsed (the periodic job).</summary>
    public bool Lapse(DateTime at)
    {
        if (Status != CardStatus.Active || ValidUntil is not { } until || until > at)
        {
            return false;
        }

        Move(CardStatus.Lapsed, at);
        return true;
    }

    /// <summary>
    /// Moves the card to the member a merge keeps, as it is; <paramref name="replace"/> voids it
    /// (the survivor keeps a principal card of its own and the program allows one).
    /// </summary>
    internal void MoveTo(Member survivor, bool replace, DateTime at)
    {
        Member = survivor;
        MemberId = survivor.Id;
        if (replace && Status is not (CardStatus.Replaced or CardStatus.Revoked))
        {
            Move(CardStatus.Replaced, at);
        }
    }

    public void ChangeHolder(string? holder) => Holder = string.IsNullOrWhiteSpace(holder) ? null : holder.Trim();

    private void Move(CardStatus status, DateTime at)
    {
        Status = status;
        StatusAt = at;
    }

    private static void Require(bool condition, string code, string message)
    {
        if (!condition)
        {
            throw new DomainException(new DomainError(code, message));
        }
    }
}
