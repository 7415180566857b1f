using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Coupons;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Coupons;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Rewards;

public sealed record StockView(long StoreId, string StoreName, int Quantity);

/// <summary>An item of the catalogue as a store sees it today: open or not, and the stock where it is counted.</summary>
public sealed record CatalogueItemView(
    string Code,
    string Name,
    string Kind,
    long Points,
    long Value,
    string? Coupon,
    IReadOnlyList<string> Tiers,
    int? PerMember,
    string LimitPeriod,
    IReadOnlyList<int> Months,
    IReadOnlyList<string> Stores,
    bool IssuingStoreOnly,
    bool OpenToday,
    bool TracksStock,
    IReadOnlyList<StockView> Stock);

public sealed record CatalogueView(long ProgramId, DateOnly Today, IReadOnlyList<int> Months, IReadOnlyList<CatalogueItemView> Items);

public sealed record SetStockRequest(long StoreId, int Quantity);

public sealed record PickupRequest(string? PickupCode, long? StoreId = null);

public sealed record CancelRedemptionRequest(string? Reason);

/// <summary>One page of a store's redemptions and how many there are in all.</summary>
public sealed record RedemptionPage(IReadOnlyList<RedemptionView> Items, int Page, int PageSize, int Total)
{
    public int Pages => Paging.Pages(Total, PageSize);
}

public sealed record RedemptionView(long Id, long MemberId, string Member, string Item, string Name, string Kind, long Points, long Value, string Status, long StoreId, DateTime At, DateTime? PickedUpAt, DateTime? CancelledAt)
{
    public static RedemptionView From(Redemption r, string memberName) =>
        new(r.Id, r.MemberId, Masking.Name(memberName), r.ItemCode, r.ItemName, Codes.Of(r.Kind), r.Points, r.Value,
            r.AwaitsPickup ? "awaiting_pickup" : Codes.Of(r.Status), r.StoreId, r.At, r.PickedUpAt, r.CancelledAt);
}

/// <summary>
/// The redemption catalogue at work: what each store offers today and holds in stock, gifts
/// handed over against their pickup code at the store that took the redemption, and
/// redemptions cancelled before pickup with the points (and the stock) given back. Every change
/// is audited.
/// </summary>
public sealed class Catalogue(PatronDb db, ProgramRules programs, MemberLedger ledger, AuditLog audit, TimeProvider clock)
{
    /// <summary>Redemptions a page of the API lists (the most a page holds).</summary>
    public const int ApiPageSize = 200;

