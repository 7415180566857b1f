using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>
/// A member's own data for handing to them: the reason (the request's reference), JSON or ZIP,
/// and a download. Same rules as the API: roles allowed to unmask, the member's enrolment store
/// or head office, audited. The page itself shows nothing in clear; only the file does.
/// </summary>
[Authorize(Policy = Permissions.PersonalDataUnmask)]
public sealed class DataExportModel(MemberDataExport export, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty]
    public string? Reason { get; set; }

    [BindProperty]
    public string Format { get; set; } = MemberDataExport.Zip;

    public MemberDataExportTarget Member { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct) => await LoadAsync(id, ct) ?? Page();

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } refused)
        {
            return refused;
        }

        try
        {
            var file = await export.CreateAsync(id, new MemberDataExportRequest(Reason, Format), CallerScope.From(User), ct);
            Response.Headers.CacheControl = "no-cache, no-store";
            return File(file.Content, file.ContentType, file.FileName);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status400BadRequest)
        {
            ModelState.AddProblem(p, l);
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>The member to export, or the answer when the caller may not export them (not found, forbidden).</summary>
    private async Task<IActionResult?> LoadAsync(long id, CancellationToken ct)
    {
        try
        {
            Member = await export.TargetAsync(id, CallerScope.From(User), ct);
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
