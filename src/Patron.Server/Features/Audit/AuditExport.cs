using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Localization;
using static Patron.Server.Infrastructure.Export.ExcelCsv;

namespace Patron.Server.Features.Audit;

/// <summary>
/// The audit entries of a filter, in the list's sort, as CSV that Excel opens (UTF-8 with BOM):
/// the columns the page shows (time on the console's clock, Patron:Console:TimeZone, who, action, store, member id, detail)
/// plus the entry id and the entity. Details are written as the page shows them: they hold no
/// personal data in clear by the rule for writing them. Same roles and store scope as the list;
/// at most <see cref="MaxRows"/> rows, and a last line says when the filter matched more. The
/// export is itself an audit entry (<c>audit.exported</c>) naming the filter and the sort, saved
/// before the first row and left out of the file.
/// </summary>
public sealed class AuditExport(PatronDb db, AuditTrail trail, AuditLog audit, ConsoleTime time)
{
    public const int MaxRows = 100_000;

    public const string Header = "id,at,actor,action,store,member_id,entity_type,entity_id,detail";

    /// <summary>The last line of a file cut at <see cref="MaxRows"/>.</summary>
    public static readonly string TruncatedLine = $"# more than {MaxRows} entries match: only the first {MaxRows} in this order are listed; narrow the filters";

    public async Task WriteAsync(HttpResponse response, AuditFilter f, CallerScope caller, CancellationToken ct)
    {
        // The scope and filter checks throw here, before the response starts.
        var filtered = await trail.FilteredAsync(f, caller, ct);
        var sort = AuditTrail.SortOrDefault(f.Sort);

        // Staff, terminals and stores are small tables: their names are read once, before the
        // entries stream (one connection cannot run a second query while it streams).
        var names = new AuditNames(
            await db.Staff.AsNoTracking().ToDictionaryAsync(x => x.Id, x => x.DisplayName + " (" + x.Login + ")", ct),
            await db.Terminals.AsNoTracking().ToDictionaryAsync(x => x.Id, x => x.Name, ct),
            await db.Stores.AsNoTracking().ToDictionaryAsync(x => x.Id, x => x.Name, ct));

        // Recorded before the first row leaves: an export cut off half-way is on record too.
        audit.Record(caller, "audit.exported", f.StoreId, f.MemberId, detail: new { staff = f.Staff, action = f.Action, f.MemberId, f.StoreId, f.From, f.To, sort });
        await db.SaveChangesAsync(ct);
        var own = db.ChangeTracker.Entries<AuditEntry>().Max(e => e.Entity.Id);
        var query = AuditTrail.Sorted(filtered.Where(a => a.Id < own), sort);

        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition = "attachment; filename=\"audit-log.csv\"";
        response.Headers.CacheControl = "no-store";
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(true), 1 << 16, leaveOpen: true);
        await writer.WriteAsync(Header + "\r\n");
        var rows = 0;
        await foreach (var e in query.Take(MaxRows + 1).AsAsyncEnumerable().WithCancellation(ct))
        {
            if (++rows > MaxRows)
            {
                await writer.WriteAsync(TruncatedLine + "\r\n");
                break;
            }

            await writer.WriteAsync(string.Join(
                ',',
                e.Id.ToString(CultureInfo.InvariantCulture),
                time.Second(e.At),
                Cell(names.Actor(e)),
                Cell(e.Action),
                Cell(names.Store(e) ?? ""),
                e.MemberId?.ToString(CultureInfo.InvariantCulture) ?? "",
                Cell(e.EntityType ?? ""),
                e.EntityId?.ToString(CultureInfo.InvariantCulture) ?? "",
                Cell(e.Detail ?? "")) + "\r\n");
        }

        await writer.FlushAsync(ct);
    }
}
