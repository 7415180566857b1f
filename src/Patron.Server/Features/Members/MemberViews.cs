using Patron.Domain.Cards;
using Patron.Domain.Members;

namespace Patron.Server.Features.Members;

public sealed record CardView(string Number, CardKind Kind, CardStatus Status, DateTime IssuedAt);

/// <summary>
/// A member as every list and answer shows them: phone and ID number masked. Unmasking is a
/// separate, audited act (a later feature).
/// </summary>
public sealed record MemberView(
    long Id,
    long ProgramId,
    string Name,
    string Mobile,
    string? IdNumber,
    Gender Gender,
    DateOnly? Birthday,
    long EnrolStoreId,
    string EnrolStoreName,
    string Channel,
    DateTime EnrolledAt,
    MemberStatus Status,
    IReadOnlyList<CardView> Cards)
{
    /// <summary>The member this one was merged into (it is inactive and holds nothing); null when it stands alone.</summary>
    public long? MergedIntoId { get; init; }

    public static MemberView From(Member m, string storeName) => new(
        m.Id,
        m.ProgramId,
        m.Name,
        m.MaskedMobile,
        m.IdNumberTail is null ? null : m.MaskedIdNumber,
        m.Gender,
        m.Birthday,
        m.EnrolStoreId,
        storeName,
        m.Channel,
        m.EnrolledAt,
        m.Status,
        [.. m.Cards.OrderBy(c => c.Id).Select(c => new CardView(c.Number, c.Kind, c.Status, c.IssuedAt))])
    {
        MergedIntoId = m.MergedIntoId,
    };
}

public sealed record MemberPage(IReadOnlyList<MemberView> Items, int Page, int PageSize, int Total);
