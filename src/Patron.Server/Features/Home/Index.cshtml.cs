using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Members;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Home;

public sealed class IndexModel(FindMembers members, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    // Chinese store names stay readable; HTML-sensitive characters are still escaped.
    private static readonly JsonSerializerOptions ChartJsonOptions = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    public int MemberCount { get; private set; }

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    /// <summary>Members per store for the bar chart, as the chart script reads it.</summary>
    public string ChartJson { get; private set; } = "{}";

    public async Task OnGetAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Stores = await stores.ListAsync(caller, ct);
        var counts = await members.CountByStoreAsync(caller, ct);
        MemberCount = counts.Values.Sum();
        ChartJson = JsonSerializer.Serialize(
            new
            {
                title = l["Members by enrolling store"].Value,
                categories = Stores.Select(s => s.Name),
                values = Stores.Select(s => counts.GetValueOrDefault(s.Id)),
            },
            ChartJsonOptions);
    }
}
