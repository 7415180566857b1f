using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Server.Features.Members;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Home;

public sealed class IndexModel(FindMembers members, StoreDirectory stores) : PageModel
{
    public int MemberCount { get; private set; }

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        MemberCount = (await members.ListAsync(null, 1, 1, caller, ct)).Total;
        Stores = await stores.ListAsync(caller, ct);
    }
}
