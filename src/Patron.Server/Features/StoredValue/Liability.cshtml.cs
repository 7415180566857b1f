using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.StoredValue;

/// <summary>Finance: what members are owed in stored value and points, by program, store and month of issue; CSV export.</summary>
[Authorize(Policy = Permissions.FinanceRead)]
public sealed class LiabilityModel(LiabilitySnapshot snapshot, ProgramCosts costs, TimeProvider clock) : PageModel
{
    public LiabilityReport Report { get; private set; } = null!;

    /// <summary>Redemption value, coupon discounts and cost, card fees: this month and the eleven before.</summary>
    public CostReport Costs { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Report = await snapshot.GetAsync(caller, ct);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, Programs.ProgramRules.Zone(Domain.Organisation.Store.DefaultTimeZone)));
        Costs = await costs.GetAsync(new DateOnly(today.Year, today.Month, 1).AddMonths(-11), today, caller, ct);
    }

    /// <summary>Takes the figures again now instead of waiting for the next snapshot.</summary>
    public async Task<IActionResult> OnPostRecomputeAsync(CancellationToken ct)
    {
        await snapshot.TakeAsync(ct);
        return RedirectToPage();
    }

    public static string Yuan(long fen) => (fen / 100m).ToString("#,0.00", System.Globalization.CultureInfo.InvariantCulture);
}
