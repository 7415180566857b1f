using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>
/// One field of one member in clear text, for administrators and the member's store managers,
/// after they give a reason that goes to the audit log. The answer is a POST response, never
/// cached; nothing in clear is put in the URL.
/// </summary>
public sealed class UnmaskModel(FindMembers find, HealthFile health, IStringLocalizer<SharedResource> l) : PageModel
{
    public static readonly IReadOnlyList<string> Fields = ["mobile", "id_number", "contacts", "health"];

    [BindProperty(SupportsGet = true)]
    public string? Field { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public MemberView Member { get; private set; } = null!;

    public UnmaskedView? Shown { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (!User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager))
        {
            return Forbid();
        }

        return await LoadAsync(id, ct) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken ct)
    {
        if (!User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager))
        {
            return Forbid();
        }

        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        try
        {
            Shown = await health.UnmaskAsync(id, new UnmaskRequest(Field, Reason), CallerScope.From(User), ct);
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            ModelState.AddProblem(p, l);
            Response.StatusCode = p.Status == StatusCodes.Status403Forbidden ? p.Status : StatusCodes.Status400BadRequest;
        }

        return Page();
    }

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        try
        {
            Member = await find.GetAsync(id, CallerScope.From(User), ct);
            return true;
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }
    }
}
