using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Care;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Domain.Sales;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Care;

/// <summary>A member whose long-term medicine runs out soon (or has run out), for the store's call list.</summary>
public sealed record RefillDue(long MemberId, string Member, string Mobile, string Medicine, DateOnly RunsOutOn, DateOnly RemindOn, bool Overdue);

/// <summary>
/// Refill reminders for members with a chronic condition who consented to keep health data:
/// from their long-term medicines (daily dose, pack size) and what they bought of them, when
/// each runs out; and a store's list of members to remind, overdue first.
/// </summary>
public sealed class CarePlans(PatronDb db, PersonalDataProtector protector, ProgramRules programs, TimeProvider clock)
{
    public async Task<IReadOnlyList<RefillStatus>> RefillsAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Id == memberId, ct);
        if (member is null || !caller.CanSeeProgram(member.ProgramId))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }

        var today = await TodayAsync(member.ProgramId, ct);
        var profiles = await ProfilesAsync([memberId], ct);
        return profiles.TryGetValue(memberId, out var profile) ? await StatusesAsync(memberId, profile, today, ct) : [];
    }

    /// <summary>Members enrolled at the store whose refill reminder falls within <paramref name="days"/> days, or who have run out.</summary>
    public async Task<IReadOnlyList<RefillDue>> DueAsync(long storeId, int days, CallerScope caller, CancellationToken ct)
    {
        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(s => s.Id == storeId, ct);
        if (store is null || !caller.CanBrowseStore(storeId) || days is < 0 or > 90)
        {
            throw Problem.NotFound("store.not_found", "No such store in your scope (days 0–90).");
        }

        var today = await TodayAsync(store.ProgramId, ct);
        var members = await db.Members.AsNoTracking().Where(m => m.EnrolStoreId == storeId && db.MemberHealth.Any(h => h.MemberId == m.Id))
            .Select(m => new { m.Id, m.Name, m.Mobile }).ToListAsync(ct);
        var profiles = await ProfilesAsync([.. members.Select(m => m.Id)], ct);
        var due = new List<RefillDue>();
        foreach (var m in members.Where(m => profiles.ContainsKey(m.Id)))
        {
            foreach (var s in await StatusesAsync(m.Id, profiles[m.Id], today, ct))
            {
                if (s.RunsOutOn is { } end && s.RemindOn is { } remind && remind <= today.AddDays(days))
                {
                    due.Add(new RefillDue(m.Id, Masking.Name(m.Name), Masking.Phone(m.Mobile), s.Name, end, remind, s.Overdue));
                }
            }
        }

        return [.. due.OrderByDescending(d => d.Overdue).ThenBy(d => d.RunsOutOn)];
    }

    private async Task<List<RefillStatus>> StatusesAsync(long memberId, HealthProfile profile, DateOnly today, CancellationToken ct)
    {
        var skus = profile.Medicines.Where(x => x.Sku is not null).Select(x => x.Sku!).ToList();
        var bought = skus.Count == 0 ? [] : await (from l in db.SaleLines.AsNoTracking()
                                                   join s in db.Sales.AsNoTracking() on l.SaleId equals s.Id
                                                   where s.MemberId == memberId && skus.Contains(l.Sku)
                                                   select new { l.Sku, s.LocalDate, l.Quantity }).ToListAsync(ct);
        return [.. profile.Medicines.Select(x => Refill.For(x, bought.Where(b => b.Sku == x.Sku).Select(b => (b.LocalDate, b.Quantity)), today))];
    }

    /// <summary>The health profiles of those members who consent now.</summary>
    private async Task<Dictionary<long, HealthProfile>> ProfilesAsync(List<long> memberIds, CancellationToken ct)
    {
        var consents = await db.MemberConsents.AsNoTracking().Where(c => memberIds.Contains(c.MemberId) && c.Kind == ConsentKinds.Health)
            .Select(c => new { c.MemberId, c.Granted, c.At, c.Id }).ToListAsync(ct);
        var consenting = consents.GroupBy(c => c.MemberId).Where(g => g.OrderByDescending(c => c.At).ThenByDescending(c => c.Id).First().Granted).Select(g => g.Key).ToList();
        var rows = await db.MemberHealth.AsNoTracking().Where(h => consenting.Contains(h.MemberId)).ToListAsync(ct);
        return rows.ToDictionary(r => r.MemberId, r => protector.UnprotectHealth(r.Cipher));
    }

    private async Task<DateOnly> TodayAsync(long programId, CancellationToken ct) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, await programs.ZoneAsync(programId, ct)));
}

public static class CareApi
{
    public static void MapCareApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/members/{memberId:long}/refills", async (long memberId, CarePlans care, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await care.RefillsAsync(memberId, CallerScope.From(http.User), ct)))
            .WithTags("Care")
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("GetRefills")
            .WithSummary("For each long-term medicine on the member's health file (with consent): last bought, when the supply runs out, when to remind, overdue.")
            .ProducesProblem(404);

        app.MapGet("/api/care/refills", async (long storeId, int? days, CarePlans care, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await care.DueAsync(storeId, days ?? 7, CallerScope.From(http.User), ct)))
            .WithTags("Care")
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("ListRefillsDue")
            .WithSummary("The store's members to remind of a refill within `days` days (default 7), overdue first; names and phones masked.")
            .ProducesProblem(404);
    }
}
