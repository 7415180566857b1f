using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Domain.Members;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>
/// A member's consents (given or withdrawn, with their source) and health file. The health file
/// is shown only as counts here; its content appears only on the unmask page, for allowed roles
/// with a reason. An empty file may be filled by any counter role.
/// </summary>
public sealed class HealthModel(FindMembers find, HealthFile health, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty]
    public string? ConsentKind { get; set; }

    [BindProperty]
    public string? ConsentSource { get; set; } = "store";

    [BindProperty]
    public bool Granted { get; set; }

    /// <summary>Comma-separated.</summary>
    [BindProperty]
    public string? Conditions { get; set; }

    /// <summary>Comma-separated ingredients or drug classes.</summary>
    [BindProperty]
    public string? Allergies { get; set; }

    /// <summary>One per line: name, daily dose, pack size[, SKU].</summary>
    [BindProperty]
    public string? Medicines { get; set; }

    public MemberView Member { get; private set; } = null!;

    public ConsentsView Consents { get; private set; } = null!;

    public HealthSummary Summary { get; private set; } = null!;

    public bool CanEdit => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.Marketing, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Cashier);

    public bool CanUnmask => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager);

    /// <summary>The health form is open when the file is empty, or when it was just unmasked (the unmask page posts here).</summary>
    public bool HealthFormOpen => Summary is { Consent: true, Conditions: 0, Allergies: 0, Medicines: 0 } || ModelState.ContainsKey(nameof(Medicines));

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct) =>
        await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostConsentAsync(long id, CancellationToken ct) =>
        await ActAsync(id, async (caller, ct) =>
        {
            await health.RecordConsentAsync(id, new ConsentRequest(ConsentKind, Granted, ConsentSource), caller, ct);
            return Granted ? l["Consent recorded."].Value : l["Consent withdrawn; it counts at once."].Value;
        }, ct);

    public async Task<IActionResult> OnPostSaveAsync(long id, CancellationToken ct) =>
        await ActAsync(id, async (caller, ct) =>
        {
            await health.SaveAsync(id, new HealthRequest(Split(Conditions), Split(Allergies), ParseMedicines(Medicines)), caller, ct);
            return l["The health file is saved."].Value;
        }, ct);

    /// <summary>Lines of "name, daily dose, pack size[, SKU]"; a line that does not read is refused beside the field.</summary>
    public static List<LongTermMedicine> ParseMedicines(string? text)
    {
        var list = new List<LongTermMedicine>();
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split([',', '，'], StringSplitOptions.TrimEntries);
            if (parts.Length is < 3 or > 4
                || !decimal.TryParse(parts[1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var dose)
                || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var pack))
            {
                throw Problem.Invalid("health.medicine_invalid", "A medicine has a name, a daily dose above 0 (units a day) and a pack size of 1–10000 units.", "medicines");
            }

            list.Add(new LongTermMedicine(parts[0], parts.Length == 4 && parts[3].Length > 0 ? parts[3] : null, dose, pack));
        }

        return list;
    }

    public static string FormatMedicines(IEnumerable<LongTermMedicine> medicines) =>
        string.Join("\n", medicines.Select(m => string.Join(", ", new[] { m.Name, m.DailyDose.ToString(CultureInfo.InvariantCulture), m.PackSize.ToString(CultureInfo.InvariantCulture), m.Sku ?? "" }).TrimEnd(',', ' ')));

    private static string[] Split(string? text) =>
        (text ?? "").Split([',', '，', '、', ';', '；', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private async Task<IActionResult> ActAsync(long id, Func<CallerScope, CancellationToken, Task<string>> action, CancellationToken ct)
    {
        if (!CanEdit)
        {
            return Forbid();
        }

        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        try
        {
            TempData["flash"] = await action(CallerScope.From(User), ct);
            return RedirectToPage(new { id });
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            foreach (var e in p.Errors.Count > 0 ? p.Errors : [new Domain.Common.DomainError(p.Code, p.Message, p.Code.StartsWith("consent.", StringComparison.Ordinal) ? "kind" : null)])
            {
                var key = e.Field switch
                {
                    "kind" => nameof(ConsentKind),
                    "source" => nameof(ConsentSource),
                    "conditions" => nameof(Conditions),
                    "allergies" => nameof(Allergies),
                    { } f when f.StartsWith("medicines", StringComparison.Ordinal) => nameof(Medicines),
                    _ => "",
                };
                ModelState.AddModelError(key, ProblemWriter.Translate(l, e.Code, e.Message));
            }
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(id, ct);
        return Page();
    }

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Member = await find.GetAsync(id, caller, ct);
            Consents = await health.ConsentsAsync(id, caller, ct);
            Summary = await health.SummaryAsync(id, caller, ct);
            return true;
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }
    }
}
