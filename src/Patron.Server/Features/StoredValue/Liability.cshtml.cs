using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.StoredValue;

/// <summary>Finance: what members are owed in stored value and points, by program, store and month of issue; CSV export.</summary>
[Authorize(Policy = Permissions.FinanceRead)]
public sealed class LiabilityModel(Liability liability) : PageModel
{
    public LiabilityReport Report { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct) => Report = await liability.GetAsync(CallerScope.From(User), null, ct);

    public static string Yuan(long fen) => (fen / 100m).ToString("#,0.00", System.Globalization.CultureInfo.InvariantCulture);
}
