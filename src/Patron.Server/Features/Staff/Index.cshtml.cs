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

/// <summary>Staff accounts (admin only): the list filtered by store, role and active, sorted and paged on the server; creating an account.</summary>
[Authorize(Policy = Permissions.StaffManage)]
public sealed class IndexModel(StaffAdmin admin, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    public static readonly string[] Roles =
    [
        PatronClaims.Roles.Cashier, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Marketing, PatronClaims.Roles.Auditor, PatronClaims.Roles.Admin,
    ];

    [BindProperty]
    public StaffForm Form { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public long? StoreId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Role { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool? Active { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public StaffPage Staff { get; private set; } = new([], 1, StaffAdmin.DefaultPageSize, 0);

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public string? Created { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        try
        {
            await LoadAsync(ct);
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l, "Filter.");
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Stores = await stores.ListAsync(CallerScope.From(User), ct);
        }
    }

    /// <summary>This list's address with another page or sort order.</summary>
    public string Link(int? pageNumber = null, string? sort = null) =>
        "/staff?" + string.Join("&", new (string, string?)[]
        {
            ("storeId", StoreId?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("role", Role),
            ("active", Active?.ToString().ToLowerInvariant()), ("sort", sort ?? Sort),
            ("p", (pageNumber ?? Staff.Page).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        }.Where(x => !string.IsNullOrEmpty(x.Item2)).Select(x => x.Item1 + "=" + Uri.EscapeDataString(x.Item2!)));

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
        var caller = CallerScope.From(User);
        Stores = await stores.ListAsync(caller, ct);
        Staff = await admin.ListAsync(new StaffQuery(StoreId, Role, Active, Sort, PageNumber), caller, ct);
    }
}
