using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Coupons;

/// <summary>
/// Head office and store managers: the coupon templates in force with what became of their
/// coupons, issuing to a list of members (card numbers or member ids, one per line) or as
/// bearer coupons with a reason, and voiding a coupon.
/// </summary>
[Authorize(Policy = Permissions.ProgramsRead)]
public sealed class IndexModel(ManageCoupons coupons, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    public IReadOnlyList<ProgramView> Programs { get; private set; } = [];

    public long? ProgramId { get; private set; }

    public IReadOnlyList<TemplateView> Templates { get; private set; } = [];

    public bool CanIssue => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.Marketing, PatronClaims.Roles.StoreManager);

    [BindProperty]
    public string? Template { get; set; }

    [BindProperty]
    public string? Recipients { get; set; }

    [BindProperty]
    public int? Bearer { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    [BindProperty]
    public string? VoidCode { get; set; }

    [BindProperty]
    public string? VoidReason { get; set; }

    public async Task OnGetAsync(long? program, CancellationToken ct) => await LoadAsync(program, ct);

    public async Task<IActionResult> OnPostIssueAsync(long program, CancellationToken ct)
    {
        if (!CanIssue)
        {
            return Forbid();
        }

        var lines = (Recipients ?? "").Split(['\n', '\r', ',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ids = new List<long>();
        var cards = new List<string>();
        foreach (var line in lines)
        {
            // Card numbers are long digit strings; member ids are short.
            if (line.Length < 10 && long.TryParse(line, out var id))
            {
                ids.Add(id);
            }
            else
            {
                cards.Add(line);
            }
        }

        var caller = CallerScope.From(User);
        return await RunAsync(program, async ct =>
        {
            var result = await coupons.IssueAsync(new IssueCouponsRequest(Template, ids, cards, Bearer, Reason, null, program, caller.DefaultStoreId), caller, ct);
            var codes = Bearer > 0 ? " " + string.Join(", ", result.Coupons.Take(20).Select(c => c.Code)) : "";
            return string.Format(l["Issued {0} coupon(s)."].Value, result.Issued) + codes;
        }, "", ct);
    }

    public async Task<IActionResult> OnPostVoidAsync(long program, CancellationToken ct)
    {
        if (!CanIssue)
        {
            return Forbid();
        }

        return await RunAsync(program, async ct =>
        {
            var voided = await coupons.VoidAsync(VoidCode ?? "", new VoidCouponRequest(VoidReason), CallerScope.From(User), ct);
            return string.Format(l["Coupon {0} voided."].Value, voided.Name);
        }, "Void", ct);
    }

    private async Task<IActionResult> RunAsync(long program, Func<CancellationToken, Task<string>> action, string prefix, CancellationToken ct)
    {
        try
        {
            TempData["flash"] = await action(ct);
            return RedirectToPage(new { program });
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status403Forbidden)
        {
            ModelState.AddProblem(p, l, prefix);
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(program, ct);
        return Page();
    }

    private async Task LoadAsync(long? program, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Programs = await stores.ListProgramsAsync(caller, ct);
        ProgramId = Programs.Any(p => p.Id == program) ? program : Programs.FirstOrDefault()?.Id;
        Templates = ProgramId is { } id ? await coupons.TemplatesAsync(id, caller, ct) : [];
    }
}
