using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>
/// Supervising a merge: two members side by side (masked), the one to keep chosen, the preview
/// of what moves, the reason, and the confirmation. The same service as the API does the work.
/// </summary>
[Authorize(Policy = Permissions.MembersMerge)]
public sealed class MergeModel(MergeMembers merge, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public long A { get; set; }

    [BindProperty(SupportsGet = true)]
    public long B { get; set; }

    /// <summary>The member to keep: <see cref="A"/> or <see cref="B"/>.</summary>
    [BindProperty]
    public long? SurvivorId { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public MergeSide? First { get; private set; }

    public MergeSide? Second { get; private set; }

    public MergeView? Preview { get; private set; }

    /// <summary>The other one of the two.</summary>
    public long? MergedId => SurvivorId == A ? B : SurvivorId == B ? A : null;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ?? Page();

    public async Task<IActionResult> OnPostPreviewAsync(CancellationToken ct)
    {
        if (await LoadAsync(ct) is { } refused)
        {
            return refused;
        }

        try
        {
            Preview = await merge.PreviewAsync(new MergeRequest(SurvivorId, MergedId), CallerScope.From(User), ct);
            return Page();
        }
        catch (ProblemException p)
        {
            return Refused(p);
        }
    }

    public async Task<IActionResult> OnPostMergeAsync(CancellationToken ct)
    {
        if (await LoadAsync(ct) is { } refused)
        {
            return refused;
        }

        var caller = CallerScope.From(User);
        try
        {
            var done = await merge.MergeAsync(new MergeRequest(SurvivorId, MergedId, Reason), caller, ct);
            TempData["flash"] = l["Member {0} was merged into this member.", done.Merged.Id].Value;
            return Redirect($"/members/{done.Survivor.Id}");
        }
        catch (ProblemException p)
        {
            try
            {
                // Keep showing what the merge would do beside the error, when it still can be previewed.
                Preview = await merge.PreviewAsync(new MergeRequest(SurvivorId, MergedId), caller, ct);
            }
            catch (ProblemException)
            {
                Preview = null;
            }

            return Refused(p);
        }
    }

    private IActionResult Refused(ProblemException p)
    {
        var errors = p.Errors.Count > 0 ? p.Errors : [new Domain.Common.DomainError(p.Code, p.Message)];
        foreach (var e in errors)
        {
            var key = e.Field switch
            {
                "reason" => nameof(Reason),
                "survivorId" or "mergedId" => nameof(SurvivorId),
                _ => "",
            };
            ModelState.AddModelError(key, ProblemWriter.Translate(l, e.Code, e.Message));
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>Both members, or the answer when one is not there for the caller.</summary>
    private async Task<IActionResult?> LoadAsync(CancellationToken ct)
    {
        try
        {
            (First, Second) = await merge.CompareAsync(A, B, CallerScope.From(User), ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }

        SurvivorId ??= A;
        return null;
    }
}
