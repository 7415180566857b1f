using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Programs;
using Patron.Domain.StoredValue;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Cards;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.StoredValue;

/// <summary>Pays back unspent principal (fen) at a store, with the reason.</summary>
public sealed record StoredValueRefundRequest(long Amount, string? Reason, long? StoreId = null);

public sealed record StoredValueRefundResult(long Refunded, long BonusForfeited, StoredValueBalance Balance);

/// <summary>
/// Refunds principal where the program allows it: never more than the principal left less the
/// bonus already spent; the bonus that came with it lapses in proportion. A refund that would
/// take back principal of a top-up that granted sub-cards, gifts or a tier is refused: those
/// stay granted, so the money that bought them stays paid. A manual change to value, so it names
/// its reason and is audited.
/// </summary>
public sealed class RefundStoredValue(PatronDb db, CommitSale checkout, MemberLedger ledger, AuditLog audit, TimeProvider clock)
{
    /// <summary>The reason goes into the entries' reference after <see cref="ReferencePrefix"/>, which holds 200 characters.</summary>
    public const int ReasonMaxLength = 190;

    private const string ReferencePrefix = "refund: ";
    public async Task<StoredValueRefundResult> HandleAsync(long memberId, StoredValueRefundRequest r, CallerScope caller, CancellationToken ct)
    {
        var reason = r.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > ReasonMaxLength)
        {
            throw Problem.Invalid("stored_value.reason_required", $"Give the reason for the refund (at most {ReasonMaxLength} characters).", "reason");
        }

        var (store, atUtc, localDate) = await checkout.PlaceAsync(r.StoreId, null, caller, ct);
        return await Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(memberId, caller, atUtc, ct, localDate);
            if (m.Member.ProgramId != store.ProgramId)
            {
                throw Problem.NotFound("member.not_found", "The member does not exist in this store's program.");
            }

            (await CardStanding.OfAsync(db, memberId, atUtc, ct)).EnsureNotFrozen();

            if (!m.Rules.StoredValue.Refundable)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.not_refundable", "This program does not refund stored value.");
            }

            var purse = await ledger.OpenPurseAsync(m, ct);
            (long Principal, long BonusForfeited) refund;
            try
            {
                refund = purse.Refund(r.Amount, store.Id, atUtc, ReferencePrefix + reason);
            }
            catch (DomainException e)
            {
                throw Problem.FromDomain(e);
            }

            await RefuseTakingBackGrantedBenefitsAsync(purse, m.Rules, ct);
            ledger.Stage(m, staffId: caller.StaffId, storeId: store.Id);
            audit.Record(caller, "stored_value.refunded", store.Id, memberId, "member", memberId, new { amount = refund.Principal, bonusForfeited = refund.BonusForfeited, reason });
            var balance = await TopUpStoredValue.BalanceAsync(db, memberId, purse.Principal, purse.Bonus, clock.GetUtcNow().UtcDateTime, ct);
            return new StoredValueRefundResult(refund.Principal, refund.BonusForfeited, balance);
        }, ct);
    }

    /// <summary>
    /// Refuses the refund (the purse has drawn it, newest lot first, in memory only) when it takes
    /// principal from the lot of a top-up that issued sub-cards, handed over gifts or moved the
    /// member up a tier (or, recorded before top-ups kept their tiers, reached a single_top_up
    /// tier's threshold). The refusal says how much could be refunded before that lot. A lot a
    /// merge carried over names the same top-up on its merge_in entry.
    /// </summary>
    private async Task RefuseTakingBackGrantedBenefitsAsync(StoredValuePurse purse, ProgramDefinition rules, CancellationToken ct)
    {
        var drawn = purse.Entries.Where(e => e.Cause == StoredValueCause.Refund).ToList();
        var lotIds = drawn.Select(e => e.Lot.Id).ToList();
        var topUps = await db.StoredValueEntries.AsNoTracking()
            .Where(e => lotIds.Contains(e.LotId) && (e.Cause == StoredValueCause.TopUp || e.Cause == StoredValueCause.MergeIn) && e.TopUpId != null)
            .Join(db.TopUps.AsNoTracking(), e => e.TopUpId, t => t.Id, (e, t) => new { e.LotId, TopUp = t })
            .ToListAsync(ct);
        var tierThresholds = rules.Tiers.Where(t => t.Qualification.Kind == TierQualificationKind.SingleTopUp).Select(t => t.Qualification.Threshold).ToList();
        var granting = new Dictionary<long, (TopUp TopUp, string What)>();
        foreach (var x in topUps)
        {
            var tier = x.TopUp.HasReceipt ? x.TopUp.TierAfter != x.TopUp.TierBefore : tierThresholds.Any(min => x.TopUp.Amount >= min);
            string?[] what = [x.TopUp.SubCards > 0 ? $"{x.TopUp.SubCards} sub-card(s)" : null, x.TopUp.Gifts.Length > 0 ? "gifts" : null, tier ? "a tier" : null];
            if (what.Any(w => w is not null))
            {
                granting[x.LotId] = (x.TopUp, string.Join(", ", what.OfType<string>()));
            }
        }

        var before = 0L;
        foreach (var e in drawn)
        {
            if (granting.TryGetValue(e.Lot.Id, out var g))
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.refund_granted_benefits",
                    $"The refund would take back money of top-up {g.TopUp.OrderNumber} of {g.TopUp.At:yyyy-MM-dd}, which gave {g.What}; those stay granted, so that money is not refunded. At most ¥{before / 100m:0.00} can be refunded.",
                    [new("stored_value.refund_granted_benefits", $"At most ¥{before / 100m:0.00} can be refunded without taking back top-up {g.TopUp.OrderNumber}.", "amount")]);
            }

            before += -e.Principal;
        }
    }
}
