using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;
using static Patron.Server.Infrastructure.Export.ExcelCsv;

namespace Patron.Server.Features.Members;

public sealed record MemberExportRequest(long? StoreId = null, DateOnly? From = null, DateOnly? To = null, string? Reason = null, string? Tier = null, string? Status = null);

/// <summary>
/// The members of the caller's stores (or one store, enrolled in a period) as CSV that Excel
/// opens (UTF-8 with BOM): names, phones, ID numbers and cards masked, birthdays by their year.
/// Roles allowed to unmask may export them in clear with a reason, which the audit log keeps with
/// the filter and the row count. The filter is the member list's (store, tier, status, enrolled
/// period), so the list's export link gives the members the list shows.
/// </summary>
public sealed class MemberExport(PatronDb db, PersonalDataProtector protector, AuditLog audit, MemberDirectory directory)
{
    public const int MaxRows = 1_000_000;

    /// <summary>Writes the export; <paramref name="progress"/> hears the fraction of the members written so far; <paramref name="jobId"/> is the console job writing it (kept in the audit entry).</summary>
    public async Task WriteAsync(Stream output, MemberExportRequest r, bool unmasked, CallerScope caller, CancellationToken ct, IProgress<double>? progress = null, long? jobId = null)
    {
        if (r.StoreId is { } s && !caller.CanBrowseStore(s))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not export the members of this store.");
        }

        if (unmasked && (r.Reason?.Trim() is not { Length: > 0 and <= 200 }))
        {
            throw Problem.Invalid("unmask.reason_required", "Give the reason (at most 200 characters); it is kept in the audit log.", "reason");
        }

        var query = await directory.FilteredAsync(new MemberListFilter(r.StoreId, r.Tier, r.Status, r.From, r.To), caller, ct);

        var rows = from m in query
                   join st in db.Stores on m.EnrolStoreId equals st.Id
                   join a in db.MemberAccounts on m.Id equals a.MemberId into accounts
                   from a in accounts.DefaultIfEmpty()
                   join p in db.MemberProfiles on m.Id equals p.MemberId into profiles
                   from p in profiles.DefaultIfEmpty()
                   orderby m.Id
                   select new
                   {
                       m.Id,
                       m.Name,
                       m.Mobile,
                       m.IdNumberCipher,
                       m.IdNumberTail,
                       m.Gender,
                       m.Birthday,
                       StoreCode = st.Code,
                       m.EnrolledAt,
                       m.Channel,
                       Tier = a == null ? null : a.Tier,
                       Points = a == null ? 0 : a.Balance,
                       Principal = a == null ? 0 : a.StoredPrincipal,
                       Bonus = a == null ? 0 : a.StoredBonus,
                       District = p == null ? null : p.District,
                       Community = p == null ? null : p.Community,
                       Card = db.Cards.Where(c => c.MemberId == m.Id && c.Kind != Domain.Cards.CardKind.SubCard).OrderByDescending(c => c.Id).Select(c => c.Number).FirstOrDefault(),
                   };

        // Recorded before the first row leaves: an export cut off half-way is on record too.
        audit.Record(caller, unmasked ? "members.exported_unmasked" : "members.exported", r.StoreId, null, null, null, new { r.StoreId, r.From, r.To, r.Tier, r.Status, reason = unmasked ? r.Reason : null, jobId });
        await db.SaveChangesAsync(ct);
        await using var writer = new StreamWriter(output, new UTF8Encoding(true), 1 << 16, leaveOpen: true);
        var total = progress is null ? 0 : Math.Min(await query.CountAsync(ct), MaxRows);
        var written = 0;
        progress?.Report(0);
        await writer.WriteAsync("id,name,mobile,id_number,gender,birthday,card_number,store,enrolled_at,channel,tier,points,stored_principal,stored_bonus,district,community\r\n");
        await foreach (var m in rows.Take(MaxRows).AsAsyncEnumerable().WithCancellation(ct))
        {
            // Masked: the name by its first character, the birthday by its year, the card by its last four digits.
            var mobile = unmasked ? m.Mobile : Masking.Phone(m.Mobile);
            var id = m.IdNumberCipher is null ? "" : unmasked ? Cell(protector.UnprotectIdNumber(m.IdNumberCipher)) : Masking.IdNumberFromTail(m.IdNumberTail);
            var birthday = m.Birthday is not { } b ? "" : unmasked ? b.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : b.Year.ToString(CultureInfo.InvariantCulture);
            var card = m.Card is null ? "" : unmasked ? Cell(m.Card) : Masking.Tail(m.Card);
            await writer.WriteAsync(string.Join(',', m.Id.ToString(CultureInfo.InvariantCulture), Cell(unmasked ? m.Name : Masking.Name(m.Name)), mobile, id, m.Gender.ToString().ToLowerInvariant(),
                birthday, card, Cell(m.StoreCode), m.EnrolledAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                m.Channel, m.Tier ?? "", m.Points.ToString(CultureInfo.InvariantCulture), Yuan(m.Principal), Yuan(m.Bonus), Cell(m.District ?? ""), Cell(m.Community ?? "")) + "\r\n");
            written++;
            progress?.Report(total == 0 ? 1 : Math.Min(1, (double)written / total));
        }

        await writer.FlushAsync(ct);
    }

    private static string Yuan(long fen) => (fen / 100m).ToString("0.00", CultureInfo.InvariantCulture);
}

public static class MemberExportApi
{
    public static void MapMemberExportApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/members/export.csv", async (long? storeId, DateOnly? from, DateOnly? to, string? tier, string? status, MemberExport export, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                http.Response.ContentType = "text/csv; charset=utf-8";
                http.Response.Headers.ContentDisposition = "attachment; filename=\"members.csv\"";
                await export.WriteAsync(http.Response.Body, new MemberExportRequest(storeId, from, to, Tier: tier, Status: status), false, caller, ct);
            })
            .WithTags("Members")
            .RequireAuthorization(Permissions.Console)
            .WithName("ExportMembers")
            .WithSummary("The members of the caller's stores (storeId, tier, status, enrolled from/to: the member list's filter) as CSV for Excel; phones and ID numbers masked. Audited.");

        app.MapPost("/api/members/export/unmask", async (MemberExportRequest request, MemberExport export, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                if (request.Reason?.Trim() is not { Length: > 0 and <= 200 })
                {
                    throw Problem.Invalid("unmask.reason_required", "Give the reason (at most 200 characters); it is kept in the audit log.", "reason");
                }

                http.Response.ContentType = "text/csv; charset=utf-8";
                http.Response.Headers.ContentDisposition = "attachment; filename=\"members-unmasked.csv\"";
                await export.WriteAsync(http.Response.Body, request, true, caller, ct);
            })
            .WithTags("Members")
            .RequireAuthorization(Permissions.PersonalDataUnmask)
            .WithName("ExportMembersUnmasked")
            .WithSummary("The same export with phones and ID numbers in clear, for roles allowed to unmask, with a reason kept in the audit log.")
            .ProducesProblem(400).ProducesProblem(403);
    }
}
