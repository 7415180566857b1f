using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.StoredValue;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Cards;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.StoredValue;

/// <summary>A top-up at a store, keyed like a sale by (store, order number). Amount in fen.</summary>
public sealed record TopUpRequest(string? OrderNumber, long Amount, long? MemberId = null, string? CardNumber = null, long? StoreId = null, DateTimeOffset? At = null);

/// <summary>Stored value as the member and the counter see it: principal, bonus, and whether it is frozen (card lapsed, or frozen by staff).</summary>
public sealed record StoredValueBalance(long Principal, long Bonus, long Total, bool Frozen, DateTime? ValidUntil)
{
    /// <summary>Frozen because staff froze the member's card (rather than because it lapsed): only unfreezing it helps.</summary>
    public bool CardFrozen { get; init; }
}

/// <summary>
/// A recorded top-up: the money added (principal), the bonus its tier gave, sub-cards and gifts
/// handed over, the balance after, the tier after (single_top_up tiers) and the card's validity.
/// </summary>
public sealed record TopUpResult(
    long TopUpId,
    string OrderNumber,
    long StoreId,
    long MemberId,
    DateTime At,
    long Amount,
    long Bonus,
    IReadOnlyList<string> Gifts,
    IReadOnlyList<CardView> SubCards,
    StoredValueBalance Balance,
    string? TierBefore,
    string? Tier,
    bool Replayed = false);

/// <summary>
/// Tops up a member's stored value under the program's policy: the highest bonus tier reached
/// adds its bonus, sub-cards and gifts; the top-up counts toward single_top_up tiers and, where
/// the program says so, restarts the card's validity (which also unfreezes a lapsed card's
/// balance). One transaction under the member's lock, like a sale.
/// </summary>
public sealed class TopUpStoredValue(PatronDb db, CommitSale checkout, ProgramRules programs, MemberLedger ledger, EarningEffects effects, CardOperations cards, AuditLog audit)
{
    public async Task<TopUpResult> HandleAsync(TopUpRequest r, CallerScope caller, CancellationToken ct)
    {
        var order = CheckoutInput.Order(r.OrderNumber);
        var (store, atUtc, localDate) = await checkout.PlaceAsync(r.StoreId, r.At, caller, ct);
        var hash = CheckoutInput.Hash(r with { StoreId = store.Id, OrderNumber = order });
        if (await ReplayAsync(store.Id, order, hash, ct) is { } replay)
        {
            return replay;
        }

        var policy = (await programs.InForceAsync(store.ProgramId, localDate, ct)).StoredValue;
        if (!policy.Enabled)
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.disabled", "This program does not sell stored value.");
        }

        if (r.Amount < policy.MinimumTopUp || r.Amount > policy.MaximumTopUp)
        {
            throw Problem.Invalid("stored_value.amount_invalid", $"A top-up is from ¥{policy.MinimumTopUp / 100m:0.00} to ¥{policy.MaximumTopUp / 100m:0.00}.", "amount");
        }

        var (memberId, card) = await checkout.MemberOfAsync(r.MemberId, r.CardNumber, store, caller, ct);
        if (memberId is not { } id)
        {
            throw Problem.Invalid("stored_value.member_required", "Name the member (memberId or cardNumber) to top up.", "memberId");
        }

