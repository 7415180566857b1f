using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Staff;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Stores;

/// <summary>A new cashier of this store, created by its manager (or an admin) from the store's page.</summary>
public sealed class CashierForm
{
    public string? Login { get; set; }

    public string? DisplayName { get; set; }

    public string? Password { get; set; }
}

/// <summary>
/// One store: its particulars (edited by administrators, read-only for everyone else), its POS
/// terminals (create, rotate the key, revoke; who and when) and its staff. A store outside the
/// caller's scope is "not found", whatever the URL or form says.
/// </summary>
public sealed class DetailModel(StoreDirectory stores, TerminalAdmin terminals, StaffAdmin staffAdmin, IStringLocalizer<SharedResource> l) : PageModel
{
    public StoreView Store { get; private set; } = null!;

    public IReadOnlyList<TerminalView> Terminals { get; private set; } = [];

    public IReadOnlyList<StaffView> Staff { get; private set; } = [];

    public IReadOnlyList<RegionView> Regions { get; private set; } = [];

    public IReadOnlyList<ProgramView> Programs { get; private set; } = [];

    public bool IsAdmin => User.IsInRole(PatronClaims.Roles.Admin);

    public bool CanManageTerminals { get; private set; }

    public bool CanSeeStaff => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager);

    /// <summary>A key just created or rotated: shown once, on this answer only.</summary>
    public CreatedTerminal? NewKey { get; private set; }

    [BindProperty]
    public StoreForm Form { get; set; } = new();

    [BindProperty]
    public string? TerminalName { get; set; }

    [BindProperty]
    public CashierForm Cashier { get; set; } = new();

    public CallerScope Caller => CallerScope.From(User);

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        FillForm();
        return Page();
    }

    public Task<IActionResult> OnPostEditAsync(long id, CancellationToken ct) =>
        RunAsync(id, "Form.", async (caller, ct) =>
        {
            var f = Form;
            await stores.UpdateStoreAsync(id, new UpdateStoreRequest(f.Code, f.Name, f.RegionId, f.City, f.District, f.Address, f.ProgramId, f.TimeZone, f.IsActive), caller, ct);
            return l["The store is saved."].Value;
        }, ct);

    public Task<IActionResult> OnPostCreateTerminalAsync(long id, CancellationToken ct) =>
        RunAsync(id, "", async (caller, ct) =>
        {
            NewKey = await terminals.CreateAsync(id, new CreateTerminalRequest(TerminalName), caller, ct);
            TerminalName = null;
            Response.Headers.CacheControl = "no-store";
            return null;
        }, ct, terminalNameField: true);

    public Task<IActionResult> OnPostRotateAsync(long id, long terminalId, CancellationToken ct) =>
        RunAsync(id, "", async (caller, ct) =>
        {
            NewKey = await terminals.RotateAsync(terminalId, caller, ct);
            Response.Headers.CacheControl = "no-store";
            return null;
        }, ct);

    public Task<IActionResult> OnPostRevokeAsync(long id, long terminalId, CancellationToken ct) =>
        RunAsync(id, "", async (caller, ct) =>
        {
            var revoked = await terminals.RevokeAsync(terminalId, caller, ct);
            return l["Terminal \"{0}\" revoked.", revoked.Name].Value;
        }, ct);

    public Task<IActionResult> OnPostCashierAsync(long id, CancellationToken ct) =>
        RunAsync(id, "Cashier.", async (caller, ct) =>
        {
            var c = Cashier;
            var created = await staffAdmin.CreateAsync(new CreateStaffRequest(c.Login, c.DisplayName, PatronClaims.Roles.Cashier, [id], c.Password), caller, ct);
            return l["Staff account {0} created.", created.Login].Value;
        }, ct);

    /// <summary>
    /// Runs a form's action against this store: out of scope is 404, a refused action 403, bad
    /// input is shown next to the field with nothing saved. Messages go to the next page by
    /// redirect; a new key is shown on this answer only.
    /// </summary>
    private async Task<IActionResult> RunAsync(long id, string prefix, Func<CallerScope, CancellationToken, Task<string?>> action, CancellationToken ct, bool terminalNameField = false)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        // The terminal's "name" field is the page's TerminalName.
        var answer = await this.TryFormAsync(async () => await action(Caller, ct) is { } flash ? Flash(flash, id) : null, l, terminalNameField ? "Terminal" : prefix, keepConflict: true);
        if (answer is not null)
        {
            return answer;
        }

        await LoadAsync(id, ct);
        if (prefix != "Form.")
        {
            FillForm();
        }

        return Page();
    }

    private void FillForm() => Form = new StoreForm
    {
        Code = Store.Code,
        Name = Store.Name,
        RegionId = Store.RegionId,
        City = Store.City,
        District = Store.District,
        Address = Store.Address,
        ProgramId = Store.ProgramId,
        TimeZone = Store.TimeZone,
        IsActive = Store.IsActive,
    };

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        var caller = Caller;
        try
        {
            Store = await stores.GetAsync(id, caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }

        CanManageTerminals = User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager) && caller.CanActAs(id);
        Terminals = CanManageTerminals ? await terminals.ListAsync(id, caller, ct) : [];
        Staff = CanSeeStaff ? await staffAdmin.ListForStoreAsync(id, caller, ct) : [];
        if (IsAdmin)
        {
            Regions = await stores.ListRegionsAsync(ct);
            Programs = await stores.ListProgramsAsync(caller, ct);
        }

        return true;
    }

    private RedirectToPageResult Flash(string message, long id)
    {
        TempData["flash"] = message;
        return RedirectToPage(new { id });
    }
}
