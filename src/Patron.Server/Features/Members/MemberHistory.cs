using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Care;
using Patron.Domain.Coupons;
using Patron.Domain.Members;
using Patron.Domain.Sales;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Members;

/// <summary>One page of a member's history, newest first.</summary>
public sealed record HistoryPage<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total)
{
    public int Pages => Paging.Pages(Total, PageSize);
}

/// <summary>A points entry with its cause, what it refers to, who made it and, for points earned, when they expire and how many are left.</summary>
public sealed record PointsRow(long Id, DateTime At, string Cause, long Points, string? Reference, long? SaleId, string? Staff, DateTime? ExpiresAt, long? Remaining, string? Store);

/// <summary>An upcoming expiry: an open lot of points.</summary>
public sealed record ExpiringLot(DateTime EarnedAt, DateTime? ExpiresAt, long Points, long Remaining);

public sealed record StoredValueRow(long Id, DateTime At, string Cause, long Principal, long Bonus, string? Store, string? Reference, long? SaleId);

/// <summary>A sale or a return of the member, as the list shows it (fen; points earned, or reversed by a return).</summary>
public sealed record SaleRow(long Id, DateTime At, string Kind, string Store, string OrderNumber, long Amount, long Discount, long Paid, long Points, long PointsUsed, long StoredValue, long? OriginalSaleId)
{
    public long StoreId { get; init; }
}

/// <summary>held (usable now or later), used, expired (never used), void.</summary>
public sealed record CouponRow(long Id, string Name, string Kind, long Value, string State, DateTime IssuedAt, DateTime? StartsAt, DateTime? ExpiresAt, DateTime? UsedAt, string Source, long? UsedSaleId, string? UsedOrderNumber, string? UsedStore, long UsedDiscount);

public sealed record CouponCounts(int Held, int Used, int Expired, int Void);

public sealed record TierRow(long Id, DateTime At, string? From, string? To, string Reason, string? Staff, string? Note);

/// <summary>The member's follow-ups at a glance: the next one due, how many are open or overdue, and the last one done.</summary>
public sealed record CareSummary(DateOnly Today, DateOnly? NextDueOn, string? NextKind, int Open, int Overdue, DateTime? LastDoneAt, string? LastOutcome);

/// <summary>
/// The member 360° sections, each read with one bounded query (a page or a Take) filtered by the
/// member's id, so the member page stays quick however long a member's history is. Every section
/// checks first that the member is in the caller's programs (404 otherwise), as the rest of the
/// member's services do. Nothing here holds personal data in clear.
/// </summary>
public sealed class MemberHistory(PatronDb db, ProgramRules programs, TimeProvider clock)
{
    public const int PageSize = 20;
    public const int LotsShown = 20;