        if (card is { Kind: CardKind.SubCard })
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.sub_card", "A sub-card has no balance of its own; top up the principal member's card.");
        }

        try
        {
            return await Transactions.RunAsync(db, async ct =>
            {
                var m = await ledger.OpenAsync(id, caller, atUtc, ct, localDate);
                (await CardStanding.OfAsync(db, id, atUtc, ct)).EnsureNotFrozen();
                var purse = await ledger.OpenPurseAsync(m, ct);
                var sv = m.Rules.StoredValue;
                var tier = sv.BonusFor(r.Amount);
                var topUp = new TopUp(store.ProgramId, store.Id, id, order, atUtc, r.Amount, tier?.Bonus ?? 0, tier?.Gifts ?? [], tier?.SubCards ?? 0)
                {
                    RequestHash = hash,
                    StaffId = caller.StaffId,
                    TerminalId = caller.TerminalId,
                };
                db.TopUps.Add(topUp);
                await db.SaveChangesAsync(ct);

                purse.Credit(StoredValueCause.TopUp, r.Amount, topUp.Bonus, store.Id, atUtc, order);
                var tierBefore = m.Account.Tier;
                m.Account.CountTopUp(r.Amount);
                effects.Promote(m, atUtc);
                if (m.Rules.Cards.Validity.RestartOnTopUp)
                {
                    await cards.RestartValidityAsync(id, m.Rules.Cards.Validity, store.Id, atUtc, caller, "top-up " + order, ct);
                }

                var subCards = new List<CardView>();
                for (var i = 0; i < topUp.SubCards; i++)
                {
                    var sub = await cards.IssueSubCardAsync(m.Member, tier!.SubCardTier ?? m.Account.Tier, null, store.Id, atUtc, caller, null, ct);
                    subCards.Add(CardView.From(sub, atUtc));
                }

                topUp.RecordReceipt(purse.Principal, purse.Bonus, tierBefore, m.Account.Tier);
                ledger.Stage(m, staffId: caller.StaffId, storeId: store.Id, topUpId: topUp.Id);
                audit.Record(caller, "stored_value.topped_up", store.Id, id, "top_up", topUp.Id, new { order, amount = r.Amount, bonus = topUp.Bonus, subCards = topUp.SubCards, gifts = topUp.GiftList });
                await db.SaveChangesAsync(ct);
                var balance = await BalanceAsync(db, id, purse.Principal, purse.Bonus, atUtc, ct);
                return new TopUpResult(topUp.Id, order, store.Id, id, atUtc, r.Amount, topUp.Bonus, topUp.GiftList, subCards, balance, tierBefore, m.Account.Tier);
            }, ct);
        }
        catch (DbUpdateException) when (db.Database.CurrentTransaction is null)
        {
            // The same order number was recorded concurrently: answer as a retry would.
            db.ChangeTracker.Clear();
            return await ReplayAsync(store.Id, order, hash, ct) ?? throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "db.busy", "The database is busy; retry the request.");
        }
    }

    /// <summary>The balance with its frozen state: frozen when every principal card of the member has lapsed, or staff froze them.</summary>
    internal static async Task<StoredValueBalance> BalanceAsync(PatronDb db, long memberId, long principal, long bonus, DateTime at, CancellationToken ct)
    {
        var standing = await CardStanding.OfAsync(db, memberId, at, ct);
        return new StoredValueBalance(principal, bonus, principal + bonus, standing.Lapsed || standing.Frozen, standing.ValidUntil) { CardFrozen = standing.Frozen };
    }

    private async Task<TopUpResult?> ReplayAsync(long storeId, string order, string hash, CancellationToken ct)
    {
        var existing = await db.TopUps.AsNoTracking().FirstOrDefaultAsync(t => t.StoreId == storeId && t.OrderNumber == order, ct);
        if (existing is null)
        {
            return null;
        }

        if (existing.RequestHash != hash)
        {
            throw Problem.Conflict("top_up.order_taken", "This order number is already recorded at this store with different content.", "orderNumber");
        }

        var subCards = await db.Cards.AsNoTracking()
            .Where(c => c.MemberId == existing.MemberId && c.Kind == CardKind.SubCard && c.IssuedAt == existing.At)
            .OrderBy(c => c.Id).ToListAsync(ct);

        // The balance and tiers as the first answer gave them; top-ups recorded before receipts
        // were kept answer with the balance and tier of now.
        var (principal, bonus, tierBefore, tier) = (existing.PrincipalAfter, existing.BonusAfter, existing.TierBefore, existing.TierAfter);
        if (!existing.HasReceipt)
        {
            var account = await db.MemberAccounts.AsNoTracking().FirstAsync(a => a.MemberId == existing.MemberId, ct);
            (principal, bonus, tierBefore, tier) = (account.StoredPrincipal, account.StoredBonus, null, account.Tier);
        }

        var balance = await BalanceAsync(db, existing.MemberId, principal ?? 0, bonus ?? 0, existing.At, ct);
        return new TopUpResult(existing.Id, existing.OrderNumber, existing.StoreId, existing.MemberId, existing.At, existing.Amount, existing.Bonus, existing.GiftList,
            [.. subCards.Select(c => CardView.From(c, existing.At))], balance, tierBefore, tier, Replayed: true);
    }
}
