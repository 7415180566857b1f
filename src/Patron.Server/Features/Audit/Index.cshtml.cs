using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Audit;

/// <summary>
/// The audit log viewer: filters by who, what, member, store and period; sorted by time (newest or
/// oldest first), action, who or store and paged on the server; CSV of the same filter and sort.
/// </summary>
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

    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

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
            Entries = await trail.ListAsync(new AuditFilter(Staff, Action, MemberId, StoreId, From, To, PageNumber, Sort), caller, ct);
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

    /// <summary>The sort in force: the list's answer, or the requested one while the filter is refused.</summary>
    public string CurrentSort => Entries?.Sort ?? AuditTrail.SortOrDefault(Sort);

    /// <summary>This list's filter as a query string (without the page and the sort).</summary>
    public string FilterQuery => string.Join("&", new (string, string?)[]
        {
            ("staff", Staff), ("action", Action), ("memberId", MemberId?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("storeId", StoreId?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("from", From?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
            ("to", To?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
        }.Where(x => !string.IsNullOrEmpty(x.Item2)).Select(x => x.Item1 + "=" + Uri.EscapeDataString(x.Item2!)));

    /// <summary>The current filter with another page and, optionally, another sort (the default sort is left out).</summary>
    public string PageLink(int page, string? sort = null)
    {
        sort ??= CurrentSort;
        return "/audit?" + string.Join('&', new[] { FilterQuery, sort == AuditTrail.DefaultSort ? "" : "sort=" + sort, page > 1 ? "p=" + page.ToString(System.Globalization.CultureInfo.InvariantCulture) : "" }.Where(x => x.Length > 0));
    }

    /// <summary>
    /// Sorting by a column, back at the first page: the time column flips between newest and oldest
    /// first; the others group by their column, and a second click goes back to newest first.
    /// </summary>
    public string SortLink(string column) => PageLink(1, column switch
    {
        "time" => CurrentSort == AuditTrail.DefaultSort ? "oldest" : AuditTrail.DefaultSort,
        _ => CurrentSort == column ? AuditTrail.DefaultSort : column,
    });

    /// <summary>The CSV of this filter and sort (the API's own permission and scope rules apply).</summary>
    public string ExportLink
    {
        get
        {
            var query = string.Join('&', new[] { FilterQuery, CurrentSort == AuditTrail.DefaultSort ? "" : "sort=" + CurrentSort }.Where(x => x.Length > 0));
            return "/api/audit/export.csv" + (query.Length > 0 ? "?" + query : "");
        }
    }
}
