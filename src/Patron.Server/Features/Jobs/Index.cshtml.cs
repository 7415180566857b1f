using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Jobs;

/// <summary>My long jobs (simulations, exports), newest first, paged: each links to its page.</summary>
public sealed class IndexModel(ConsoleJobs jobs) : PageModel
{
    public const int PageSize = 20;

    /// <summary>The list's page: "p", as "page" is the Razor Pages route value.</summary>
    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public ConsoleJobPage Jobs { get; private set; } = new([], 1, PageSize, 0);

    public int Pages => Paging.Pages(Jobs.Total, Jobs.PageSize);

    public async Task OnGetAsync(CancellationToken ct) =>
        Jobs = await jobs.ListAsync(PageNumber, PageSize, CallerScope.From(User), ct);
}
