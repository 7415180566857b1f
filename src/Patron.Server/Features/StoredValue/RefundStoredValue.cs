using Patron.Data;
using Patron.Domain.Common;
using Patron.Server.Features.Audit;
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
/// Refunds unspent principal where the program allows it: never more than the principal left;
/// the bonus that came with it lapses in proportion (all of it with the last of the principal).
/// A manual change to value, so it names its reason and is audited.
/// </summary>
public sealed class RefundStoredValue(PatronDb db, CommitSale checkout, MemberLedger ledger, AuditLog audit, TimeProvider clock)
{
    public async Task<StoredValueRefundResult> HandleAsync(long memberId, StoredValueRefundRequest r, CallerScope caller, CancellationToken ct)
    {
        var reason = r.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 200)
        {
            throw Problem.Invalid("stored_value.reason_required", "Give the reason for the refund (at most 200 characters).", "reason");
        }

        var (store, atUtc, localDate) = await checkout.PlaceAsync(r.StoreId, null, caller, ct);
        return await Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(memberId, caller, atUtc, ct, localDate);
            if (m.Member.ProgramId != store.ProgramId)
            {
                throw Problem.NotFound("member.not_found", "The member does not exist in this store's program.");
            }

            if (!m.Rules.StoredValue.Refundable)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.not_refundable", "This program does not refund stored value.");
            }

            var purse = await ledger.OpenPurseAsync(m, ct);
            (long Principal, long BonusForfeited) refund;
            try
            {
                refund = purse.Refund(r.Amount, store.Id, atUtc, "refund: " + reason);
            }
            catch (DomainException e)
            {
                throw Problem.FromDomain(e);
            }

            ledger.Stage(m, staffId: caller.StaffId, storeId: store.Id);
            audit.Record(caller, "stored_value.refunded", store.Id, memberId, "member", memberId, new { amount = refund.Principal, bonusForfeited = refund.BonusForfeited, reason });
            var balance = await TopUpStoredValue.BalanceAsync(db, memberId, purse.Principal, purse.Bonus, clock.GetUtcNow().UtcDateTime, ct);
            return new StoredValueRefundResult(refund.Principal, refund.BonusForfeited, balance);
        }, ct);
    }
}
