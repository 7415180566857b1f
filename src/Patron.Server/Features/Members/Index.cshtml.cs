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

/// <summary>The member desk: one search box, the members of my stores, and enrolment.</summary>
public sealed class IndexModel(FindMembers find, EnrollMember enrol, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty]
    public EnrolForm Enrol { get; set; } = new();

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    [BindProperty(SupportsGet = true)]
    public long? StoreId { get; set; }

    public MemberPage List { get; private set; } = new([], 1, 20, 0);

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
        List = await find.ListAsync(StoreId, PageNumber, 20, caller, ct);
    }
}

public sealed record MemberResults(string Query, IReadOnlyList<MemberView> Items, CallerScope Caller, string? Error = null);
