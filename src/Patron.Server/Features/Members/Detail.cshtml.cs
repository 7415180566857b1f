using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>One member: profile, cards, points (balance, expiring soon, ledger, coupons, tier history) and manual adjustments.</summary>
public sealed class DetailModel(FindMembers find, PointsQueries points, AdjustPoints adjust, IStringLocalizer<SharedResource> l) : PageModel
{
    public MemberView Member { get; private set; } = null!;

    public PointsSummary? Points { get; private set; }

    /// <summary>Why there are no points to show (no program rules in force yet).</summary>
    public string? PointsUnavailable { get; private set; }

    public bool CanAdjust => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.Marketing, PatronClaims.Roles.StoreManager);

    [BindProperty]
    public long AdjustPoints { get; set; }

    [BindProperty]
    public string? AdjustReason { get; set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct) =>
        await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAdjustAsync(long id, CancellationToken ct)
    {
        if (!CanAdjust)
        {
            return Forbid();
        }

        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        try
        {
            var result = await adjust.RequestAsync(id, new AdjustPointsRequest(AdjustPoints, AdjustReason, null), CallerScope.From(User), ct);
            TempData["flash"] = result.Status == "pending"
                ? l["The adjustment waits for a second approver."].Value
                : string.Format(l["Points adjusted: the balance is {0}."].Value, result.Balance);
            return RedirectToPage(new { id });
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            ModelState.AddProblem(p, l, "Adjust");
        }
        catch (Domain.Common.DomainException d)
        {
            ModelState.AddProblem(Problem.FromDomain(d), l, "Adjust");
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;

        return Page();
    }

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Member = await find.GetAsync(id, caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }

        try
        {
            Points = await points.GetAsync(id, caller, ct);
        }
        catch (ProblemException p) when (p.Code == "program.not_in_force")
        {
            PointsUnavailable = ProblemWriter.Translate(l, p.Code, p.Message);
        }

        return true;
    }
}
