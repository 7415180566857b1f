using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Coupons;
using Patron.Domain.Points;
using Patron.Domain.Rewards;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Rewards;

public sealed record RedeemRequest(string? Item, long? StoreId = null);

public sealed record RedemptionResult(long RedemptionId, string Item, string Name, long Points, long Balance, IssuedCouponView? Coupon);

public sealed record EntitlementView(long Id, string Code, string Name, int Year, DateTime ExpiresAt, DateTime? UsedAt);

/// <summary>
/// Exchanges points for an item of the program's redemption table, at a store, within the
/// program's redemption window, for the tiers allowed, never with points debt outstanding and
/// never beyond the balance. A coupon item issues the coupon in the same transaction.
/// </summary>
public sealed class Redeem(PatronDb db, CommitSale checkout, MemberLedger ledger, AuditLog audit)
{
    public async Task<RedemptionResult> HandleAsync(long memberId, RedeemRequest r, CallerScope caller, CancellationToken ct)
    {
        var code = (r.Item ?? "").Trim();
        if (code.Length == 0)
        {
            throw Problem.Invalid("redemption.item_required", "Name the item to redeem.", "item");
        }

        var (store, atUtc, localDate) = await checkout.PlaceAsync(r.StoreId, null, caller, ct);
        return await Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(memberId, caller, atUtc, ct, localDate);
            if (m.Member.ProgramId != store.ProgramId)
            {
                throw Problem.NotFound("member.not_found", "The member does not exist in this store's program.");
            }

            var rules = m.Rules.Redemption;
            var item = rules.Items.FirstOrDefault(i => i.Code == code)
                ?? throw Problem.Invalid("redemption.item_unknown", $"The redemption table has no item {code}.", "item");
            if (!rules.IsOpen(localDate))
            {
                var months = rules.Months.Count == 0 ? "" : " Open in months " + string.Join(", ", rules.Months) + ".";
                throw Refused("redemption.closed", $"Redemption is not open on {localDate:yyyy-MM-dd}.{months}");
            }

            if (item.Tiers.Count > 0 && (m.Account.Tier is null || !item.Tiers.Contains(m.Account.Tier)))
            {
                throw Refused("redemption.tier_forbidden", $"{item.Name} is for tiers {string.Join(", ", item.Tiers)} only.");
            }

            m.Points.Expire(atUtc);
            if (m.Points.Debt > 0)
            {
                throw Refused("redemption.points_debt", $"The member owes {m.Points.Debt} points from a return; redemption reopens when the balance is positive again.");
            }

            if (m.Points.Balance < item.Points)
            {
                throw Refused("points.insufficient", $"Not enough points: {m.Points.Balance} available, {item.Points} needed.");
            }

            m.Points.Spend(item.Points, PointsCause.Redemption, atUtc, item.Code);
            Coupon? coupon = null;
            if (item.Kind == Domain.Programs.RewardKind.Coupon)
            {
                coupon = new Coupon(m.Member.ProgramId, memberId, item.Name, item.Value, null, CouponSource.Redemption, item.Code, atUtc, item.ValidDays is { } d ? atUtc.AddDays(d) : null);
                db.Coupons.Add(coupon);
                await db.SaveChangesAsync(ct);
            }

            var redemption = new Redemption(m.Member.ProgramId, memberId, store.Id, item.Code, item.Name, item.Points, item.Value, coupon?.Id, atUtc) { StaffId = caller.StaffId };
            db.Redemptions.Add(redemption);
            ledger.Stage(m, null, caller.StaffId);
            await db.SaveChangesAsync(ct);
            audit.Record(caller, "points.redeemed", store.Id, memberId, "redemption", redemption.Id, new { item = item.Code, points = item.Points });
            return new RedemptionResult(redemption.Id, item.Code, item.Name, item.Points, m.Points.Balance, coupon is null ? null : IssuedCouponView.From(coupon));
        }, ct);
    }

    private static ProblemException Refused(string code, string message) => new(StatusCodes.Status422UnprocessableEntity, code, message);
}

/// <summary>A member's entitlements, and staff marking one used: once, by its holder, before it expires; audited.</summary>
public sealed class Entitlements(PatronDb db, CommitSale checkout, AuditLog audit, TimeProvider clock)
{
    public async Task<IReadOnlyList<EntitlementView>> ListAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        await EnsureVisibleAsync(memberId, caller, ct);
        var list = await db.Entitlements.AsNoTracking().Where(e => e.MemberId == memberId).OrderByDescending(e => e.Year).ThenBy(e => e.Code).ToListAsync(ct);
        return [.. list.Select(e => new EntitlementView(e.Id, e.Code, e.Name, e.Year, e.ExpiresAt, e.UsedAt))];
    }

    public async Task<EntitlementView> UseAsync(long memberId, string code, long? storeId, CallerScope caller, CancellationToken ct)
    {
        await EnsureVisibleAsync(memberId, caller, ct);
        var (store, atUtc, _) = await checkout.PlaceAsync(storeId, null, caller, ct);
        return await Transactions.RunAsync(db, async ct =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var e = await db.Entitlements.Where(x => x.MemberId == memberId && x.Code == code && x.ExpiresAt > now && x.RevokedAt == null)
                    .OrderByDescending(x => x.Year).FirstOrDefaultAsync(ct)
                ?? throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "entitlement.none", "The member holds no valid entitlement of this kind.");

            // Guarded update first (it takes the row lock): of two uses at the same moment one wins.
            var claimed = await db.Database.ExecuteSqlAsync($"UPDATE entitlements SET used_store_id = {store.Id} WHERE id = {e.Id} AND used_at IS NULL", ct);
            await db.Entry(e).ReloadAsync(ct);
            if (claimed == 0)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "entitlement.used", $"{e.Name} has already been used.");
            }

            e.Use(atUtc, store.Id, caller.StaffId);
            audit.Record(caller, "entitlement.used", store.Id, memberId, "entitlement", e.Id, new { code });
            await db.SaveChangesAsync(ct);
            return new EntitlementView(e.Id, e.Code, e.Name, e.Year, e.ExpiresAt, e.UsedAt);
        }, ct);
    }

    private async Task EnsureVisibleAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var programId = await db.Members.Where(m => m.Id == memberId).Select(m => (long?)m.ProgramId).FirstOrDefaultAsync(ct);
        if (programId is not { } p || !caller.CanSeeProgram(p))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }
    }
}
