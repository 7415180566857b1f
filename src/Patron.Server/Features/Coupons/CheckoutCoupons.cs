using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Coupons;
using Patron.Domain.Pricing;
using Patron.Domain.Programs;
using Patron.Domain.Sales;
using Patron.Server.Features.Checkout;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Coupons;

/// <summary>
/// Coupons at the counter: finding the ones named on a basket (refused with the reason when they
/// cannot be used), telling the cashier which of a member's coupons fit a basket, consuming them
/// with the sale (a guarded decrement: of many sales racing for a coupon's last use, one wins),
/// and giving them back when a whole sale is returned, as their template says.
/// </summary>
public sealed class CheckoutCoupons(PatronDb db)
{
    public async Task<List<Coupon>> LoadAsync(IReadOnlyList<string> codes, long programId, long? memberId, DateTime atUtc, CancellationToken ct)
    {
        if (codes.Count == 0)
        {
            return [];
        }

        var found = await db.Coupons.AsNoTracking().Where(c => codes.Contains(c.Code) && c.ProgramId == programId).ToListAsync(ct);
        var list = new List<Coupon>(codes.Count);
        foreach (var code in codes)
        {
            var coupon = found.FirstOrDefault(c => c.Code == code)
                ?? throw Refused(new("coupon.not_found", "No coupon with this code in this program.", "coupons"));
            if (coupon.Refusal(memberId, atUtc) is { } refusal)
            {
                throw Refused(refusal);
            }

            list.Add(coupon);
        }

        return list;
    }

    public static List<CouponInput> Inputs(IEnumerable<Coupon> coupons) => [.. coupons.Select(c => new CouponInput(c.Code, c.Template))];

    /// <summary>The member's open coupons and any named ones, each usable on this basket on its own or not, with the reason.</summary>
    public async Task<List<QuoteCouponView>> OptionsAsync(ProgramDefinition rules, IReadOnlyList<BasketLine> basket, PricingMember? pricing, DateOnly localDate, string storeCode,
        long programId, long? memberId, DateTime atUtc, CancellationToken ct)
    {
        if (memberId is null)
        {
            return [];
        }

        var held = await db.Coupons.AsNoTracking()
            .Where(c => c.MemberId == memberId && c.ProgramId == programId && c.Status == CouponStatus.Issued && (c.ExpiresAt == null || c.ExpiresAt > atUtc))
            .OrderBy(c => c.ExpiresAt == null).ThenBy(c => c.ExpiresAt).Take(50).ToListAsync(ct);
        return [.. held.Select(c =>
        {
            var refusal = c.Refusal(memberId, atUtc) ?? PricingEngine.Refusal(rules, basket, pricing, localDate, new CouponInput(c.Code, c.Template), storeCode);
            return new QuoteCouponView(c.Code, c.TemplateCode, c.Name, Codes.Of(c.Kind), c.Value, c.ExpiresAt, refusal is null, refusal?.Code, refusal?.Message);
        })];
    }

    /// <summary>Takes one use of each coupon for <paramref name="sale"/> (saved) and records what it took off and cost.</summary>
    public async Task ConsumeAsync(Sale sale, IReadOnlyList<Coupon> coupons, Quote quote, DateTime atUtc, CancellationToken ct)
    {
        foreach (var coupon in coupons.OrderBy(c => c.Id))
        {
            var taken = await db.Database.ExecuteSqlAsync(
                $"UPDATE coupons SET uses_left = uses_left - 1, status = CASE WHEN uses_left = 1 THEN 1 ELSE status END, used_at = {atUtc} WHERE id = {coupon.Id} AND status = 0 AND uses_left > 0",
                ct);
            if (taken == 0)
            {
                throw Refused(new("coupon.used", $"{coupon.Name} has just been used.", "coupons"));
            }

            var applied = quote.Coupons.First(a => a.Code == coupon.Code);
            var cost = coupon.Template.Cost ?? applied.Discount;
            db.CouponUses.Add(new CouponUse(coupon.Id, sale.ProgramId, sale.Id, sale.MemberId, sale.StoreId, atUtc, applied.Discount, cost));
        }
    }

    /// <summary>After a return that brought the whole sale back: restores or voids its coupons as their templates say; the restored ones.</summary>
    public async Task<List<AppliedCouponView>> ReturnAsync(Sale sale, DateTime atUtc, CancellationToken ct)
    {
        var restored = new List<AppliedCouponView>();
        if (!sale.FullyReturned)
        {
            return restored;
        }

        var uses = await db.CouponUses.Where(u => u.SaleId == sale.Id && u.ReturnedAt == null).ToListAsync(ct);
        foreach (var use in uses)
        {
            var coupon = await db.Coupons.AsNoTracking().FirstAsync(c => c.Id == use.CouponId, ct);
            var restore = coupon.Template.OnReturn == CouponOnReturn.Restore && (coupon.ExpiresAt is null || coupon.ExpiresAt > atUtc) && coupon.Status != CouponStatus.Void;
            if (restore)
            {
                await db.Database.ExecuteSqlAsync($"UPDATE coupons SET uses_left = uses_left + 1, status = 0, used_at = NULL WHERE id = {coupon.Id} AND status <> 2", ct);
                restored.Add(new AppliedCouponView(coupon.Code, coupon.TemplateCode, coupon.Name, Codes.Of(coupon.Kind), use.Discount));
            }

            use.Returned(atUtc, restore);
        }

        return restored;
    }

    /// <summary>The coupons a recorded sale used, for its receipt.</summary>
    public async Task<List<AppliedCouponView>> OfSaleAsync(long saleId, CancellationToken ct) =>
        [.. (await (from u in db.CouponUses.AsNoTracking()
                    join c in db.Coupons.AsNoTracking() on u.CouponId equals c.Id
                    where u.SaleId == saleId
                    orderby u.Id
                    select new { c.Code, c.TemplateCode, c.Name, c.Kind, u.Discount }).ToListAsync(ct))
            .Select(x => new AppliedCouponView(x.Code, x.TemplateCode, x.Name, Codes.Of(x.Kind), x.Discount))];

    private static ProblemException Refused(Domain.Common.DomainError error) =>
        new(StatusCodes.Status422UnprocessableEntity, error.Code, error.Message, [error]);
}
