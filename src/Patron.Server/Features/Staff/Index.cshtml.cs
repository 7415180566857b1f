using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Staff;

public sealed class StaffForm
{
    public string? Login { get; set; }

    public string? DisplayName { get; set; }

    public string? Role { get; set; }

    public long[] StoreIds { get; set; } = [];

    public string? Password { get; set; }
}

/// <summary>Staff accounts: list and create (admin only).</summary>
[Authorize(Policy = Permissions.StaffManage)]
public sealed class IndexModel(StaffAdmin admin, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    public static readonly string[] Roles =
    [
        PatronClaims.Roles.Cashier, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Marketing, PatronClaims.Roles.Auditor, PatronClaims.Roles.Admin,
    ];

    [BindProperty]
    public StaffForm Form { get; set; } = new();

    public IReadOnlyList<StaffView> Staff { get; private set; } = [];

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public string? Created { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            var f = Form;
            var created = await admin.CreateAsync(new CreateStaffRequest(f.Login, f.DisplayName, f.Role, f.StoreIds, f.Password), CallerScope.From(User), ct);
            Created = created.Login;
            Form = new StaffForm();
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l, "Form.");
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Staff = await admin.ListAsync(ct);
        Stores = await stores.ListAsync(CallerScope.From(User), ct);
    }
}
