using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Common;
using Patron.Domain.Programs;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Cards;

public sealed record CardView(
    long Id,
    string Number,
    string Kind,
    string Status,
    bool Usable,
    string? Reason,
    DateTime IssuedAt,
    long IssuedStoreId,
    DateTime? ValidUntil,
    bool Expired,
    string? Tier,
    string? Holder,
    bool Anonymous,
    long? ReplacesCardId)
{
    public static CardView From(Card c, DateTime now) => new(
        c.Id, c.Number, Name(c.Kind), c.Status.ToString().ToLowerInvariant(), c.IsUsable, c.RefusalCode, c.IssuedAt, c.IssuedStoreId,
        c.ValidUntil, c.IsPrincipal && c.IsExpiredAt(now), c.Tier, c.Holder, c.Anonymous, c.ReplacesCardId);

    public static string Name(CardKind kind) => kind switch
    {
        CardKind.SubCard => "sub_card",
        _ => kind.ToString().ToLowerInvariant(),
    };
}

public sealed record CardEventView(long Id, long CardId, string Kind, long Fee, long StoreId, DateTime At, long? StaffId, string? Note, long? OtherCardId)
{
    public static CardEventView From(CardEvent e) => new(e.Id, e.CardId, Snake(e.Kind.ToString()), e.Fee, e.StoreId, e.At, e.StaffId, e.Note, e.OtherCardId);

