using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Server.Infrastructure.Problems;

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
/// has ended (benefits stop and stored value is frozen until a renewal), whether staff froze
/// them (a principal card frozen and none in use: stored value is neither spent, topped up nor
/// refunded until it is unfrozen, however the member is named) and until when they run.
/// </summary>
public sealed record CardStanding(bool HasCards, bool Lapsed, DateTime? ValidUntil, bool Frozen = false)
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
        var frozen = cards.Any(c => c.Status == CardStatus.Frozen) && !cards.Any(c => c.Status is CardStatus.Active or CardStatus.Lapsed);
        DateTime? until = cards.Any(c => c.ValidUntil is null) ? null : cards.Max(c => c.ValidUntil);
        return new(true, lapsed, until, frozen);
    }

    /// <summary>Refuses using, topping up or refunding stored value while the member's cards are frozen.</summary>
    public void EnsureNotFrozen()
    {
        if (Frozen)
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.frozen",
                "The member's card is frozen: stored value cannot be used, topped up or refunded until it is unfrozen.");
        }
    }
}
