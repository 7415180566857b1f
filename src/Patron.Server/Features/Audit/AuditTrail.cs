using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Audit;

/// <summary>
/// Which entries to list: who (a staff login), what (an action or its prefix, "member."), on which
/// member, at which store, in which local days; sorted by <see cref="AuditTrail.Sorts"/> (newest
/// first by default).
/// </summary>
public sealed record AuditFilter(string? Staff = null, string? Action = null, long? MemberId = null, long? StoreId = null, DateOnly? From = null, DateOnly? To = null, int Page = 1, string? Sort = null);

public sealed record AuditRow(long Id, DateTime At, string Actor, string Action, long? StoreId, string? StoreName, long? MemberId, string? EntityType, long? EntityId, string? Detail);

/// <summary>
/// One page of entries. <see cref="Total"/> counts at most <see cref="AuditTrail.CountCap"/> matches;
/// <see cref="More"/> says there are more than that (narrow the filters to see them).
/// </summary>
public sealed record AuditPage(IReadOnlyList<AuditRow> Items, int Page, int PageSize, int Total, bool More = false, string Sort = AuditTrail.DefaultSort);

/// <summary>
/// The audit trail for those who answer for it: administrators and auditors see every entry,
/// store managers the entries of their stores. Filtered, sorted and paged on the server.
/// Details hold no personal data in clear (that is the rule for writing them).
/// </summary>
public sealed class AuditTrail(PatronDb db)
{
    public const int PageSize = 50;

    /// <summary>The most matches counted (and paged through): 200 pages.</summary>
    public const int CountCap = 10_000;

    public const string DefaultSort = "newest";

    /// <summary>
    /// The orders the list and the export know: newest or oldest first; or grouped by action (A to Z),
    /// by who (the system, then staff, then terminals, each by account) or by store (by store id),
    /// newest first within a group. Each is read in order from an index of the audit table
    /// (the primary key, <c>IX_audit_log_action_id</c>, <c>IX_audit_log_actor_kind_actor_id_id</c>,
    /// <c>IX_audit_log_store_id_id</c>), so a page never sorts the whole log.
    /// </summary>
    public static readonly IReadOnlyList<string> Sorts = [DefaultSort, "oldest", "action", "staff", "store"];

    public static string SortOrDefault(string? sort) => sort is not null && Sorts.Contains(sort) ? sort : DefaultSort;

    public async Task<AuditPage> ListAsync(AuditFilter f, CallerScope caller, CancellationToken ct)
    {
        var query = await FilteredAsync(f, caller, ct);
        var sort = SortOrDefault(f.Sort);

        // Counting every match of a large log is the slow part of the page: count up to the cap.
        var counted = await query.Take(CountCap + 1).CountAsync(ct);
        var more = counted > CountCap;
        var total = Math.Min(counted, CountCap);
        var page = Paging.Clamp(f.Page, total, PageSize);
        var entries = await Sorted(query, sort).Skip((page - 1) * PageSize).Take(PageSize).ToListAsync(ct);
        var names = await NamesAsync(entries, ct);

        return new AuditPage([.. entries.Select(names.Row)], page, PageSize, total, more, sort);
    }

    /// <summary>The entries in the order a sort names (an unknown sort is the default, newest first).</summary>
    public static IQueryable<AuditEntry> Sorted(IQueryable<AuditEntry> query, string? sort) => SortOrDefault(sort) switch
    {
        "oldest" => query.OrderBy(a => a.Id),
        "action" => query.OrderBy(a => a.Action).ThenByDescending(a => a.Id),
        "staff" => query.OrderBy(a => a.ActorKind).ThenBy(a => a.ActorId).ThenByDescending(a => a.Id),
        "store" => query.OrderBy(a => a.StoreId).ThenByDescending(a => a.Id),
        _ => query.OrderByDescending(a => a.Id),
    };

    /// <summary>
    /// The entries a filter names in the caller's scope, unordered: the list pages them, the export
    /// streams them. Refuses roles without the audit trail, another store, a period that runs backwards.
    /// </summary>
    public async Task<IQueryable<AuditEntry>> FilteredAsync(AuditFilter f, CallerScope caller, CancellationToken ct)
    {
        if (caller.Role is not (PatronClaims.Roles.Admin or PatronClaims.Roles.Auditor or PatronClaims.Roles.StoreManager))
        {
            throw Problem.Forbidden("scope.audit_forbidden", "The audit trail is for administrators, auditors and store managers.");
        }

        if (f.StoreId is { } s && !caller.CanBrowseStore(s))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not see this store's entries.");
        }

        if (f.From is { } from && f.To is { } to && to < from)
        {
            throw Problem.Invalid("report.period_invalid", "The period runs forward.", "to");
        }

        var query = db.AuditLog.AsNoTracking();
        if (!caller.AllStores)
        {
            var stores = caller.StoreIds.ToList();
            query = query.Where(a => a.StoreId != null && stores.Contains(a.StoreId.Value));
        }