    public async Task<HistoryPage<PointsRow>> PointsAsync(long memberId, int page, CallerScope caller, CancellationToken ct, int pageSize = PageSize)
    {
        await db.VisibleMemberAsync(memberId, caller, ct);
        var entries = db.PointsEntries.AsNoTracking().Where(e => e.MemberId == memberId);
        var (total, p) = await PageOfAsync(entries.CountAsync(ct), page, pageSize);
        var rows = await (from e in entries
                          orderby e.At descending, e.Id descending
                          select new
                          {
                              e.Id,
                              e.At,
                              e.Cause,
                              e.Points,
                              e.Reference,
                              e.SaleId,
                              Staff = db.Staff.Where(s => s.Id == e.StaffId).Select(s => s.DisplayName).FirstOrDefault(),
                              ExpiresAt = e.Lot == null ? null : e.Lot.ExpiresAt,
                              Remaining = e.Lot == null ? (long?)null : e.Lot.Remaining,
                              Store = e.Lot == null ? null : db.Stores.Where(s => s.Id == e.Lot.StoreId).Select(s => s.Name).FirstOrDefault(),
                          }).Skip((p - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new([.. rows.Select(r => new PointsRow(r.Id, r.At, r.Cause.ToString().ToLowerInvariant(), r.Points, r.Reference, r.SaleId, r.Staff, r.ExpiresAt, r.Remaining, r.Store))], p, pageSize, total);
    }

    /// <summary>The member's open lots, soonest expiry first (at most <see cref="LotsShown"/>).</summary>
    public async Task<IReadOnlyList<ExpiringLot>> ExpiringAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        await db.VisibleMemberAsync(memberId, caller, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var lots = await db.PointsLots.AsNoTracking()
            .Where(l => l.MemberId == memberId && l.Remaining > 0 && (l.ExpiresAt == null || l.ExpiresAt > now))
            .OrderBy(l => l.ExpiresAt == null).ThenBy(l => l.ExpiresAt).ThenBy(l => l.Id).Take(LotsShown).ToListAsync(ct);
        return [.. lots.Select(l => new ExpiringLot(l.EarnedAt, l.ExpiresAt, l.Points, l.Remaining))];
    }

    public async Task<HistoryPage<StoredValueRow>> StoredValueAsync(long memberId, int page, CallerScope caller, CancellationToken ct, int pageSize = PageSize)
    {
        await db.VisibleMemberAsync(memberId, caller, ct);
        var entries = db.StoredValueEntries.AsNoTracking().Where(e => e.MemberId == memberId);
        var (total, p) = await PageOfAsync(entries.CountAsync(ct), page, pageSize);
        var rows = await (from e in entries
                          orderby e.At descending, e.Id descending
                          select new { e.Id, e.At, e.Cause, e.Principal, e.Bonus, e.Reference, e.SaleId, Store = db.Stores.Where(s => s.Id == e.StoreId).Select(s => s.Name).FirstOrDefault() })
            .Skip((p - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new([.. rows.Select(r => new StoredValueRow(r.Id, r.At, StoredValue.StoredValueQueries.Cause(r.Cause), r.Principal, r.Bonus, r.Store, r.Reference, r.SaleId))], p, pageSize, total);
    }

    public async Task<HistoryPage<SaleRow>> SalesAsync(long memberId, int page, CallerScope caller, CancellationToken ct, int pageSize = PageSize)
    {
        await db.VisibleMemberAsync(memberId, caller, ct);
        var sales = db.Sales.AsNoTracking().Where(s => s.MemberId == memberId);
        var (total, p) = await PageOfAsync(sales.CountAsync(ct), page, pageSize);
        var rows = await (from s in sales
                          join st in db.Stores on s.StoreId equals st.Id
                          orderby s.At descending, s.Id descending
                          select new SaleRow(s.Id, s.At, s.Kind == SaleKind.Return ? "return" : "sale", st.Name, s.OrderNumber, s.Amount, s.Discount, s.Paid, s.Points, s.PointsUsed, s.StoredPrincipal + s.StoredBonus, s.OriginalSaleId) { StoreId = s.StoreId })
            .Skip((p - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new(rows, p, pageSize, total);
    }

    /// <summary>The member's coupons in one state (held, used, expired, void; null: all), newest first, with where each was used.</summary>
    public async Task<(HistoryPage<CouponRow> Page, CouponCounts Counts)> CouponsAsync(long memberId, string? state, int page, CallerScope caller, CancellationToken ct, int pageSize = PageSize)
    {
        await db.VisibleMemberAsync(memberId, caller, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var mine = db.Coupons.AsNoTracking().Where(c => c.MemberId == memberId);
        var grouped = await mine.GroupBy(c => new { c.Status, Lapsed = c.ExpiresAt != null && c.ExpiresAt <= now })
            .Select(g => new { g.Key.Status, g.Key.Lapsed, Count = g.Count() }).ToListAsync(ct);
        var counts = new CouponCounts(
            grouped.Where(g => g.Status == CouponStatus.Issued && !g.Lapsed).Sum(g => g.Count),
            grouped.Where(g => g.Status == CouponStatus.Used).Sum(g => g.Count),
            grouped.Where(g => g.Status == CouponStatus.Issued && g.Lapsed).Sum(g => g.Count),
            grouped.Where(g => g.Status == CouponStatus.Void).Sum(g => g.Count));
        var filtered = state switch
        {
            "held" => mine.Where(c => c.Status == CouponStatus.Issued && (c.ExpiresAt == null || c.ExpiresAt > now)),
            "used" => mine.Where(c => c.Status == CouponStatus.Used),
            "expired" => mine.Where(c => c.Status == CouponStatus.Issued && c.ExpiresAt != null && c.ExpiresAt <= now),
            "void" => mine.Where(c => c.Status == CouponStatus.Void),
            _ => mine,
        };
        var total = state switch
        {
            "held" => counts.Held,
            "used" => counts.Used,
            "expired" => counts.Expired,
            "void" => counts.Void,
            _ => counts.Held + counts.Used + counts.Expired + counts.Void,
        };
        var p = Paging.Clamp(page, total, pageSize);
        var rows = await (from c in filtered
                          orderby c.IssuedAt descending, c.Id descending
                          let use = db.CouponUses.Where(u => u.CouponId == c.Id).OrderByDescending(u => u.Id).Select(u => new
                          {
                              u.SaleId,
                              u.Discount,
                              Order = db.Sales.Where(s => s.Id == u.SaleId).Select(s => s.OrderNumber).FirstOrDefault(),
                              Store = db.Stores.Where(s => s.Id == u.StoreId).Select(s => s.Name).FirstOrDefault(),
                          }).FirstOrDefault()
                          select new { c.Id, c.Name, c.Kind, c.Value, c.Status, c.IssuedAt, c.StartsAt, c.ExpiresAt, c.UsedAt, c.Source, Use = use })
            .Skip((p - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        var items = rows.Select(c => new CouponRow(
            c.Id,
            c.Name,
            c.Kind.ToString().ToLowerInvariant(),
            c.Value,
            c.Status switch
            {
                CouponStatus.Used => "used",
                CouponStatus.Void => "void",
                _ => c.ExpiresAt is { } x && x <= now ? "expired" : "held",
            },
            c.IssuedAt,
            c.StartsAt,
            c.ExpiresAt,
            c.UsedAt,
            c.Source.ToString().ToLowerInvariant(),
            c.Use?.SaleId,
            c.Use?.Order,
            c.Use?.Store,
            c.Use?.Discount ?? 0)).ToList();
        return (new(items, p, pageSize, total), counts);
    }

    /// <summary>The member's tier changes (recorded in tier_changes by enrolment, qualification, returns, manual assignment, import and merge), newest first.</summary>
    public async Task<HistoryPage<TierRow>> TiersAsync(long memberId, int page, CallerScope caller, CancellationToken ct, int pageSize = PageSize)
    {
        await db.VisibleMemberAsync(memberId, caller, ct);
        var changes = db.TierChanges.AsNoTracking().Where(t => t.MemberId == memberId);
        var (total, p) = await PageOfAsync(changes.CountAsync(ct), page, pageSize);
        var rows = await (from t in changes
                          orderby t.At descending, t.Id descending
                          select new { t.Id, t.At, t.FromTier, t.ToTier, t.Reason, t.Note, Staff = db.Staff.Where(s => s.Id == t.StaffId).Select(s => s.DisplayName).FirstOrDefault() })
            .Skip((p - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new([.. rows.Select(t => new TierRow(t.Id, t.At, t.FromTier, t.ToTier, t.Reason.ToString().ToLowerInvariant(), t.Staff, t.Note))], p, pageSize, total);
    }

    /// <summary>The follow-ups summary: next due, open and overdue counts, the last one done (no readings or notes: those stay on the care page).</summary>
    public async Task<CareSummary> CareAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await db.VisibleMemberAsync(memberId, caller, ct);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, await programs.ZoneAsync(member.ProgramId, ct)));
        var tasks = db.CareTasks.AsNoTracking().Where(t => t.MemberId == memberId);
        var open = await tasks.Where(t => t.DoneAt == null).GroupBy(t => t.DueOn < today).Select(g => new { Overdue = g.Key, Count = g.Count() }).ToListAsync(ct);
        var next = await tasks.Where(t => t.DoneAt == null).OrderBy(t => t.DueOn).ThenBy(t => t.Id).Select(t => new { t.DueOn, t.Kind }).FirstOrDefaultAsync(ct);
        var last = await tasks.Where(t => t.DoneAt != null).OrderByDescending(t => t.DoneAt).Select(t => new { t.DoneAt, t.Outcome }).FirstOrDefaultAsync(ct);
        return new CareSummary(
            today,
            next?.DueOn,
            next is null ? null : next.Kind == CareTaskKind.Visit ? "visit" : "call",
            open.Sum(o => o.Count),
            open.Where(o => o.Overdue).Sum(o => o.Count),
            last?.DoneAt,
            last?.Outcome);
    }

    /// <summary>The member's consents now: the latest record of each kind (from the latest 100 records).</summary>
    public async Task<IReadOnlyList<ConsentView>> ConsentsAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        await db.VisibleMemberAsync(memberId, caller, ct);
        var recent = await db.MemberConsents.AsNoTracking().Where(c => c.MemberId == memberId)
            .OrderByDescending(c => c.At).ThenByDescending(c => c.Id).Take(100).ToListAsync(ct);
        return [.. ConsentKinds.All.Select(k => recent.FirstOrDefault(c => c.Kind == k) is { } c ? new ConsentView(k, c.Granted, c.At, c.Source) : new ConsentView(k, false, null, null))];
    }

    private static async Task<(int Total, int Page)> PageOfAsync(Task<int> count, int page, int pageSize)
    {
        var total = await count;
        return (total, Paging.Clamp(page, total, pageSize));
    }
}
