namespace Patron.Bench;

/// <summary>
/// One console request the page benchmark times. <c>{member}</c> in the path is the busy member's
/// id; a form's values may use <c>{phone}</c> (the busy member's mobile) and <c>{member}</c>.
/// POSTs carry the page's antiforgery token as htmx does (the <c>RequestVerificationToken</c> header).
/// <c>Optional</c> pages are skipped (reported as absent) when the server answers 404 in the warm-up,
/// so the list can name pages that are still being built.
/// </summary>
public sealed record PageRequest(string Name, string Path, IReadOnlyList<KeyValuePair<string, string>>? Form = null, bool Optional = false)
{
    public string Method => Form is null ? "GET" : "POST";
}

/// <summary>The pages to time, in the order they are requested in each round. Add a line to time another page.</summary>
public static class PageList
{
    /// <summary>The baseline: the sign-in form, which touches no table.</summary>
    public static readonly PageRequest Baseline = new("login (baseline)", "/login");

    public static readonly IReadOnlyList<PageRequest> All =
    [
        new("home", "/"),
        new("members", "/members"),
        new("members, page 200", "/members?p=200"),
        new("members search (phone)", "/members?handler=Search", [new("q", "{phone}")]),
        new("member 360", "/members/{member}"),
        new("member profile", "/members/{member}/profile"),
        new("member health", "/members/{member}/health"),
        new("member care", "/members/{member}/care"),
        new("member unmask form", "/members/{member}/unmask?field=mobile"),
        new("member data-export form", "/members/{member}/data-export"),
        new("members duplicates", "/members/duplicates"),
        new("care", "/care"),
        new("coupons", "/coupons"),
        new("catalogue (rewards)", "/catalogue"),
        new("finance liability", "/finance/liability"),
        new("audit", "/audit"),
        new("audit, action filter", "/audit?action=points."),
        new("audit, member filter", "/audit?memberId={member}"),
        new("audit, staff + period", "/audit?staff=admin&from={from}&to={to}"),
        new("audit, page 100", "/audit?p=100"),
        new("audit, sorted by action, page 100", "/audit?sort=action&p=100"),
        new("audit, sorted by who, store filter", "/audit?sort=staff&storeId={store}"),
        new("audit, sorted by store", "/audit?sort=store"),
        new("programs", "/programs"),
        new("stores", "/stores"),
        new("staff", "/staff"),
        new("import", "/import"),
        new("members by points, filtered", "/members?sort=points&status=active&from={from}"),
        new("member 360, points tab", "/members/{member}?tab=points"),
        new("member 360, sales tab", "/members/{member}?tab=sales"),
        new("member 360, coupons tab", "/members/{member}?tab=coupons"),
        new("member 360, audit tab", "/members/{member}?tab=audit"),
        new("desk", "/desk"),
        new("desk search (phone)", "/desk?handler=Search", [new("q", "{phone}")], Optional: true),
        new("desk member panel", "/desk/{member}"),
        new("desk receipt", "/desk/sales/{sale}"),
        new("program editor", "/programs/{program}/versions/{version}/edit"),
        new("store page", "/stores/{store}"),
        new("staff member", "/staff/{staff}"),
        new("my jobs", "/jobs"),
    ];
}
