using Patron.Domain.Cards;
using Patron.Domain.Common;

namespace Patron.Domain.Members;

public enum Gender
{
    Unknown = 0,
    Male = 1,
    Female = 2,
}

public enum MemberStatus
{
    Active = 0,
    Inactive = 1,
}

/// <summary>
/// A person (later also an organisation) enrolled in one loyalty program. Phone and ID number
/// are unique within the program: one person, one member. The ID number itself is held only
/// encrypted; a keyed hash serves lookups and uniqueness, and its last four characters serve
/// the masked display.
/// </summary>
public sealed class Member
{
    public const int NameMaxLength = 50;

    private readonly List<Card> _cards = [];

    private Member()
    {
        Name = "";
        Mobile = "";
        Channel = "";
    }

    public Member(
        long programId,
        string name,
        string mobile,
        Gender gender,
        DateOnly? birthday,
        ProtectedIdNumber? idNumber,
        long enrolStoreId,
        long? enrolStaffId,
        long? enrolTerminalId,
        string channel,
        DateTime enrolledAtUtc)
    {
        ProgramId = programId;
        Name = name;
        Mobile = mobile;
        MobileTail = mobile[^4..];
        Gender = gender;
        Birthday = birthday;
        IdNumberHash = idNumber?.Hash;
        IdNumberCipher = idNumber?.Cipher;
        IdNumberTail = idNumber?.Tail;
        EnrolStoreId = enrolStoreId;
        EnrolStaffId = enrolStaffId;
        EnrolTerminalId = enrolTerminalId;
        Channel = channel;
        EnrolledAt = enrolledAtUtc;
        Status = MemberStatus.Active;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public string Name { get; private set; }

    public string Mobile { get; private set; }

    /// <summary>Last four digits of the mobile number, for the "name + phone tail" search.</summary>
    public string MobileTail { get; private set; } = "";

    public Gender Gender { get; private set; }

    public DateOnly? Birthday { get; private set; }

    public string? IdNumberHash { get; private set; }

    public string? IdNumberCipher { get; private set; }

    public string? IdNumberTail { get; private set; }

    public long EnrolStoreId { get; private set; }

    public long? EnrolStaffId { get; private set; }

    public long? EnrolTerminalId { get; private set; }

    public string Channel { get; private set; }

    public DateTime EnrolledAt { get; private set; }

    public MemberStatus Status { get; private set; }

    public IReadOnlyList<Card> Cards => _cards;

    public string MaskedMobile => Masking.Phone(Mobile);

    public string MaskedIdNumber => Masking.IdNumberFromTail(IdNumberTail);

    /// <summary>When the member's personal data was erased at their request; the ledgers stay, under the member id alone.</summary>
    public DateTime? AnonymisedAt { get; private set; }

    /// <summary>
    /// Erases the person from the file at their request (PIPL): name, phone, ID number, birthday
    /// and gender go; the id, the store, the dates and every ledger stay, so balances and reports
    /// remain right and nothing points back to the person. The phone becomes a placeholder that
    /// can never be a real number.
    /// </summary>
    public void Anonymise(DateTime atUtc)
    {
        Name = "已注销会员";
        Mobile = "0" + Id.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
        MobileTail = Mobile[^4..];
        Gender = Gender.Unknown;
        Birthday = null;
        IdNumberHash = null;
        IdNumberCipher = null;
        IdNumberTail = null;
        Status = MemberStatus.Inactive;
        AnonymisedAt = atUtc;
    }

    /// <summary>Corrects the person's core data (a new phone, a misspelt name); an ID number once given is replaced only by another.</summary>
    public void Correct(string name, string mobile, Gender gender, DateOnly? birthday, ProtectedIdNumber? idNumber)
    {
        Name = name;
        Mobile = mobile;
        MobileTail = mobile[^4..];
        Gender = gender;
        Birthday = birthday;
        if (idNumber is not null)
        {
            IdNumberHash = idNumber.Hash;
            IdNumberCipher = idNumber.Cipher;
            IdNumberTail = idNumber.Tail;
        }
    }

    /// <summary>The member this one was merged into (a duplicate enrolment of the same person); null while it stands alone.</summary>
    public long? MergedIntoId { get; private set; }

    /// <summary>When it was merged into <see cref="MergedIntoId"/>.</summary>
    public DateTime? MergedAt { get; private set; }

    /// <summary>
    /// Merges this member (a duplicate) into <paramref name="survivor"/>: every card moves. When
    /// the program lets cards merge (<paramref name="cardsMayMerge"/>) they move as they are.
    /// Otherwise, when the survivor has an active principal card, it stays and this member's
    /// principal cards are replaced on the way; when it has none (its card lapsed, lost or
    /// replaced), this member's best principal card (active before lapsed) moves as it is and the
    /// others are replaced, and the survivor's lapsed card stays lapsed. So the person never
    /// holds two active principal cards, and never loses the active one they carry. Sub-cards
    /// move as they are. The survivor takes this member's ID number when it has none. This
    /// member stays, inactive, pointing to the survivor. Balances and records move elsewhere (by
    /// ledger entries and by owner).
    /// </summary>
    public IReadOnlyList<CardMove> MergeInto(Member survivor, bool cardsMayMerge, DateTime atUtc)
    {
        if (MemberMerge.Refusal(survivor, this) is { } refusal)
        {
            throw new DomainException(refusal);
        }

        var survivorActive = MemberMerge.ActiveCard(survivor.Cards);
        var keep = cardsMayMerge || survivorActive is not null ? null : MemberMerge.CardInUse(_cards);
        var standsFor = survivorActive ?? keep ?? MemberMerge.CardInUse(survivor.Cards);
        var moves = new List<CardMove>();
        foreach (var card in _cards.OrderBy(c => c.Id).ToList())
        {
            var before = card.Status;
            var replace = !cardsMayMerge && card.IsPrincipal && card != keep && card.Status is not (CardStatus.Replaced or CardStatus.Revoked);
            card.MoveTo(survivor, replace, atUtc);
            survivor._cards.Add(card);
            moves.Add(new CardMove(card, before, replace, replace ? standsFor : null));
        }

        _cards.Clear();

        // One person, one ID number: the survivor takes this member's when it has none (the
        // store must clear it here before setting it there, the number being unique); when both
        // have one, each keeps its own.
        if (survivor.IdNumberHash is null && IdNumberHash is not null)
        {
            (survivor.IdNumberHash, survivor.IdNumberCipher, survivor.IdNumberTail) = (IdNumberHash, IdNumberCipher, IdNumberTail);
            (IdNumberHash, IdNumberCipher, IdNumberTail) = (null, null, null);
        }

        if (Status == MemberStatus.Active)
        {
            survivor.Status = MemberStatus.Active;
        }

        Status = MemberStatus.Inactive;
        MergedIntoId = survivor.Id;
        MergedAt = atUtc;
        return moves;
    }

    /// <summary>Leaves the active lists (a card lapsed long ago) or comes back (renewed); history is kept either way.</summary>
    public void SetActive(bool active) => Status = active ? MemberStatus.Active : MemberStatus.Inactive;

    public Card IssueCard(string number, CardKind kind, long storeId, DateTime issuedAtUtc, DateTime? validUntil = null, string? tier = null, string? holder = null, bool anonymous = false, bool inactive = false)
    {
        var card = new Card(ProgramId, this, number, kind, storeId, issuedAtUtc);
        card.Configure(validUntil, tier, holder, anonymous, null, inactive);
        _cards.Add(card);
        return card;
    }
}

/// <summary>An ID number as stored: keyed hash for lookup, ciphertext, and the last four characters.</summary>
public sealed record ProtectedIdNumber(string Hash, string Cipher, string Tail);