        if (f.StoreId is { } store)
        {
            query = query.Where(a => a.StoreId == store);
        }

        if (f.MemberId is { } member)
        {
            query = query.Where(a => a.MemberId == member);
        }

        if (!string.IsNullOrWhiteSpace(f.Action))
        {
            var action = f.Action.Trim();
            query = query.Where(a => a.Action == action || a.Action.StartsWith(action));
        }

        if (!string.IsNullOrWhiteSpace(f.Staff))
        {
            var login = f.Staff.Trim();
            var staffId = await db.Staff.Where(x => x.Login == login).Select(x => (long?)x.Id).FirstOrDefaultAsync(ct);
            query = query.Where(a => a.ActorKind == ActorKind.Staff && a.ActorId == (staffId ?? -1));
        }

        var zone = Programs.ProgramRules.Zone(Domain.Organisation.Store.DefaultTimeZone);
        if (f.From is { } start)
        {
            var utc = TimeZoneInfo.ConvertTimeToUtc(start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone);
            query = query.Where(a => a.At >= utc);
        }

        if (f.To is { } end && end < DateOnly.MaxValue)
        {
            var utc = TimeZoneInfo.ConvertTimeToUtc(end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone);
            query = query.Where(a => a.At < utc);
        }

        return query;
    }

    /// <summary>The names of the staff, terminals and stores some entries name, looked up once for them all.</summary>
    public async Task<AuditNames> NamesAsync(IReadOnlyCollection<AuditEntry> entries, CancellationToken ct)
    {
        var staffIds = entries.Where(e => e.ActorKind == ActorKind.Staff && e.ActorId != null).Select(e => e.ActorId!.Value).Distinct().ToList();
        var terminalIds = entries.Where(e => e.ActorKind == ActorKind.Terminal && e.ActorId != null).Select(e => e.ActorId!.Value).Distinct().ToList();
        var storeIds = entries.Where(e => e.StoreId != null).Select(e => e.StoreId!.Value).Distinct().ToList();
        var staff = await db.Staff.AsNoTracking().Where(x => staffIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.DisplayName + " (" + x.Login + ")", ct);
        var terminals = await db.Terminals.AsNoTracking().Where(x => terminalIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.Name, ct);
        var storeNames = await db.Stores.AsNoTracking().Where(x => storeIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.Name, ct);
        return new AuditNames(staff, terminals, storeNames);
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", async ([AsParameters] AuditQuery q, AuditTrail trail, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await trail.ListAsync(q.Filter(), CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.AuditRead)
            .WithTags("Audit")
            .WithName("ListAuditEntries")
            .WithSummary("Audit entries, 50 a page: by staff login, action (or prefix such as member.), member, store and local days; sort newest (default), oldest, action, staff or store. Administrators and auditors see all; store managers their stores.")
            .ProducesProblem(400).ProducesProblem(403);

        app.MapGet("/api/audit/export.csv", async ([AsParameters] AuditQuery q, AuditExport export, HttpContext http, CancellationToken ct) =>
            {
                // Refusals (403, 400) are thrown before the first byte, so they answer as problem details.
                await export.WriteAsync(http.Response, q.Filter(), CallerScope.From(http.User), ct);
            })
            .RequireAuthorization(Permissions.AuditRead)
            .WithTags("Audit")
            .WithName("ExportAuditEntries")
            .WithSummary("The entries of the same filter and sort as CSV for Excel, at most 100,000 rows (a last line says when there were more). Same roles and scope as the list; the export is itself audited.")
            .ProducesProblem(400).ProducesProblem(403);
    }

    public sealed record AuditQuery(string? Staff, string? Action, long? MemberId, long? StoreId, DateOnly? From, DateOnly? To, int? Page, string? Sort)
    {
        public AuditFilter Filter() => new(Staff, Action, MemberId, StoreId, From, To, Page ?? 1, Sort);
    }
}

/// <summary>Who and where, by name: staff as "name (login)", terminals by name, stores by name.</summary>
public sealed record AuditNames(IReadOnlyDictionary<long, string> Staff, IReadOnlyDictionary<long, string> Terminals, IReadOnlyDictionary<long, string> Stores)
{
    public string Actor(AuditEntry e) => e.ActorKind switch
    {
        ActorKind.Staff when e.ActorId is { } id => Staff.GetValueOrDefault(id, "#" + id),
        ActorKind.Terminal when e.ActorId is { } id => Terminals.GetValueOrDefault(id, "#" + id),
        _ => "system",
    };

    public string? Store(AuditEntry e) => e.StoreId is { } s ? Stores.GetValueOrDefault(s) : null;

    public AuditRow Row(AuditEntry e) => new(e.Id, e.At, Actor(e), e.Action, e.StoreId, Store(e), e.MemberId, e.EntityType, e.EntityId, e.Detail);
}
