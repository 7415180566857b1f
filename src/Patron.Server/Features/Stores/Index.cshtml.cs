using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Stores;

public sealed class StoreForm
{
    public string? Code { get; set; }

    public string? Name { get; set; }

    public long? RegionId { get; set; }

    public string? City { get; set; }

    public string? District { get; set; }

    public string? Address { get; set; }

    public long? ProgramId { get; set; }

    public string? TimeZone { get; set; }

    public bool IsActive { get; set; } = true;
}

/// <summary>Stores in the caller's scope, each linking to its page; administrators create stores here.</summary>
public sealed class IndexModel(StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public IReadOnlyList<RegionView> Regions { get; private set; } = [];

    public IReadOnlyList<ProgramView> Programs { get; private set; } = [];

    public bool IsAdmin => User.IsInRole(PatronClaims.Roles.Admin);

    [BindProperty]
    public StoreForm Form { get; set; } = new();

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!IsAdmin)
        {
            return Forbid();
        }

        try
        {
            var f = Form;
            var created = await stores.CreateStoreAsync(new CreateStoreRequest(f.Code, f.Name, f.RegionId, f.City, f.ProgramId, f.TimeZone, f.District, f.Address), CallerScope.From(User), ct);
            TempData["flash"] = l["Store {0} created.", created.Name].Value;
            return RedirectToPage("/Stores/Detail", new { id = created.Id });
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
        if (IsAdmin)
        {
            Regions = await stores.ListRegionsAsync(ct);
            Programs = await stores.ListProgramsAsync(caller, ct);
        }
    }
}
