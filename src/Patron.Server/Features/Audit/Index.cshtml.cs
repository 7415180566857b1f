using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Audit;

/// <summary>The audit log viewer: filters by who, what, member, store and period; newest first, paged on the server.</summary>
[Authorize(Policy = Permissions.AuditRead)]
public sealed class IndexModel(AuditTrail trail, Stores.StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Staff { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Action { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? MemberId { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? StoreId { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? To { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public AuditPage? Entries { get; private set; }

    public IReadOnlyList<Stores.StoreView> Stores { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Stores = await stores.ListAsync(caller, ct);
        if (!ModelState.IsValid)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            Entries = await trail.ListAsync(new AuditFilter(Staff, Action, MemberId, StoreId, From, To, PageNumber), caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l);
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return Page();
    }

    /// <summary>The query string of the current filter with another page.</summary>
    public string PageLink(int page) =>
        "/audit?" + string.Join("&", new (string, string?)[]
        {
            ("staff", Staff), ("action", Action), ("memberId", MemberId?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("storeId", StoreId?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("from", From?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
            ("to", To?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)), ("p", page.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        }.Where(x => !string.IsNullOrEmpty(x.Item2)).Select(x => x.Item1 + "=" + Uri.EscapeDataString(x.Item2!)));
}
