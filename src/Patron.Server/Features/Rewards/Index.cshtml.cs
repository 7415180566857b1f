using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Rewards;

/// <summary>
/// The redemption catalogue at a store: what it offers today, gift stock (set by the store's
/// manager), the gifts waiting for pickup (paged in the database), handing a gift over against its pickup code, and
/// cancelling a redemption before pickup with a reason.
/// </summary>
[Authorize(Policy = Permissions.Console)]
public sealed class IndexModel(Catalogue catalogue, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public long? StoreId { get; private set; }

    public CatalogueView? Items { get; private set; }

    public const int AwaitingPageSize = 20;

    /// <summary>The page of gifts waiting for pickup ("ap", as "page" is the Razor Pages route value).</summary>
    [BindProperty(SupportsGet = true, Name = "ap")]
    public int AwaitingPageNumber { get; set; } = 1;

    public RedemptionPage Awaiting { get; private set; } = new([], 1, AwaitingPageSize, 0);

    /// <summary>This store's catalogue with another page of the gifts waiting.</summary>
    public string AwaitingLink(int awaitingPage) => $"/catalogue?store={StoreId}" + (awaitingPage > 1 ? $"&ap={awaitingPage}" : "");

    public bool CanSetStock => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager);

    public bool CanHandOver => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Cashier);

    [BindProperty]
    public string? PickupCode { get; set; }

    [BindProperty]
    public string? CancelReason { get; set; }

    [BindProperty]
    public int? Quantity { get; set; }

    public async Task<IActionResult> OnGetAsync(long? store, CancellationToken ct)
    {
        await LoadAsync(store, ct);
        return store is not null && StoreId != store ? NotFound() : Page(); // another store's catalogue is not found, not silently swapped
    }

    public Task<IActionResult> OnPostPickupAsync(long store, CancellationToken ct) =>
        RunAsync(store, CanHandOver, async ct =>
        {
            var done = await catalogue.PickUpAsync(new PickupRequest(PickupCode, store), CallerScope.From(User), ct);
            return string.Format(l["{0} handed over to {1}."].Value, done.Name, done.Member);
        }, "", ct);

    public Task<IActionResult> OnPostCancelAsync(long store, long redemption, CancellationToken ct) =>
        RunAsync(store, CanHandOver, async ct =>
        {
            var done = await catalogue.CancelAsync(redemption, new CancelRedemptionRequest(CancelReason), CallerScope.From(User), ct);
            return string.Format(l["Redemption of {0} cancelled; {1} points returned."].Value, done.Name, done.Points);
        }, "Cancel", ct);

    public Task<IActionResult> OnPostStockAsync(long store, string item, CancellationToken ct) =>
        RunAsync(store, CanSetStock, async ct =>
        {
            var set = await catalogue.SetStockAsync(item, new SetStockRequest(store, Quantity ?? -1), CallerScope.From(User), ct);
            return string.Format(l["Stock at {0} set to {1}."].Value, set.StoreName, set.Quantity);
        }, "", ct);

    private async Task<IActionResult> RunAsync(long store, bool allowed, Func<CancellationToken, Task<string>> action, string prefix, CancellationToken ct)
    {
        if (!allowed)
        {
            return Forbid();
        }

        try
        {
            TempData["flash"] = await action(ct);
            return RedirectToPage(new { store, ap = AwaitingPageNumber > 1 ? AwaitingPageNumber : (int?)null }); // back to the page of the list it was on
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l, prefix);
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(store, ct);
        return Page();
    }

    private async Task LoadAsync(long? store, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Stores = await stores.ListAsync(caller, ct);
        StoreId = Stores.Any(s => s.Id == store) ? store : caller.DefaultStoreId ?? Stores.FirstOrDefault()?.Id;
        if (StoreId is { } id)
        {
            Items = await catalogue.GetAsync(null, id, caller, ct);
            Awaiting = await catalogue.PageAsync(id, true, AwaitingPageNumber, AwaitingPageSize, caller, ct);
            if (Awaiting.Items.Count == 0 && Awaiting.Total > 0)
            {
                // Past the end (the last gift of the last page handed over or cancelled, or a typed number): the last page.
                AwaitingPageNumber = Paging.Pages(Awaiting.Total, AwaitingPageSize);
                Awaiting = await catalogue.PageAsync(id, true, AwaitingPageNumber, AwaitingPageSize, caller, ct);
            }
        }
    }
}