    public async Task<CatalogueView> GetAsync(long? programId, long? storeId, CallerScope caller, CancellationToken ct)
    {
        var program = storeId is { } s
            ? await db.Stores.Where(x => x.Id == s).Select(x => (long?)x.ProgramId).FirstOrDefaultAsync(ct)
            : programId ?? (caller.ProgramIds.Count == 1 ? caller.ProgramIds.First() : (long?)null);
        if (program is not { } p || !caller.CanSeeProgram(p) || (storeId is { } st && !caller.CanBrowseStore(st)))
        {
            throw Problem.NotFound("program.not_found", "No such program or store in your scope.");
        }

        var zone = await programs.ZoneAsync(p, ct);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, zone));
        var rules = await programs.TryInForceAsync(p, today, ct);
        if (rules is null)
        {
            return new CatalogueView(p, today, [], []);
        }

        var stores = await db.Stores.AsNoTracking().Where(x => x.ProgramId == p).Select(x => new { x.Id, x.Name }).ToListAsync(ct);
        var visible = stores.Where(x => caller.CanBrowseStore(x.Id) && (storeId is null || x.Id == storeId)).ToList();
        var ids = visible.Select(x => x.Id).ToList();
        var stock = await db.GiftStocks.AsNoTracking().Where(g => g.ProgramId == p && ids.Contains(g.StoreId)).ToListAsync(ct);
        var open = rules.Redemption.IsOpen(today);
        return new CatalogueView(p, today, rules.Redemption.Months, [.. rules.Redemption.Items.Select(i => new CatalogueItemView(
            i.Code, i.Name, Codes.Of(i.Kind), i.Points, i.Value, i.Coupon, i.Tiers, i.PerMember, Codes.Of(i.LimitPeriod), i.Months, i.Stores, i.IssuingStoreOnly,
            open && i.IsOpen(today), i.Stock,
            i.Stock ? [.. visible.Select(v => new StockView(v.Id, v.Name, stock.FirstOrDefault(g => g.ItemCode == i.Code && g.StoreId == v.Id)?.Quantity ?? 0))] : []))]);
    }

    /// <summary>Sets a store's stock of a gift (a count after delivery or stocktaking); audited with the quantity before.</summary>
    public async Task<StockView> SetStockAsync(string itemCode, SetStockRequest r, CallerScope caller, CancellationToken ct)
    {
        if (r.Quantity is < 0 or > 1_000_000)
        {
            throw Problem.Invalid("stock.quantity_invalid", "Stock is a whole number from 0 to 1000000.", "quantity");
        }

        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(x => x.Id == r.StoreId, ct);
        if (store is null || !caller.CanSeeProgram(store.ProgramId))
        {
            throw Problem.NotFound("store.not_found", "The store does not exist.");
        }

        caller.EnsureCanActAs(store.Id);
        var atUtc = clock.GetUtcNow().UtcDateTime;
        var zone = await programs.ZoneAsync(store.ProgramId, ct);
        var rules = await programs.InForceAsync(store.ProgramId, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(atUtc, zone)), ct);
        var item = rules.Redemption.Items.FirstOrDefault(i => i.Code == itemCode && i.Stock)
            ?? throw Problem.NotFound("redemption.item_unknown", $"The catalogue has no gift {itemCode} with stock.");
        return await Transactions.RunAsync(db, async ct =>
        {
            var row = await db.GiftStocks.FirstOrDefaultAsync(g => g.ProgramId == store.ProgramId && g.ItemCode == item.Code && g.StoreId == store.Id, ct);
            var before = row?.Quantity ?? 0;
            if (row is null)
            {
                db.GiftStocks.Add(new GiftStock(store.ProgramId, item.Code, store.Id, r.Quantity, atUtc));
            }
            else
            {
                row.Set(r.Quantity, atUtc);
            }

            audit.Record(caller, "catalogue.stock_set", store.Id, null, "gift_stock", null, new { item = item.Code, before, after = r.Quantity });
            await db.SaveChangesAsync(ct);
            return new StockView(store.Id, store.Name, r.Quantity);
        }, ct);
    }

    /// <summary>Hands over a gift against its pickup code at the store that took the redemption.</summary>
    public async Task<RedemptionView> PickUpAsync(PickupRequest r, CallerScope caller, CancellationToken ct)
    {
        var code = (r.PickupCode ?? "").Trim();
        var storeId = r.StoreId ?? caller.DefaultStoreId
            ?? throw Problem.Invalid("redemption.store_required", "Name the store handing over the gift.", "storeId");
        caller.EnsureCanActAs(storeId);
        var programId = await db.Stores.Where(s => s.Id == storeId).Select(s => (long?)s.ProgramId).FirstOrDefaultAsync(ct)
            ?? throw Problem.Invalid("store.not_found", "The store does not exist.", "storeId");
        if (code.Length is 0 or > 16)
        {
            throw Problem.Invalid("redemption.pickup_code_invalid", "Enter the pickup code the member shows.", "pickupCode");
        }

        return await Transactions.RunAsync(db, async ct =>
        {
            // A code of another store answers as an unknown one: codes cannot be probed across stores.
            var redemption = await db.Redemptions.FirstOrDefaultAsync(x => x.ProgramId == programId && x.PickupCode == code, ct);
            if (redemption is null || (redemption.StoreId != storeId && !caller.CanActAs(redemption.StoreId)))
            {
                throw Problem.NotFound("redemption.not_found", "No redemption with this pickup code.");
            }

            // Claim the row first: of two counters handing over the same gift, one wins.
            await db.Database.ExecuteSqlAsync($"UPDATE redemptions SET status = status WHERE id = {redemption.Id}", ct);
            await db.Entry(redemption).ReloadAsync(ct);
            try
            {
                redemption.PickUp(storeId, caller.StaffId, clock.GetUtcNow().UtcDateTime);
            }
            catch (DomainException e)
            {
                throw Problem.FromDomain(e);
            }

            audit.Record(caller, "redemption.picked_up", storeId, redemption.MemberId, "redemption", redemption.Id, new { item = redemption.ItemCode });
            await db.SaveChangesAsync(ct);
            return RedemptionView.From(redemption, await NameAsync(redemption.MemberId, ct));
        }, ct);
    }

    /// <summary>Cancels a redemption before its gift is collected (or its coupon or service used): the points come back, the stock too.</summary>
    public async Task<RedemptionView> CancelAsync(long id, CancelRedemptionRequest r, CallerScope caller, CancellationToken ct)
    {
        var reason = r.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 100)
        {
            throw Problem.Invalid("redemption.reason_required", "Give a reason of at most 100 characters.", "reason");
        }

        var probe = await db.Redemptions.AsNoTracking().Where(x => x.Id == id).Select(x => new { x.MemberId, x.StoreId, x.ProgramId }).FirstOrDefaultAsync(ct);
        if (probe is null || !caller.CanSeeProgram(probe.ProgramId))
        {
            throw Problem.NotFound("redemption.not_found", "The redemption does not exist.");
        }

        caller.EnsureCanActAs(probe.StoreId);
        var atUtc = clock.GetUtcNow().UtcDateTime;
        return await Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(probe.MemberId, caller, atUtc, ct);

            // Lock the redemption as a pickup does: of a cancel and a pickup at the same moment, one wins.
            await db.Database.ExecuteSqlAsync($"UPDATE redemptions SET status = status WHERE id = {id}", ct);
            var redemption = await db.Redemptions.FirstAsync(x => x.Id == id, ct);
            try
            {
                redemption.Cancel(caller.StaffId, atUtc);
            }
            catch (DomainException e)
            {
                throw Problem.FromDomain(e);
            }

            if (redemption.CouponId is { } couponId)
            {
                var coupon = await db.Coupons.FirstAsync(c => c.Id == couponId, ct);
                if (coupon.Status != CouponStatus.Issued)
                {
                    throw Redeem.Refused("redemption.coupon_used", $"The coupon from this redemption is {Codes.Of(coupon.Status)}; it cannot be cancelled.");
                }

                coupon.Void(atUtc);
            }

            if (redemption.EntitlementId is { } entitlementId)
            {
                // Guarded: a use at the same moment wins or loses as a whole.
                var name = await db.Entitlements.Where(e => e.Id == entitlementId).Select(e => e.Name).FirstAsync(ct);
                if (await db.Database.ExecuteSqlAsync($"UPDATE entitlements SET revoked_at = {atUtc} WHERE id = {entitlementId} AND used_at IS NULL AND revoked_at IS NULL", ct) == 0)
                {
                    throw Redeem.Refused("redemption.service_used", $"{name} has been used; it cannot be cancelled.");
                }
            }

            if (redemption.TookStock)
            {
                await db.Database.ExecuteSqlAsync(
                    $"UPDATE gift_stocks SET quantity = quantity + 1, updated_at = {atUtc} WHERE program_id = {redemption.ProgramId} AND item_code = {redemption.ItemCode} AND store_id = {redemption.StoreId}", ct);
            }

            m.Points.Earn(redemption.Points, PointsCause.RedemptionCancelled, atUtc, m.ExpiresAt(atUtc), redemption.ItemCode);
            ledger.Stage(m, null, caller.StaffId, redemption.StoreId);
            audit.Record(caller, "redemption.cancelled", redemption.StoreId, redemption.MemberId, "redemption", redemption.Id, new { item = redemption.ItemCode, points = redemption.Points, reason });
            await db.SaveChangesAsync(ct);
            return RedemptionView.From(redemption, m.Member.Name);
        }, ct);
    }

    /// <summary>The first page of redemptions at a store, newest first; <paramref name="awaiting"/> keeps the gifts waiting for pickup.</summary>
    public async Task<IReadOnlyList<RedemptionView>> ListAsync(long storeId, bool awaiting, CallerScope caller, CancellationToken ct) =>
        (await PageAsync(storeId, awaiting, 1, ApiPageSize, caller, ct)).Items;

    /// <summary>
    /// One page of the redemptions at a store, newest first, cut in the database: a store's
    /// redemptions grow with its sales, and the oldest gift still waiting is the one to find.
    /// </summary>
    public async Task<RedemptionPage> PageAsync(long storeId, bool awaiting, int page, int pageSize, CallerScope caller, CancellationToken ct)
    {
        if (!caller.CanBrowseStore(storeId))
        {
            throw Problem.NotFound("store.not_found", "The store does not exist.");
        }

        var query = db.Redemptions.AsNoTracking().Where(x => x.StoreId == storeId);
        if (awaiting)
        {
            query = query.Where(x => x.Kind == RewardKind.Gift && x.Status == RedemptionStatus.Done);
        }

        pageSize = Math.Clamp(pageSize, 1, ApiPageSize);
        var total = await query.CountAsync(ct);
        page = Paging.ClampPastTheEnd(page, total, pageSize);
        var rows = await (from x in query
                          join mem in db.Members on x.MemberId equals mem.Id
                          orderby x.At descending, x.Id descending
                          select new { x, mem.Name }).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new RedemptionPage([.. rows.Select(r => RedemptionView.From(r.x, r.Name))], page, pageSize, total);
    }

    private async Task<string> NameAsync(long memberId, CancellationToken ct) =>
        await db.Members.Where(x => x.Id == memberId).Select(x => x.Name).FirstAsync(ct);
}
