using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>
/// Which members to list: enrolled at a store, in a tier, active or inactive, enrolled in a period
/// of local days; sorted by enrolled (newest first, the default), enrolled_asc, name, name_desc,
/// points (most first) or points_asc.
/// </summary>
public sealed record MemberListFilter(long? StoreId = null, string? Tier = null, string? Status = null, DateOnly? From = null, DateOnly? To = null, string? Sort = null, int Page = 1, int PageSize = MemberDirectory.DefaultPageSize);

/// <summary>A member as the list shows them: the phone masked, the tier's name, the points balance.</summary>
public sealed record MemberListRow(long Id, string Name, string Mobile, string? Card, long StoreId, string Store, string? Tier, long Points, string Status, DateTime EnrolledAt);

public sealed record MemberListPage(IReadOnlyList<MemberListRow> Items, int Page, int PageSize, int Total, string Sort)
{
    public int Pages => Paging.Pages(Total, PageSize);
}

/// <summary>A tier members can be filtered by: its code and name (several programs may share a code).</summary>
public sealed record TierOption(string Code, string Name);

/// <summary>
/// The member list for staff who browse members: the members enrolled at the caller's stores
/// (head office: every store), filtered, sorted and paged in the database.
/// </summary>
public sealed class MemberDirectory(PatronDb db, ProgramRules programs, TimeProvider clock)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public static readonly IReadOnlyList<string> Sorts = ["enrolled", "enrolled_asc", "name", "name_desc", "points", "points_asc"];

    public async Task<MemberListPage> ListAsync(MemberListFilter f, CallerScope caller, CancellationToken ct)
    {
        var members = await FilteredAsync(f, caller, ct);
        var sort = Sorts.Contains(f.Sort ?? "") ? f.Sort! : "enrolled";
        var pageSize = Math.Clamp(f.PageSize, 1, MaxPageSize);
        var total = await members.CountAsync(ct);
        var page = Paging.Clamp(f.Page, total, pageSize);
        var rows = from m in members
                   join a in db.MemberAccounts on m.Id equals a.MemberId into accounts
                   from a in accounts.DefaultIfEmpty()
                   select new { m, Balance = a == null ? 0 : a.Balance, Tier = a == null ? null : a.Tier };
        rows = sort switch
        {
            "enrolled_asc" => rows.OrderBy(x => x.m.EnrolledAt).ThenBy(x => x.m.Id),
            "name" => rows.OrderBy(x => x.m.Name).ThenBy(x => x.m.Id),
            "name_desc" => rows.OrderByDescending(x => x.m.Name).ThenByDescending(x => x.m.Id),
            "points" => rows.OrderByDescending(x => x.Balance).ThenByDescending(x => x.m.Id),
            "points_asc" => rows.OrderBy(x => x.Balance).ThenBy(x => x.m.Id),
            _ => rows.OrderByDescending(x => x.m.EnrolledAt).ThenByDescending(x => x.m.Id),
        };
        var found = await rows.Skip((page - 1) * pageSize).Take(pageSize).Select(x => new
        {
            x.m.Id,
            x.m.ProgramId,
            x.m.Name,
            x.m.Mobile,
            x.m.EnrolStoreId,
            Store = db.Stores.Where(s => s.Id == x.m.EnrolStoreId).Select(s => s.Name).FirstOrDefault(),
            Card = db.Cards.Where(c => c.MemberId == x.m.Id && c.Kind != Domain.Cards.CardKind.SubCard).OrderByDescending(c => c.Id).Select(c => c.Number).FirstOrDefault(),
            x.m.Status,
            x.m.EnrolledAt,
            x.Balance,
            x.Tier,
        }).ToListAsync(ct);

        var tiers = await TierNamesAsync(found.Select(x => x.ProgramId).Distinct(), ct);
        string? TierName(long program, string? code)
        {
            var (entry, names) = tiers.GetValueOrDefault(program, (null, new Dictionary<string, string>()));
            var c = code ?? entry;
            return c is null ? null : names.GetValueOrDefault(c, c);
        }

        return new MemberListPage(
            [.. found.Select(x => new MemberListRow(x.Id, x.Name, Masking.Phone(x.Mobile), x.Card, x.EnrolStoreId, x.Store ?? "", TierName(x.ProgramId, x.Tier), x.Balance, x.Status == MemberStatus.Active ? "active" : "inactive", x.EnrolledAt))],
            page,
            pageSize,
            total,
            sort);
    }

    /// <summary>The tiers of the caller's programs in force today, for the filter.</summary>
    public async Task<IReadOnlyList<TierOption>> TiersAsync(CallerScope caller, CancellationToken ct)
    {
        var ids = await VisibleProgramIdsAsync(caller, ct);
        var names = await TierNamesAsync(ids, ct);
        return [.. names.Values.SelectMany(v => v.Names).GroupBy(t => t.Key).Select(g => new TierOption(g.Key, string.Join(" / ", g.Select(t => t.Value).Distinct())))];
    }

    /// <summary>
    /// The members the filter names, in the caller's scope: enrolled at the caller's stores (or at
    /// the one store named, which must be one of them), in the caller's programs.
    /// </summary>
    public async Task<IQueryable<Member>> FilteredAsync(MemberListFilter f, CallerScope caller, CancellationToken ct)
    {
        if (f.StoreId is { } s && !caller.CanBrowseStore(s))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not list the members of this store.");
        }

        if (f.From is { } from0 && f.To is { } to0 && to0 < from0)
        {
            throw Problem.Invalid("report.period_invalid", "The period runs forward.", "to");
        }

        var status = f.Status switch
        {
            null or "" => (MemberStatus?)null,
            "active" => MemberStatus.Active,
            "inactive" => MemberStatus.Inactive,
            _ => throw Problem.Invalid("member.status_invalid", "The status is active or inactive.", "status"),
        };

        var query = db.Members.AsNoTracking();
        if (!caller.AllStores)
        {
            var programIds = caller.ProgramIds.ToList();
            var stores = caller.StoreIds.ToList();
            query = query.Where(m => programIds.Contains(m.ProgramId) && stores.Contains(m.EnrolStoreId));
        }

        if (f.StoreId is { } store)
        {
            query = query.Where(m => m.EnrolStoreId == store);
        }

        if (status is { } st)
        {
            query = query.Where(m => m.Status == st);
        }

        // Enrolment days are the store's local days (the default zone when no store is named).
        var storeZone = f.StoreId is { } named ? await db.Stores.Where(x => x.Id == named).Select(x => x.TimeZone).FirstOrDefaultAsync(ct) : null;
        var zone = ProgramRules.Zone(storeZone ?? Domain.Organisation.Store.DefaultTimeZone);
        if (f.From is { } from)
        {
            var start = TimeZoneInfo.ConvertTimeToUtc(from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone);
            query = query.Where(m => m.EnrolledAt >= start);
        }

        if (f.To is { } to && to < DateOnly.MaxValue)
        {
            var end = TimeZoneInfo.ConvertTimeToUtc(to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone);
            query = query.Where(m => m.EnrolledAt < end);
        }

        if (!string.IsNullOrWhiteSpace(f.Tier))
        {
            // A member without an account yet (or without a tier on it) is in the entry tier of their program.
            var tier = f.Tier.Trim();
            var entryOf = (await TierNamesAsync(await VisibleProgramIdsAsync(caller, ct), ct)).Where(p => p.Value.Entry == tier).Select(p => p.Key).ToList();
            query = query.Where(m => db.MemberAccounts.Any(a => a.MemberId == m.Id && a.Tier == tier)
                || (entryOf.Contains(m.ProgramId) && !db.MemberAccounts.Any(a => a.MemberId == m.Id && a.Tier != null)));
        }

        return query;
    }

    private async Task<List<long>> VisibleProgramIdsAsync(CallerScope caller, CancellationToken ct) =>
        caller.AllStores ? await db.Programs.AsNoTracking().Select(p => p.Id).ToListAsync(ct) : [.. caller.ProgramIds];

    /// <summary>Per program in force today: its entry tier and the names of its tiers by code.</summary>
    private async Task<Dictionary<long, (string? Entry, Dictionary<string, string> Names)>> TierNamesAsync(IEnumerable<long> programIds, CancellationToken ct)
    {
        var result = new Dictionary<long, (string?, Dictionary<string, string>)>();
        foreach (var id in programIds)
        {
            var zone = await programs.ZoneAsync(id, ct);
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, zone));
            if (await programs.TryInForceAsync(id, today, ct) is { } rules)
            {
                result[id] = (rules.EntryTier?.Code, rules.Tiers.DistinctBy(t => t.Code).ToDictionary(t => t.Code, t => t.Name));
            }
        }

        return result;
    }
}
