using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

public sealed class EnrolForm
{
    public string? Name { get; set; }

    public string? Mobile { get; set; }

    public string? Gender { get; set; }

    public string? Birthday { get; set; }

    public string? IdNumber { get; set; }

    public long? StoreId { get; set; }

    public string? Channel { get; set; }

    public string? CardNumber { get; set; }
}

/// <summary>
/// The member desk: one search box, enrolment, and the members of my stores as a list filtered
/// (store, tier, status, enrolled period), sorted (enrolled, name, points) and paged on the
/// server, with the masked export of the same filter.
/// </summary>
public sealed class IndexModel(FindMembers find, EnrollMember enrol, StoreDirectory stores, MemberDirectory directory, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty]
    public EnrolForm Enrol { get; set; } = new();

    /// <summary>The list's page: "p", as "page" is the Razor Pages route value (it would never bind).</summary>
    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    [BindProperty(SupportsGet = true)]
    public long? StoreId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Tier { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    public MemberListPage List { get; private set; } = new([], 1, MemberDirectory.DefaultPageSize, 0, "enrolled");

    public IReadOnlyList<TierOption> Tiers { get; private set; } = [];

    /// <summary>This list's filter as a query string (without the page and the sort).</summary>
    public string FilterQuery => string.Join('&', new[]
    {
        StoreId is { } s ? $"storeId={s}" : null,
        string.IsNullOrEmpty(Tier) ? null : "tier=" + Uri.EscapeDataString(Tier),
        string.IsNullOrEmpty(Status) ? null : "status=" + Uri.EscapeDataString(Status),
        From is { } f ? "from=" + f.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : null,
        To is { } t ? "to=" + t.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : null,
    }.Where(x => x is not null));

    public string ListLink(int page, string? sort = null)
    {
        var query = string.Join('&', new[] { FilterQuery, $"sort={sort ?? List.Sort}", page > 1 ? $"p={page}" : "" }.Where(x => x.Length > 0));
        return "/members?" + query;
    }

    /// <summary>Starts the masked export of the members this filter lists as a console job, and shows the job's page.</summary>
    public async Task<IActionResult> OnPostExportAsync([FromServices] Jobs.ConsoleJobs jobs, CancellationToken ct)
    {
        try
        {
            var job = await jobs.QueueAsync(Patron.Data.ConsoleJobKind.MemberExport, new MemberExportFilter(StoreId, From, To, Tier, Status), User, ct);
            return Redirect($"/jobs/{job.Id}");
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(ct);
            return Page();
        }
    }

    /// <summary>Sorting by a column: the first click sorts it the natural way, the next reverses it.</summary>
    public string SortLink(string column)
    {
        var (natural, reverse) = column switch
        {
            "name" => ("name", "name_desc"),
            "points" => ("points", "points_asc"),
            _ => ("enrolled", "enrolled_asc"),
        };
        return ListLink(1, List.Sort == natural ? reverse : natural);
    }

    public IReadOnlyList<StoreView> ActableStores { get; private set; } = [];

    public IReadOnlyList<StoreView> BrowsableStores { get; private set; } = [];

    public CallerScope Caller => CallerScope.From(User);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        try
        {
            await LoadAsync(ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }

        if (!ModelState.IsValid)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return Page();
    }

    public async Task<IActionResult> OnPostSearchAsync(string? q, CancellationToken ct)
    {
        try
        {
            var results = await find.SearchAsync(q, Caller, ct);
            return Partial("_MemberResults", new MemberResults(q ?? "", results, Caller));
        }
        catch (ProblemException p)
        {
            return Partial("_MemberResults", new MemberResults(q ?? "", [], Caller, ProblemWriter.Translate(l, p.Code, p.Message)));
        }
    }

    public async Task<IActionResult> OnPostEnrolAsync(CancellationToken ct)
    {
        try
        {
            var e = Enrol;
            var member = await enrol.HandleAsync(new EnrollMemberRequest(e.Name, e.Mobile, e.Gender, e.Birthday, e.IdNumber, e.StoreId, e.Channel, e.CardNumber), Caller, ct);
            TempData["flash"] = l["Member enrolled: {0}, card {1}", member.Name, member.Cards[0].Number].Value;
            return Redirect($"/members/{member.Id}");
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l, "Enrol.");
        }

        await LoadAsync(ct);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var caller = Caller;
        var all = await stores.ListAsync(caller, ct);
        BrowsableStores = all;
        ActableStores = [.. all.Where(s => caller.CanActAs(s.Id) && s.IsActive)];
        Tiers = await directory.TiersAsync(caller, ct);
        try
        {
            List = await directory.ListAsync(new MemberListFilter(StoreId, Tier, Status, From, To, Sort, PageNumber), caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status400BadRequest)
        {
            ModelState.AddProblem(p, l, "List.");
            List = List with { Sort = MemberDirectory.Sorts.Contains(Sort ?? "") ? Sort! : "enrolled" };
        }
    }
}

public sealed record MemberResults(string Query, IReadOnlyList<MemberView> Items, CallerScope Caller, string? Error = null);
