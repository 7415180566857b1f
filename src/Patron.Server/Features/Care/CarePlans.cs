using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Care;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Domain.Sales;
using Patron.Server.Features.Members;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Care;

public sealed record CareTaskRequest(string? Kind, DateOnly? DueOn, string? Note = null, long? StoreId = null);

public sealed record CareTaskDoneRequest(string? Outcome, int? Systolic = null, int? Diastolic = null, decimal? Glucose = null, string? Note = null);

/// <summary>A follow-up as the member's own store sees it, readings and note included.</summary>
public sealed record CareTaskView(long Id, long MemberId, long StoreId, string Kind, DateOnly DueOn, bool Overdue, DateTime? DoneAt, string? Outcome, CareReadings? Readings);

/// <summary>A follow-up on the store's list: who (masked), what, when; no health detail.</summary>
public sealed record CareTaskListItem(long Id, long MemberId, string Member, string Mobile, string Kind, DateOnly DueOn, bool Overdue);

/// <summary>A member whose long-term medicine runs out soon (or has run out), for the store's call list.</summary>
public sealed record RefillDue(long MemberId, string Member, string Mobile, string Medicine, DateOnly RunsOutOn, DateOnly RemindOn, bool Overdue);

/// <summary>One page of a store's care list, with the store's today (in its program's time zone).</summary>
public sealed record CarePage<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total, int Overdue, DateOnly Today)
{
    public int Pages => Paging.Pages(Total, PageSize);
}

