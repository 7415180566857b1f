using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Coupons;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Coupons;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Rewards;

public sealed record RedeemRequest(string? Item, long? StoreId = null);

/// <summary>
/// What a redemption gave: the points spent and the balance after, and the coupon, the
/// entitlement or, for a gift, the pickup code the member shows at the store.
/// </summary>
public sealed record RedemptionResult(long RedemptionId, string Item, string Name, long Points, long Balance, IssuedCouponView? Coupon, string Kind = "gift", string? PickupCode = null, string? Entitlement = null);

public sealed record EntitlementView(long Id, string Code, string Name, int Year, DateTime ExpiresAt, DateTime? UsedAt);

/// <summary>
/// Exchanges points for an item of the catalogue at a store: within the catalogue's and the
/// item's windows, at an allowed store, for the tiers allowed, within the member's limit, never
/// with points debt outstanding, never beyond the balance, and for a gift with stock, never
/// beyond the store's stock. A coupon, cash or service item issues it in the same transaction;
/// a gift waits at the store for its pickup code. A refusal changes nothing.
/// </summary>
public sealed class Redeem(PatronDb db, CommitSale checkout, MemberLedger ledger, CouponIssuer issuer, AuditLog audit)
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
            if (!rules.IsOpen(localDate) || !item.IsOpen(localDate))
            {
                var months = item.Months.Count > 0 ? item.Months : rules.Months;
                var open = months.Count == 0 ? "" : " Open in months " + string.Join(", ", months) + ".";
                throw Refused("redemption.closed", $"Redemption of {item.Name} is not open on {localDate:yyyy-MM-dd}.{open}");
            }

            if ((item.Stores.Count > 0 && !item.Stores.Contains(store.Code)) || (item.IssuingStoreOnly && m.Member.EnrolStoreId != store.Id))
            {
                throw Refused("redemption.wrong_store", item.IssuingStoreOnly
                    ? $"{item.Name} is redeemed only at the store where the member enrolled."
                    : $"{item.Name} is redeemed only at stores {string.Join(", ", item.Stores)}.");
            }

            if (item.Tiers.Count > 0 && (m.Account.Tier is null || !item.Tiers.Contains(m.Account.Tier)))
            {
                throw Refused("redemption.tier_forbidden", $"{item.Name} is for tiers {string.Join(", ", item.Tiers)} only.");
            }

            if (item.PerMember is { } limit)
            {
                var since = item.LimitPeriod switch
                {
                    LimitPeriod.Year => new DateOnly(localDate.Year, 1, 1),
                    LimitPeriod.Month => new DateOnly(localDate.Year, localDate.Month, 1),
                    _ => DateOnly.MinValue,
                };
                var sinceUtc = since == DateOnly.MinValue ? DateTime.MinValue : TimeZoneInfo.ConvertTimeToUtc(since.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), m.Zone);
                var taken = await db.Redemptions.CountAsync(x => x.MemberId == memberId && x.ItemCode == item.Code && x.Status != RedemptionStatus.Cancelled && x.At >= sinceUtc, ct);
                if (taken >= limit)
                {
                    var period = item.LimitPeriod switch { LimitPeriod.Year => " a year", LimitPeriod.Month => " a month", _ => "" };
                    throw Refused("redemption.limit", $"{item.Name} can be redeemed {limit} time(s){period} per member; this member has reached it.");
                }
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

            if (item.Stock && await db.Database.ExecuteSqlAsync(
                    $"UPDATE gift_stocks SET quantity = quantity - 1, updated_at = {atUtc} WHERE program_id = {store.ProgramId} AND item_code = {item.Code} AND store_id = {store.Id} AND quantity > 0", ct) == 0)
            {
                throw Refused("redemption.out_of_stock", $"{item.Name} is out of stock at this store.");
            }

            m.Points.Spend(item.Points, PointsCause.Redemption, atUtc, item.Code);
            Coupon? coupon = null;
            Entitlement? entitlement = null;
            switch (item.Kind)
            {
                case RewardKind.Coupon or RewardKind.Cash:
                    var template = (item.Coupon is { } t ? m.Rules.Coupons.Find(t) : null)
                        ?? CouponTemplate.FromVoucher(item.Code, new VoucherSpec { Name = item.Name, Value = item.Value, ValidDays = item.ValidDays ?? (item.Kind == RewardKind.Cash ? 30 : null) });
                    coupon = (await issuer.IssueAsync(m.Member.ProgramId, template, [memberId], CouponSource.Redemption, item.Code, store.Id, caller.StaffId, atUtc, m.Zone, ct)).Single();
                    break;
                case RewardKind.Service:
                    var year = localDate.Year;
                    var end = item.ValidDays is { } days ? atUtc.AddDays(days) : TimeZoneInfo.ConvertTimeToUtc(new DateTime(year + 1, 1, 1, 0, 0, 0, DateTimeKind.Unspecified), m.Zone);
                    entitlement = new Entitlement(m.Member.ProgramId, memberId, item.Code, item.Name, year, atUtc, end);
                    db.Entitlements.Add(entitlement);
                    break;
            }

            await db.SaveChangesAsync(ct);
            var redemption = new Redemption(m.Member.ProgramId, memberId, store.Id, item.Code, item.Name, item.Kind, item.Points, item.Value, coupon?.Id, atUtc)
            {
                StaffId = caller.StaffId,
                EntitlementId = entitlement?.Id,
                TookStock = item.Stock,
            };
            while (redemption.PickupCode is { } pickup && await db.Redemptions.AnyAsync(x => x.ProgramId == redemption.ProgramId && x.PickupCode == pickup, ct))
            {
                redemption.NewPickupCode();
            }

            db.Redemptions.Add(redemption);
            ledger.Stage(m, null, caller.StaffId);
            await db.SaveChangesAsync(ct);
            if (entitlement is not null)
            {
                entitlement.RedemptionId = redemption.Id;
            }

            audit.Record(caller, "points.redeemed", store.Id, memberId, "redemption", redemption.Id, new { item = item.Code, points = item.Points });
            return new RedemptionResult(redemption.Id, item.Code, item.Name, item.Points, m.Points.Balance, coupon is null ? null : IssuedCouponView.From(coupon),
                Codes.Of(item.Kind), redemption.PickupCode, entitlement?.Code);
        }, ct);
    }

    internal static ProblemException Refused(string code, string message) => new(StatusCodes.Status422UnprocessableEntity, code, message);
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
            var valid = db.Entitlements.Where(x => x.MemberId == memberId && x.Code == code && x.ExpiresAt > now && x.RevokedAt == null);
            var e = await valid.Where(x => x.UsedAt == null).OrderBy(x => x.ExpiresAt).ThenBy(x => x.Id).FirstOrDefaultAsync(ct)
                ?? await valid.OrderByDescending(x => x.Year).FirstOrDefaultAsync(ct)
                ?? throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "entitlement.none", "The member holds no valid entitlement of this kind.");

            // Guarded update first (it takes the row lock): of two uses at the same moment one wins.
            var claimed = await db.Database.ExecuteSqlAsync($"UPDATE entitlements SET used_store_id = {store.Id} WHERE id = {e.Id} AND used_at IS NULL AND revoked_at IS NULL", ct);
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
