using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;

namespace Patron.Server.Features.Cards;

/// <summary>Allocates card numbers from the program's sequence: prefix, sequence, Luhn digit.</summary>
public sealed class CardNumbers(PatronDb db)
{
    /// <summary>The next number of the program, with one guarded update inside the caller's transaction.</summary>
    public async Task<string> NextAsync(long programId, CancellationToken ct)
    {
        var prefix = await db.Programs.Where(p => p.Id == programId).Select(p => p.CardPrefix).FirstAsync(ct);
        var next = await db.Database
            .SqlQuery<long>($"UPDATE programs SET card_sequence = card_sequence + 1 WHERE id = {programId} RETURNING card_sequence AS \"Value\"")
            .ToListAsync(ct);
        return CardNumber.Compose(prefix, next.Single());
    }
}

/// <summary>
/// Where a member stands by their cards at a moment: whether every principal card's validity
/// has ended (benefits stop and stored value is frozen until a renewal) and until when they run.
/// </summary>
public sealed record CardStanding(bool HasCards, bool Lapsed, DateTime? ValidUntil)
{
    public static async Task<CardStanding> OfAsync(PatronDb db, long memberId, DateTime at, CancellationToken ct)
    {
        var cards = await db.Cards.AsNoTracking()
            .Where(c => c.MemberId == memberId && c.Kind != CardKind.SubCard && c.Status != CardStatus.Replaced && c.Status != CardStatus.Revoked)
            .Select(c => new { c.Status, c.ValidUntil })
            .ToListAsync(ct);
        if (cards.Count == 0)
        {
            return new(false, false, null);
        }

        var lapsed = cards.All(c => c.Status == CardStatus.Lapsed || (c.ValidUntil is { } u && u <= at));
        DateTime? until = cards.Any(c => c.ValidUntil is null) ? null : cards.Max(c => c.ValidUntil);
        return new(true, lapsed, until);
    }
}