/// <summary>
/// Refill reminders for members with a chronic condition who consented to keep health data:
/// from their long-term medicines (daily dose, pack size) and what they bought of them, when
/// each runs out; and a store's list of members to remind, overdue first.
/// </summary>
public sealed class CarePlans(PatronDb db, PersonalDataProtector protector, ProgramRules programs, TimeProvider clock)
{
    public async Task<IReadOnlyList<RefillStatus>> RefillsAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await CaringMemberAsync(memberId, caller, ct);
        var today = await TodayAsync(member.ProgramId, ct);
        var profiles = await ProfilesAsync([memberId], ct);
        return profiles.TryGetValue(memberId, out var profile) ? await StatusesAsync(memberId, profile, today, ct) : [];
    }

    /// <summary>Members enrolled at the store whose refill reminder falls within <paramref name="days"/> days, or who have run out.</summary>
    public async Task<IReadOnlyList<RefillDue>> DueAsync(long storeId, int days, CallerScope caller, CancellationToken ct) =>
        (await DueWithTodayAsync(storeId, days, caller, ct)).Due;

    /// <summary>One page of <see cref="DueAsync"/> (the run-out dates are computed, so the page is cut after computing).</summary>
    public async Task<CarePage<RefillDue>> DuePageAsync(long storeId, int days, int page, int pageSize, CallerScope caller, CancellationToken ct)
    {
        var (due, today) = await DueWithTodayAsync(storeId, days, caller, ct);
        page = Paging.Clamp(page, due.Count, pageSize);
        return new CarePage<RefillDue>([.. due.Skip((page - 1) * pageSize).Take(pageSize)], page, pageSize, due.Count, due.Count(d => d.Overdue), today);
    }

    private async Task<(List<RefillDue> Due, DateOnly Today)> DueWithTodayAsync(long storeId, int days, CallerScope caller, CancellationToken ct)
    {
        EnsureCareRole(caller);
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

        return ([.. due.OrderByDescending(d => d.Overdue).ThenBy(d => d.RunsOutOn).ThenBy(d => d.MemberId)], today);
    }

    /// <summary>Plans a call or visit for a member with health consent, at a store the caller acts for.</summary>
    public async Task<CareTaskView> PlanAsync(long memberId, CareTaskRequest r, CallerScope caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (r.Kind is not ("call" or "visit"))
        {
            errors.Add("kind", "care.kind_unknown", "A follow-up is a call or a visit.");
        }

        if (r.DueOn is null)
        {
            errors.Add("dueOn", "care.due_required", "Give the day it is due.");
        }

        foreach (var e in new CareReadings(Note: r.Note).Check())
        {
            errors.Add(e.Field ?? "note", e.Code, e.Message);
        }

        errors.ThrowIfAny();
        EnsureCareRole(caller);
        var member = await db.VisibleMemberAsync(memberId, caller, ct);
        var storeId = r.StoreId ?? caller.DefaultStoreId ?? member.EnrolStoreId;
        caller.EnsureCanActAs(storeId);
        if (!(await ProfilesAsync([memberId], ct)).ContainsKey(memberId))
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "consent.health_required", "Follow-ups are for members who consented to keep health data and have a health file.");
        }

        var task = new CareTask(memberId, storeId, r.Kind == "visit" ? CareTaskKind.Visit : CareTaskKind.Call, r.DueOn!.Value,
            r.Note is { Length: > 0 } note ? protector.ProtectReadings(new CareReadings(Note: note)) : null, clock.GetUtcNow().UtcDateTime, caller.StaffId);
        db.CareTasks.Add(task);
        await db.SaveChangesAsync(ct);
        return View(task, await TodayAsync(member.ProgramId, ct));
    }

    /// <summary>Records the follow-up: outcome, readings, note (encrypted); once.</summary>
    public async Task<CareTaskView> CompleteAsync(long taskId, CareTaskDoneRequest r, CallerScope caller, CancellationToken ct)
    {
        var readings = new CareReadings(r.Systolic, r.Diastolic, r.Glucose, r.Note);
        if (readings.Check() is { Count: > 0 } invalid)
        {
            throw Problem.Invalid(invalid);
        }

        EnsureCareRole(caller);
        var task = await db.CareTasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
        var member = task is null ? null : await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Id == task.MemberId, ct);
        if (task is null || member is null || !caller.CanSeeProgram(member.ProgramId) || !caller.CanBrowseStore(task.StoreId))
        {
            throw Problem.NotFound("care.task_not_found", "No such follow-up in your stores.");
        }

        caller.EnsureCanActAs(task.StoreId);
        if (!(await ProfilesAsync([task.MemberId], ct)).ContainsKey(task.MemberId))
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "consent.health_required", "The member has withdrawn consent to keep health data: no readings can be recorded.");
        }

        var empty = readings == new CareReadings();
        try
        {
            task.Complete((r.Outcome ?? "").Trim(), empty ? null : protector.ProtectReadings(readings), clock.GetUtcNow().UtcDateTime, caller.StaffId);
        }
        catch (DomainException e)
        {
            throw Problem.FromDomain(e);
        }

        await db.SaveChangesAsync(ct);
        return View(task, await TodayAsync(member.ProgramId, ct));
    }

    public async Task<IReadOnlyList<CareTaskView>> TasksOfAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await CaringMemberAsync(memberId, caller, ct);
        var today = await TodayAsync(member.ProgramId, ct);
        var tasks = await db.CareTasks.AsNoTracking().Where(t => t.MemberId == memberId).OrderByDescending(t => t.DueOn).Take(100).ToListAsync(ct);

        // Readings are shown to the stores that follow the member up, nobody else.
        return [.. tasks.Select(t => caller.CanActAs(t.StoreId) ? View(t, today) : View(t, today) with { Readings = null })];
    }

    /// <summary>A store's open follow-ups, overdue first.</summary>
    public async Task<IReadOnlyList<CareTaskListItem>> OpenTasksAsync(long storeId, CallerScope caller, CancellationToken ct) =>
        (await OpenTasksPageAsync(storeId, 1, 500, caller, ct)).Items;

    /// <summary>
    /// One page of a store's open follow-ups, overdue first (an overdue one is due before today, so
    /// the earliest due come first), cut in the database.
    /// </summary>
    public async Task<CarePage<CareTaskListItem>> OpenTasksPageAsync(long storeId, int page, int pageSize, CallerScope caller, CancellationToken ct)
    {
        EnsureCareRole(caller);
        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(s => s.Id == storeId, ct);
        if (store is null || !caller.CanBrowseStore(storeId))
        {
            throw Problem.NotFound("store.not_found", "No such store in your scope.");
        }

        var today = await TodayAsync(store.ProgramId, ct);
        var open = db.CareTasks.AsNoTracking().Where(t => t.StoreId == storeId && t.DoneAt == null);
        var total = await open.CountAsync(ct);
        var overdue = await open.CountAsync(t => t.DueOn < today, ct);
        page = Paging.Clamp(page, total, pageSize);
        var rows = await (from t in open
                          join m in db.Members.AsNoTracking() on t.MemberId equals m.Id
                          orderby t.DueOn, t.Id
                          select new { t.Id, t.MemberId, m.Name, m.Mobile, t.Kind, t.DueOn }).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        var items = rows.Select(x => new CareTaskListItem(x.Id, x.MemberId, Masking.Name(x.Name), Masking.Phone(x.Mobile), x.Kind == CareTaskKind.Visit ? "visit" : "call", x.DueOn, x.DueOn < today))
            .OrderByDescending(x => x.Overdue).ThenBy(x => x.DueOn).ToList();
        return new CarePage<CareTaskListItem>(items, page, pageSize, total, overdue, today);
    }

    /// <summary>Today in the member's program's time zone (the day follow-ups fall due against).</summary>
    public async Task<DateOnly> TodayForMemberAsync(long memberId, CallerScope caller, CancellationToken ct) =>
        await TodayAsync((await db.VisibleMemberAsync(memberId, caller, ct)).ProgramId, ct);

    /// <summary>Medicines and follow-ups are pharmacy work: marketing and auditors neither see the store's lists nor plan or record them.</summary>
    private static void EnsureCareRole(CallerScope caller)
    {
        if (caller.Role is PatronClaims.Roles.Marketing or PatronClaims.Roles.Auditor)
        {
            throw Problem.Forbidden("scope.store_forbidden", "Medicines and follow-ups are for the member's own store and head office.");
        }
    }

    private CareTaskView View(CareTask t, DateOnly today) =>
        new(t.Id, t.MemberId, t.StoreId, t.Kind == CareTaskKind.Visit ? "visit" : "call", t.DueOn, t.IsOverdue(today), t.DoneAt, t.Outcome, t.Cipher is null ? null : protector.UnprotectReadings(t.Cipher));

    /// <summary>A member whose health-derived data (medicines, follow-ups) the caller may see: staff of the member's store, or head office.</summary>
    private async Task<Member> CaringMemberAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await db.VisibleMemberAsync(memberId, caller, ct);
        return (caller.AllStores || caller.CanActAs(member.EnrolStoreId)) && caller.Role is not (PatronClaims.Roles.Marketing or PatronClaims.Roles.Auditor)
            ? member
            : throw Problem.Forbidden("scope.store_forbidden", "Medicines and follow-ups are for the member's own store and head office.");
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
            .ProducesProblem(403).ProducesProblem(404);

        app.MapPost("/api/members/{memberId:long}/care-tasks", async (long memberId, CareTaskRequest request, CarePlans care, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await care.PlanAsync(memberId, request, CallerScope.From(http.User), ct)))
            .WithTags("Care")
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("PlanCareTask")
            .WithSummary("Plan a follow-up call or visit of a member with health consent (note kept encrypted).")
            .WithDescription("consent.health_required (422); care.kind_unknown, care.due_required (400).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        app.MapGet("/api/members/{memberId:long}/care-tasks", async (long memberId, CarePlans care, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await care.TasksOfAsync(memberId, CallerScope.From(http.User), ct)))
            .WithTags("Care")
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("ListMemberCareTasks")
            .WithSummary("The member's follow-ups, newest first; readings and notes only for the stores that follow them up.")
            .ProducesProblem(404);

        app.MapPost("/api/care-tasks/{id:long}/done", async (long id, CareTaskDoneRequest request, CarePlans care, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await care.CompleteAsync(id, request, CallerScope.From(http.User), ct)))
            .WithTags("Care")
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("CompleteCareTask")
            .WithSummary("Record a follow-up: outcome (reached, no_answer, visited, declined), blood pressure, blood glucose, note; once.")
            .WithDescription("care.task_done, care.outcome_unknown (422); care.blood_pressure_invalid, care.glucose_invalid, care.note_too_long (400).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        app.MapGet("/api/care/tasks", async (long storeId, CarePlans care, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await care.OpenTasksAsync(storeId, CallerScope.From(http.User), ct)))
            .WithTags("Care")
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("ListCareTasks")
            .WithSummary("A store's open follow-ups, overdue first; names and phones masked, no health detail.")
            .ProducesProblem(403).ProducesProblem(404);
    }
}
