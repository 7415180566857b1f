using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Staff;

public sealed class StaffEditForm
{
    public string? DisplayName { get; set; }

    public string? Role { get; set; }

    public long[] StoreIds { get; set; } = [];
}

/// <summary>
/// One staff account: name, role and stores; disable or enable; reset the password (set by the
/// admin or manager, or made and shown once). Admins see everyone; a store manager only the
/// cashiers of their stores; anyone else is "not found".
/// </summary>
[Authorize(Policy = Permissions.StaffTeam)]
public sealed class EditModel(StaffAdmin admin, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    public StaffView Staff { get; private set; } = null!;

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public bool IsAdmin => User.IsInRole(PatronClaims.Roles.Admin);

    /// <summary>The roles this caller may give: all for an admin, cashier for a store manager.</summary>
    public IReadOnlyList<string> Roles => IsAdmin ? IndexModel.Roles : [PatronClaims.Roles.Cashier];

    public bool IsSelf => CallerScope.From(User).StaffId == Staff.Id;

    /// <summary>A password just made: shown once, on this answer only.</summary>
    public string? NewPassword { get; private set; }

    [BindProperty]
    public StaffEditForm Form { get; set; } = new();

    [BindProperty]
    public string? Password { get; set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        FillForm();
        return Page();
    }

    public Task<IActionResult> OnPostSaveAsync(long id, CancellationToken ct) =>
        RunAsync(id, "Form.", async (caller, ct) =>
        {
            await admin.UpdateAsync(id, new UpdateStaffRequest(Form.DisplayName, Form.Role, Form.StoreIds), caller, ct);
            return l["The staff account is saved."].Value;
        }, ct);

    public Task<IActionResult> OnPostDisableAsync(long id, CancellationToken ct) =>
        RunAsync(id, "", async (caller, ct) =>
        {
            var s = await admin.SetActiveAsync(id, false, caller, ct);
            return l["Account {0} disabled.", s.Login].Value;
        }, ct);

    public Task<IActionResult> OnPostEnableAsync(long id, CancellationToken ct) =>
        RunAsync(id, "", async (caller, ct) =>
        {
            var s = await admin.SetActiveAsync(id, true, caller, ct);
            return l["Account {0} enabled.", s.Login].Value;
        }, ct);

    public Task<IActionResult> OnPostPasswordAsync(long id, CancellationToken ct) =>
        RunAsync(id, "", async (caller, ct) =>
        {
            var reset = await admin.ResetPasswordAsync(id, new ResetPasswordRequest(Password), caller, ct);
            Password = null;
            if (reset.GeneratedPassword is { } made)
            {
                NewPassword = made;
                Response.Headers.CacheControl = "no-store";
                return null;
            }

            return l["The password is changed."].Value;
        }, ct);

    private async Task<IActionResult> RunAsync(long id, string prefix, Func<CallerScope, CancellationToken, Task<string?>> action, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        var answer = await this.TryFormAsync(async () => await action(CallerScope.From(User), ct) is { } flash ? Flash(flash, id) : null, l, prefix);
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

    private void FillForm() => Form = new StaffEditForm { DisplayName = Staff.DisplayName, Role = Staff.Role, StoreIds = Staff.StoreIds };

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Staff = await admin.GetAsync(id, caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }

        Stores = await stores.ListAsync(caller, ct);
        return true;
    }

    private RedirectToPageResult Flash(string message, long id)
    {
        TempData["flash"] = message;
        return RedirectToPage(new { id });
    }
}
