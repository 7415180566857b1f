using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Members;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Desk;

/// <summary>The cashier desk: one search box (card, phone, QR code, ID number, name + phone tail) with results as you type.</summary>
[Authorize(Policy = Permissions.Checkout)]
public sealed class IndexModel(DeskQueries desk, IStringLocalizer<SharedResource> l) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostSearchAsync(string? q, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            return Partial("_DeskResults", new MemberResults(q ?? "", await desk.SearchAsync(q, caller, ct), caller));
        }
        catch (ProblemException p)
        {
            return Partial("_DeskResults", new MemberResults(q ?? "", [], caller, ProblemWriter.Translate(l, p.Code, p.Message)));
        }
    }
}
