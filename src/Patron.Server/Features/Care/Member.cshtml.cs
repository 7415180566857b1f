using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Domain.Care;
using Patron.Server.Features.Members;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Care;

/// <summary>
/// One member's care: when each long-term medicine runs out, the follow-ups (with readings and
/// notes only where <see cref="CarePlans"/> shows them: to the stores that follow the member up)
/// and a form to plan a call or visit. For the member's own store and head office.
/// </summary>
[Authorize(Policy = Permissions.CareRead)]
public sealed class MemberCareModel(FindMembers find, HealthFile health, CarePlans care, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty]
    public CarePlanForm Plan { get; set; } = new();

    public MemberView Member { get; private set; } = null!;

    public HealthSummary Health { get; private set; } = null!;

    public IReadOnlyList<RefillStatus> Refills { get; private set; } = [];

    public IReadOnlyList<CareTaskView> Tasks { get; private set; } = [];

    public DateOnly Today { get; private set; }

    /// <summary>Counter roles plan follow-ups for members who consented to keep health data.</summary>
    public bool CanPlan => Health.Consent && User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Cashier);

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } refused)
        {
            return refused;
        }

        Plan.DueOn = Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return Page();
    }

    public async Task<IActionResult> OnPostPlanAsync(long id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } refused)
        {
            return refused;
        }

        if (!User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Cashier))
        {
            return Forbid();
        }

        try
        {
            var planned = await care.PlanAsync(id, CareForms.ToRequest(Plan, null), CallerScope.From(User), ct);
            TempData["flash"] = l["Follow-up planned for {0}.", planned.DueOn.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)].Value;
            return RedirectToPage(new { id });
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            ModelState.AddProblem(p, l, "Plan.");
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>Null when the member is the caller's to care for; else the answer that refuses.</summary>
    private async Task<IActionResult?> LoadAsync(long id, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Member = await find.GetAsync(id, caller, ct);
            Refills = await care.RefillsAsync(id, caller, ct);
            Tasks = await care.TasksOfAsync(id, caller, ct);
            Health = await health.SummaryAsync(id, caller, ct);
            Today = await care.TodayForMemberAsync(id, caller, ct);
            return null;
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }
    }
}