    private static string Snake(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>A member's cards (principal and sub-cards) and their history.</summary>
public sealed record MemberCardsView(IReadOnlyList<CardView> Cards, IReadOnlyList<CardEventView> Events, DateTime? ValidUntil, bool Lapsed);

/// <summary>A card to issue to a member: physical with a number from stock, or virtual with a number from the sequence.</summary>
public sealed record IssueCardRequest(string? Kind = "physical", string? Number = null, long? StoreId = null, bool Anonymous = false, bool Activate = true, string? Note = null);

/// <summary>An operation on a card at a store, with an optional note (why).</summary>
public sealed record CardActionRequest(long? StoreId = null, string? Note = null);

/// <summary>Replacement of a lost card (reported first) or exchange of a damaged one; a physical number from stock or a new virtual one.</summary>
public sealed record ReplaceCardRequest(string? Reason, string? Number = null, long? StoreId = null, string? Note = null);

public sealed record CardHolderRequest(string? Holder, long? StoreId = null);

/// <summary>A sub-card for someone the principal member names; its tier comes from the program.</summary>
public sealed record SubCardRequest(string? Holder, string? Number = null, long? StoreId = null);

/// <summary>
/// The life of a card: issue, activation, loss (refused everywhere at once), replacement and
/// damaged exchange (new number; points, balance and validity stay with the member; the old
/// number is void), freeze, renewal, sub-cards, holder changes. Each step is one transaction
/// with its event (and fee) and an audit entry; the card row is locked first, so two clerks
/// replacing one card at once make one replacement.
/// </summary>
public sealed class CardOperations(PatronDb db, ProgramRules programs, CardNumbers numbers, MemberLedger ledger, EarningEffects effects, AuditLog audit, TimeProvider clock)
{
    public async Task<MemberCardsView> ListAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var programId = await db.Members.Where(m => m.Id == memberId).Select(m => (long?)m.ProgramId).FirstOrDefaultAsync(ct);
        if (programId is not { } p || !caller.CanSeeProgram(p))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var cards = await db.Cards.AsNoTracking().Where(c => c.MemberId == memberId).OrderBy(c => c.Kind == CardKind.SubCard).ThenBy(c => c.Id).ToListAsync(ct);
        var events = await db.CardEvents.AsNoTracking().Where(e => e.MemberId == memberId).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(200).ToListAsync(ct);
        var standing = await CardStanding.OfAsync(db, memberId, now, ct);
        return new([.. cards.Select(c => CardView.From(c, now))], [.. events.Select(CardEventView.From)], standing.ValidUntil, standing.Lapsed);
    }

    public Task<CardView> IssueAsync(long memberId, IssueCardRequest r, CallerScope caller, CancellationToken ct) =>
        NumberTakenAsConflictAsync(() => Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(memberId, caller, clock.GetUtcNow().UtcDateTime, ct);
            var (storeId, now, rules) = await PlaceAsync(m.Member.ProgramId, r.StoreId, caller, ct);
            var physical = (r.Kind ?? "physical") switch
            {
                "physical" => true,
                "virtual" => false,
                _ => throw Problem.Invalid("card.kind_invalid", "A card is physical or virtual.", "kind"),
            };
            if (r.Anonymous && !rules.Cards.Anonymous)
            {
                throw Problem.Invalid("card.anonymous_not_offered", "This program does not sell anonymous cards.", "anonymous");
            }

            var number = await NumberAsync(m.Member.ProgramId, physical ? r.Number : null, physical, ct);
            var card = m.Member.IssueCard(number, physical ? CardKind.Physical : CardKind.Virtual, storeId, now, rules.Cards.Validity.Until(now), anonymous: r.Anonymous, inactive: !r.Activate);
            await db.SaveChangesAsync(ct);
            Event(card, CardEventKind.Issued, rules.Cards.Fee, storeId, now, caller, Note(r.Note));
            audit.Record(caller, "card.issued", storeId, memberId, "card", card.Id, new { card = Masked(card), fee = rules.Cards.Fee });
            return CardView.From(card, now);
        }, ct));

    public Task<CardView> ReportLostAsync(long cardId, CardActionRequest r, CallerScope caller, CancellationToken ct) =>
        ActAsync(cardId, r.StoreId, caller, "card.reported_lost", (card, rules, storeId, now) =>
        {
            card.ReportLost(now);
            Event(card, CardEventKind.ReportedLost, 0, storeId, now, caller, Note(r.Note));
            return Task.CompletedTask;
        }, ct);

    public Task<CardView> FreezeAsync(long cardId, CardActionRequest r, CallerScope caller, CancellationToken ct) =>
        ActAsync(cardId, r.StoreId, caller, "card.frozen", (card, rules, storeId, now) =>
        {
            card.Freeze(now);
            Event(card, CardEventKind.Frozen, 0, storeId, now, caller, Note(r.Note));
            return Task.CompletedTask;
        }, ct);

    public Task<CardView> UnfreezeAsync(long cardId, CardActionRequest r, CallerScope caller, CancellationToken ct) =>
        ActAsync(cardId, r.StoreId, caller, "card.unfrozen", (card, rules, storeId, now) =>
        {
            card.Unfreeze(now);
            Event(card, CardEventKind.Unfrozen, 0, storeId, now, caller, Note(r.Note));
            return Task.CompletedTask;
        }, ct);

    public Task<CardView> ActivateAsync(long cardId, CardActionRequest r, CallerScope caller, CancellationToken ct) =>
        ActAsync(cardId, r.StoreId, caller, "card.activated", (card, rules, storeId, now) =>
        {
            card.Activate(now);
            Event(card, CardEventKind.Activated, 0, storeId, now, caller, Note(r.Note));
            return Task.CompletedTask;
        }, ct);

    public Task<CardView> RevokeAsync(long cardId, CardActionRequest r, CallerScope caller, CancellationToken ct) =>
        ActAsync(cardId, r.StoreId, caller, "card.revoked", (card, rules, storeId, now) =>
        {
            card.Revoke(now);
            Event(card, CardEventKind.Revoked, 0, storeId, now, caller, Note(r.Note));
            return Task.CompletedTask;
        }, ct);

    public Task<CardView> ChangeHolderAsync(long cardId, CardHolderRequest r, CallerScope caller, CancellationToken ct) =>
        ActAsync(cardId, r.StoreId, caller, "card.holder_changed", (card, rules, storeId, now) =>
        {
            var holder = r.Holder?.Trim();
            if (holder is { Length: > Card.HolderMaxLength })
            {
                throw Problem.Invalid("card.holder_invalid", $"The holder's name is at most {Card.HolderMaxLength} characters.", "holder");
            }

            card.ChangeHolder(holder);
            Event(card, CardEventKind.HolderChanged, 0, storeId, now, caller, null);
            return Task.CompletedTask;
        }, ct);

    /// <summary>
    /// Renews a principal card for a fee (the program's renewal fee, plus its annual fee where it
    /// has one, which counts toward annual_fee tiers): a new period from the later of now and the
    /// current end. A lapsed card becomes active and its stored value usable again.
    /// </summary>
    public Task<CardView> RenewAsync(long cardId, CardActionRequest r, CallerScope caller, CancellationToken ct) =>
        ActAsync(cardId, r.StoreId, caller, "card.renewed", async (card, rules, storeId, now) =>
        {
            var v = rules.Cards.Validity;
            if (!card.IsPrincipal || v.Kind == ValidityKind.None || (v.RenewalFee is null && rules.Cards.AnnualFee == 0))
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "card.renewal_not_offered", "This program's cards are not renewed for a fee.");
            }

            var from = card.ValidUntil is { } until && until > now ? until : now;
            card.Renew(v.Until(from), now);
            var fee = (v.RenewalFee ?? 0) + rules.Cards.AnnualFee;
            Event(card, CardEventKind.Renewed, fee, storeId, now, caller, Note(r.Note));
            if (rules.Cards.AnnualFee > 0)
            {
                var m = await ledger.OpenAsync(card.MemberId, caller, now, ct);
                m.Account.CountAnnualFee(rules.Cards.AnnualFee);
                effects.Promote(m, now);
                ledger.Stage(m, staffId: caller.StaffId, storeId: storeId);
            }
        }, ct);

    /// <summary>
    /// Replaces a lost card (it must have been reported) or exchanges a damaged one: a new number
    /// takes over the validity and holder; points and stored value belong to the member and stay
    /// with them; the old number is void everywhere. The fee follows the program (first free or not).
    /// </summary>
    public Task<CardView> ReplaceAsync(long cardId, ReplaceCardRequest r, CallerScope caller, CancellationToken ct)
    {
        var damaged = r.Reason switch
        {
            "lost" => false,
            "damaged" => true,
            _ => throw Problem.Invalid("card.replace_reason_invalid", "The reason is lost or damaged.", "reason"),
        };
        Card? replacement = null;
        return ActAsync(cardId, r.StoreId, caller, damaged ? "card.exchanged" : "card.replaced", async (card, rules, storeId, now) =>
        {
            var physical = r.Number is not null || card.Kind == CardKind.Physical;
            var number = await NumberAsync(card.ProgramId, r.Number, physical, ct);
            var member = await db.Members.Include(x => x.Cards).FirstAsync(x => x.Id == card.MemberId, ct);
            var earlier = await db.CardEvents.AnyAsync(e => e.MemberId == card.MemberId && (e.Kind == CardEventKind.Replaced || e.Kind == CardEventKind.DamagedExchange), ct);
            var policy = rules.Cards.Replacement;
            var fee = policy.FirstFree && !earlier ? 0 : damaged ? policy.Damaged : policy.Lost;
            replacement = member.IssueCard(number, physical ? CardKind.Physical : CardKind.Virtual, storeId, now);
            card.ReplaceBy(replacement, damaged, now);
            await db.SaveChangesAsync(ct);
            Event(card, damaged ? CardEventKind.DamagedExchange : CardEventKind.Replaced, fee, storeId, now, caller, Note(r.Note), replacement.Id);
            Event(replacement, CardEventKind.Issued, 0, storeId, now, caller, $"replaces card {card.Id}", card.Id);
        }, ct, () => replacement);
    }

    /// <summary>Issues a sub-card to someone the principal names, within the program's limit.</summary>
    public Task<CardView> IssueSubCardAsync(long memberId, SubCardRequest r, CallerScope caller, CancellationToken ct) =>
        NumberTakenAsConflictAsync(() => Transactions.RunAsync(db, async ct =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var m = await ledger.OpenAsync(memberId, caller, now, ct);
            var (storeId, _, rules) = await PlaceAsync(m.Member.ProgramId, r.StoreId, caller, ct);
            var active = await db.Cards.CountAsync(c => c.MemberId == memberId && c.Kind == CardKind.SubCard && c.Status != CardStatus.Revoked, ct);
            if (active >= rules.Cards.SubCards.Max)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "card.sub_card_limit",
                    $"The program allows {rules.Cards.SubCards.Max} sub-cards per member issued at the counter; this member holds {active}.");
            }

            var holder = r.Holder?.Trim();
            if (holder is { Length: > Card.HolderMaxLength })
            {
                throw Problem.Invalid("card.holder_invalid", $"The holder's name is at most {Card.HolderMaxLength} characters.", "holder");
            }

            var card = await IssueSubCardAsync(m.Member, rules.Cards.SubCards.Tier ?? m.Account.Tier, holder, storeId, now, caller, r.Number, ct);
            audit.Record(caller, "card.sub_card_issued", storeId, memberId, "card", card.Id, new { tier = card.Tier });
            return CardView.From(card, now);
        }, ct));

    /// <summary>Issues a sub-card inside the caller's transaction (also used by top-ups).</summary>
    internal async Task<Card> IssueSubCardAsync(Domain.Members.Member member, string? tier, string? holder, long storeId, DateTime now, CallerScope? caller, string? number, CancellationToken ct)
    {
        var cardNumber = await NumberAsync(member.ProgramId, number, number is not null, ct);
        var card = member.IssueCard(cardNumber, CardKind.SubCard, storeId, now, tier: tier, holder: holder);
        db.Cards.Add(card);
        await db.SaveChangesAsync(ct);
        Event(card, CardEventKind.Issued, 0, storeId, now, caller, "sub-card");
        return card;
    }

    /// <summary>Restarts the validity of a member's principal cards (a top-up or a purchase where the program says so).</summary>
    internal async Task<DateTime?> RestartValidityAsync(long memberId, CardValidity validity, long storeId, DateTime now, CallerScope? caller, string why, CancellationToken ct)
    {
        var until = validity.Until(now);
        (await db.Members.FindAsync([memberId], ct))?.SetActive(true);

        // Lock the member's principal card rows before reading them (row locks on PostgreSQL, the
        // write lock on SQLite), as ActAsync does: a loss report or freeze committed meanwhile is
        // read, not written over with the status read before it.
        await db.Database.ExecuteSqlAsync($"UPDATE cards SET status = status WHERE member_id = {memberId} AND kind <> {(int)CardKind.SubCard}", ct);
        var cards = await db.Cards.Where(c => c.MemberId == memberId && c.Kind != CardKind.SubCard && c.Status != CardStatus.Replaced && c.Status != CardStatus.Revoked).ToListAsync(ct);
        foreach (var card in cards.Where(c => c.ValidUntil != until))
        {
            var wasLapsed = card.IsExpiredAt(now);
            card.Renew(until, now);
            if (wasLapsed)
            {
                Event(card, CardEventKind.Renewed, 0, storeId, now, caller, why);
            }
        }

        return until;
    }

    private async Task<CardView> ActAsync(long cardId, long? storeId, CallerScope caller, string action, Func<Card, ProgramDefinition, long, DateTime, Task> change, CancellationToken ct, Func<Card?>? result = null) =>
        await NumberTakenAsConflictAsync(() => Transactions.RunAsync(db, async ct =>
        {
            // Lock the card row first (row lock on PostgreSQL, write lock on SQLite).
            var touched = await db.Database.ExecuteSqlAsync($"UPDATE cards SET status = status WHERE id = {cardId}", ct);
            var card = touched == 0 ? null : await db.Cards.FirstOrDefaultAsync(c => c.Id == cardId, ct);
            if (card is null || !caller.CanSeeProgram(card.ProgramId))
            {
                throw Problem.NotFound("card.not_found", "The card does not exist.");
            }

            var (store, now, rules) = await PlaceAsync(card.ProgramId, storeId, caller, ct);
            try
            {
                await change(card, rules, store, now);
            }
            catch (DomainException e)
            {
                throw Problem.FromDomain(e);
            }

            var shown = result?.Invoke() ?? card;
            audit.Record(caller, action, store, card.MemberId, "card", card.Id, new { card = Masked(card), to = shown == card ? null : Masked(shown), status = card.Status.ToString().ToLowerInvariant() });
            await db.SaveChangesAsync(ct);
            return CardView.From(shown, now);
        }, ct));

    private async Task<(long StoreId, DateTime Now, ProgramDefinition Rules)> PlaceAsync(long programId, long? storeId, CallerScope caller, CancellationToken ct)
    {
        var id = storeId ?? caller.DefaultStoreId ?? throw Problem.Invalid("card.store_required", "Name the store where this happens.", "storeId");
        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (store is null || store.ProgramId != programId)
        {
            throw Problem.Invalid("store.not_found", "The store does not exist in the card's program.", "storeId");
        }

        caller.EnsureCanActAs(store.Id);
        var now = clock.GetUtcNow().UtcDateTime;
        var local = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, ProgramRules.Zone(store.TimeZone)));
        // Without published rules (a new chain) cards still work, with no fees and no validity.
        return (store.Id, now, await programs.TryInForceAsync(programId, local, ct) ?? new ProgramDefinition { Code = "", Name = "" });
    }

    private async Task<string> NumberAsync(long programId, string? given, bool physical, CancellationToken ct)
    {
        if (!physical || string.IsNullOrWhiteSpace(given))
        {
            return await numbers.NextAsync(programId, ct);
        }

        var number = given.Trim();
        var prefix = await db.Programs.Where(p => p.Id == programId).Select(p => p.CardPrefix).FirstAsync(ct);
        if (!CardNumber.IsValid(number))
        {
            throw Problem.Invalid("card.number_invalid", "The card number is not valid (wrong length or check digit).", "number");
        }

        if (!number.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw Problem.Invalid("card.prefix_mismatch", $"Cards of this program start with {prefix}.", "number");
        }

        return await db.Cards.AnyAsync(c => c.Number == number, ct)
            ? throw Problem.Conflict("card.number_taken", "This card number is already issued.", "number")
            : number;
    }

    /// <summary>
    /// A physical number is checked before it is issued, but two counters can hand out the same
    /// card at once: the unique index refuses the second, answered as the check would (409).
    /// </summary>
    private static async Task<T> NumberTakenAsConflictAsync<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (DbUpdateException e) when (IsNumberTaken(e))
        {
            throw Problem.Conflict("card.number_taken", "This card number is already issued.", "number");
        }
    }

    private static bool IsNumberTaken(DbUpdateException e) => e.InnerException switch
    {
        Npgsql.PostgresException pg => pg.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation && pg.ConstraintName == "IX_cards_number",
        Microsoft.Data.Sqlite.SqliteException sq => sq.SqliteErrorCode == 19 && sq.Message.Contains("cards.number", StringComparison.Ordinal),
        _ => false,
    };

    private void Event(Card card, CardEventKind kind, long fee, long storeId, DateTime now, CallerScope? caller, string? note, long? other = null) =>
        db.CardEvents.Add(new CardEvent(card.Id, card.MemberId, card.ProgramId, kind, fee, storeId, now, caller?.StaffId, note, other));

    private static string? Note(string? note) => string.IsNullOrWhiteSpace(note) ? null : note.Trim()[..Math.Min(note.Trim().Length, CardEvent.NoteMaxLength)];

    /// <summary>A card number in logs and audit details: the last four digits only.</summary>
    internal static string Mask(string number) => Masking.Tail(number);

    private static string Masked(Card card) => Mask(card.Number);
}
