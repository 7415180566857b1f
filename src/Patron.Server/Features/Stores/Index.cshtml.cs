using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Stores;

/// <summary>Stores in the caller's scope; admins and store managers also manage POS terminals here.</summary>
public sealed class IndexModel(StoreDirectory stores, TerminalAdmin terminals, IStringLocalizer<SharedResource> l) : PageModel
{
    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public Dictionary<long, List<TerminalView>> Terminals { get; } = [];

    public bool CanManageTerminals => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager);

    /// <summary>The key of a terminal just created: shown once, on this answer only.</summary>
    public CreatedTerminal? Created { get; private set; }

    [BindProperty]
    public string? TerminalName { get; set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateTerminalAsync(long storeId, CancellationToken ct)
    {
        try
        {
            Created = await terminals.CreateAsync(storeId, new CreateTerminalRequest(TerminalName), CallerScope.From(User), ct);
            TerminalName = null;
        }
        catch (ProblemException p)
        {
            if (p.Status == StatusCodes.Status403Forbidden)
            {
                return Forbid();
            }

            ModelState.AddProblem(p, l);
        }

        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(long terminalId, CancellationToken ct)
    {
        try
        {
            await terminals.RevokeAsync(terminalId, CallerScope.From(User), ct);
        }
        catch (ProblemException p) when (p.Status is StatusCodes.Status403Forbidden or StatusCodes.Status404NotFound)
        {
            return Forbid();
        }

        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Stores = await stores.ListAsync(caller, ct);
        if (CanManageTerminals)
        {
            foreach (var s in Stores.Where(s => caller.CanActAs(s.Id)))
            {
                Terminals[s.Id] = await terminals.ListAsync(s.Id, caller, ct);
            }
        }
    }
}
