using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Rewards;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Desk;

/// <summary>
/// Points exchanged for an item of the catalogue at the counter, by the same service as
/// POST /api/members/{id}/redemptions under a key the form carries (a double submit redeems once);
/// a gift in stock at this store can be handed over at once with its pickup code.
/// </summary>
[Authorize(Policy = Permissions.Checkout)]
public sealed class RedeemModel(DeskQueries desk, Catalogue catalogue, Rewards.Redeem redeem, StoreDirectory stores, Idempotency idempotency, IStringLocalizer<SharedResource> l) : PageModel
{
    public DeskPanel Panel { get; private set; } = null!;

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public CatalogueView? Items { get; private set; }

    [BindProperty(SupportsGet = true)]
    public long? StoreId { get; set; }

    [BindProperty]
    public string? Item { get; set; }

    [BindProperty]
    public string? Key { get; set; }

    [BindProperty]
    public string? PickupCode { get; set; }

    /// <summary>What the last redemption gave, shown once after it.</summary>
    public RedemptionResult? Result { get; private set; }

    public async Task<IActionResult> OnGetAsync(long memberId, CancellationToken ct) =>
        await LoadAsync(memberId, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(long memberId, CancellationToken ct)
    {
        if (!await LoadAsync(memberId, ct))
        {
            return NotFound();
        }

        var caller = CallerScope.From(User);
        try
        {
            var (result, _) = await idempotency.RunAsync(caller, string.IsNullOrWhiteSpace(Key) ? Guid.NewGuid().ToString("N") : Key, new { op = "desk_redeem", memberId, Item, StoreId },
                c => redeem.HandleAsync(memberId, new RedeemRequest(Item, StoreId), caller, c), ct);
            Result = result;
            Key = Guid.NewGuid().ToString("N");
            await LoadAsync(memberId, ct); // the balance after it
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            Response.StatusCode = p.Status;
            ModelState.AddProblem(p, l);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostHandOverAsync(long memberId, CancellationToken ct)
    {
        if (!await LoadAsync(memberId, ct))
        {
            return NotFound();
        }

        try
        {
            var picked = await catalogue.PickUpAsync(new PickupRequest(PickupCode, StoreId), CallerScope.From(User), ct);
            TempData["flash"] = l["Handed over: {0}.", picked.Name].Value;
            return Redirect($"/desk/{memberId}/redeem?storeId={StoreId}");
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            Response.StatusCode = p.Status;
            ModelState.AddProblem(p, l);
        }

        return Page();
    }

    private async Task<bool> LoadAsync(long memberId, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Panel = await desk.PanelAsync(memberId, caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }

        Response.Headers.CacheControl = "no-store";
        Stores = [.. (await stores.ListAsync(caller, ct)).Where(s => s.IsActive && s.ProgramId == Panel.Member.ProgramId && caller.CanActAs(s.Id))];
        if (StoreId is not { } chosen || Stores.All(s => s.Id != chosen))
        {
            StoreId = caller.DefaultStoreId is { } d && Stores.Any(s => s.Id == d) ? d : Stores.FirstOrDefault()?.Id;
        }

        Key ??= Guid.NewGuid().ToString("N");
        if (StoreId is { } store)
        {
            Items = await catalogue.GetAsync(Panel.Member.ProgramId, store, caller, ct);
        }

        return true;
    }
}
