using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Domain.Pricing;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Desk;

/// <summary>One basket line as typed at the desk: the price in yuan, tags comma-separated.</summary>
public sealed class DeskLine
{
    public string? Sku { get; set; }

    public string? Name { get; set; }

    public string? Quantity { get; set; } = "1";

    public string? UnitPrice { get; set; }

    public string? Category { get; set; }

    public string? Tags { get; set; }

    public bool IsBlank => string.IsNullOrWhiteSpace(Sku) && string.IsNullOrWhiteSpace(Name) && string.IsNullOrWhiteSpace(UnitPrice)
        && string.IsNullOrWhiteSpace(Category) && string.IsNullOrWhiteSpace(Tags);
}

/// <summary>
/// The member card panel and the manual sale: basket lines priced by the same quote as the POS
/// API (member price and the rule per line, allergy warnings, the member's coupons, points and
/// stored value to pay with), then committed by the same service as POST /api/checkout/sales
/// under a key the form carries, so a double submit records one sale.
/// </summary>
[Authorize(Policy = Permissions.Checkout)]
public sealed partial class MemberModel(
    DeskQueries desk,
    CommitSale sale,
    StoreDirectory stores,
    PointsQueries points,
    Idempotency idempotency,
    TimeProvider clock,
    IStringLocalizer<SharedResource> l) : PageModel
{
    public const int MinRows = 4;

    [BindProperty]
    public List<DeskLine> Lines { get; set; } = [];

    [BindProperty]
    public long? StoreId { get; set; }

    [BindProperty]
    public List<string> Coupons { get; set; } = [];

    [BindProperty]
    public string? PointsToUse { get; set; }

    /// <summary>Stored value to pay with, yuan.</summary>
    [BindProperty]
    public string? StoredValue { get; set; }

    [BindProperty]
    public bool AllergiesAcknowledged { get; set; }

    /// <summary>
    /// The fingerprint of the basket and payments last priced on this screen. A sale is recorded only
    /// for the very request the cashier saw priced (and whose allergy warnings were acknowledged);
    /// anything changed since is priced again instead.
    /// </summary>
    [BindProperty]
    public string? Priced { get; set; }

    /// <summary>The sale's idempotency key, made when the form is first shown and sent back with it.</summary>
    [BindProperty]
    public string? Key { get; set; }

    public DeskPanel Panel { get; private set; } = null!;

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public QuoteResult? Quote { get; private set; }

    /// <summary>Which form row each quoted line came from.</summary>
    public IReadOnlyList<int> QuotedRows { get; private set; } = [];

    /// <summary>The program's discount names by rule id, for "the rule that gave it".</summary>
    public IReadOnlyDictionary<string, string> RuleNames { get; private set; } = new Dictionary<string, string>();

    public bool CanUnmask => User.IsInRole(PatronClaims.Roles.Admin) || User.IsInRole(PatronClaims.Roles.StoreManager);

    public async Task<IActionResult> OnGetAsync(long memberId, CancellationToken ct) =>
        await LoadAsync(memberId, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostQuoteAsync(long memberId, CancellationToken ct)
    {
        if (!await LoadAsync(memberId, ct))
        {
            return NotFound();
        }

        if (Parse() is { } request)
        {
            try
            {
                await PriceAsync(request.Request, request.Rows, ct);
                return Page();
            }
            catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
            {
                Show(p, request.Rows);
            }
            catch (Domain.Common.DomainException d)
            {
                Show(Problem.FromDomain(d), request.Rows);
            }

            await RequoteAsync(request.Request, request.Rows, ct, asEntered: false);
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    public async Task<IActionResult> OnPostCommitAsync(long memberId, CancellationToken ct)
    {
        if (!await LoadAsync(memberId, ct))
        {
            return NotFound();
        }

        if (Parse() is { } request)
        {
            var caller = CallerScope.From(User);
            if (Priced != Fingerprint(request.Request))
            {
                // Not what the cashier saw priced: price it again and let them look before taking payment.
                try
                {
                    await PriceAsync(request.Request, request.Rows, ct);
                    ModelState.AddModelError("", l["desk.repriced"]);
                }
                catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
                {
                    Show(p, request.Rows);
                    await RequoteAsync(request.Request, request.Rows, ct, asEntered: false);
                }
                catch (Domain.Common.DomainException d)
                {
                    Show(Problem.FromDomain(d), request.Rows);
                    await RequoteAsync(request.Request, request.Rows, ct, asEntered: false);
                }

                Response.StatusCode = StatusCodes.Status400BadRequest;
                return Page();
            }

            try
            {
                // The order number is made here; the form's key (as the API's Idempotency-Key) makes a second submit answer with the first sale.
                var zone = ProgramRules.Zone(Stores.FirstOrDefault(x => x.Id == StoreId)?.TimeZone ?? Domain.Organisation.Store.DefaultTimeZone);
                var order = "D" + TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, zone).ToString("yyMMddHHmmss", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
                var (result, _) = await idempotency.RunAsync(caller, Blank(Key) ?? NewKey(), new { op = "desk_sale", request = request.Request },
                    c => sale.HandleAsync(request.Request with { OrderNumber = order }, caller, c), ct);
                TempData["flash"] = l["Sale recorded: order {0}.", result.OrderNumber].Value;
                return Redirect($"/desk/sales/{result.SaleId}");
            }
            catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
            {
                Show(p, request.Rows);
            }
            catch (Domain.Common.DomainException d)
            {
                Show(Problem.FromDomain(d), request.Rows);
            }

            await RequoteAsync(request.Request, request.Rows, ct);
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>Prices the request as the POS quote does, shows it, and remembers it as the one the cashier saw; the acknowledgement is asked again.</summary>
    private async Task PriceAsync(SaleRequest request, IReadOnlyList<int> rows, CancellationToken ct)
    {
        Quote = await sale.QuoteAsync(request, CallerScope.From(User), ct);
        QuotedRows = rows;
        Priced = Fingerprint(request);
        AllergiesAcknowledged = false;
        ModelState.Remove(nameof(Priced));
    }

    /// <summary>
    /// After a refusal, the basket priced again as entered when it can be (a refusal of the sale
    /// itself, such as a missing acknowledgement), otherwise without the payments so the cashier
    /// sees the options beside the errors; then it must be priced again before it can be recorded.
    /// </summary>
    /// <param name="asEntered">False when pricing it as entered has just been refused: go straight to the basket without payments.</param>
    private async Task RequoteAsync(SaleRequest request, IReadOnlyList<int> rows, CancellationToken ct, bool asEntered = true)
    {
        try
        {
            if (asEntered)
            {
                await PriceAsync(request, rows, ct);
                return;
            }
        }
        catch (ProblemException)
        {
        }
        catch (Domain.Common.DomainException)
        {
        }

        Priced = null;
        AllergiesAcknowledged = false;
        try
        {
            Quote = await sale.QuoteAsync(request with { PointsToUse = null, Coupons = [], Payments = [] }, CallerScope.From(User), ct);
            QuotedRows = rows;
        }
        catch (ProblemException)
        {
            Quote = null;
        }
        catch (Domain.Common.DomainException)
        {
            Quote = null;
        }
    }

    /// <summary>"member_price:SKU", "tier:gold" or a discount id, joined by '+', in words.</summary>
    public string RuleText(string? rule)
    {
        if (rule is null)
        {
            return "";
        }

        return string.Join(" + ", rule.Split('+').Select(r => r switch
        {
            _ when r.StartsWith("member_price:", StringComparison.Ordinal) => l["Member price"].Value,
            _ when r.StartsWith("tier:", StringComparison.Ordinal) => l["Tier discount ({0})", RuleNames.GetValueOrDefault(r, r[5..])].Value,
            _ => RuleNames.GetValueOrDefault(r, r),
        }));
    }

    public string? Err(string key) => ModelState.TryGetValue(key, out var s) && s.Errors.Count > 0 ? s.Errors[0].ErrorMessage : null;

    private async Task<bool> LoadAsync(long memberId, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Panel = await desk.PanelAsync(memberId, caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }

        Response.Headers.CacheControl = "no-store";
        Stores = [.. (await stores.ListAsync(caller, ct)).Where(s => s.IsActive && s.ProgramId == Panel.Member.ProgramId && caller.CanActAs(s.Id))];
        StoreId ??= caller.DefaultStoreId is { } d && Stores.Any(s => s.Id == d) ? d : Stores.FirstOrDefault()?.Id;
        Key = Blank(Key) ?? NewKey();
        if (Panel.PointsUnavailable is null)
        {
            var rules = await points.RulesAsync(Panel.Member.ProgramId, ct);
            RuleNames = rules.Pricing.Discounts.ToDictionary(d => d.Id, d => d.Name ?? d.Id)
                .Concat(rules.Tiers.Select(t => KeyValuePair.Create("tier:" + t.Code, t.Name)))
                .DistinctBy(p => p.Key).ToDictionary();
        }

        while (Lines.Count < MinRows || !Lines[^1].IsBlank)
        {
            Lines.Add(new DeskLine { Quantity = "1" });
        }

        return true;
    }

    /// <summary>The form as a sale request, or null with the errors beside their fields; blank rows are skipped.</summary>
    private (SaleRequest Request, IReadOnlyList<int> Rows)? Parse()
    {
        var rows = new List<int>();
        var lines = new List<SaleLineRequest>();
        for (var i = 0; i < Lines.Count; i++)
        {
            var line = Lines[i];
            if (line.IsBlank)
            {
                continue;
            }

            var quantity = 0;
            if (!QuantityShape().IsMatch(DeskQueries.Ascii(line.Quantity)) || !int.TryParse(DeskQueries.Ascii(line.Quantity), NumberStyles.None, CultureInfo.InvariantCulture, out quantity) || quantity == 0)
            {
                ModelState.AddModelError($"Lines[{i}].Quantity", l["sale.quantity_invalid"]);
            }

            var price = DeskQueries.ParseYuan(line.UnitPrice);
            if (price is null)
            {
                ModelState.AddModelError($"Lines[{i}].UnitPrice", l["desk.yuan_invalid"]);
            }

            var tags = (line.Tags ?? "").Split([',', '，', '、', ';', '；'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            rows.Add(i);
            lines.Add(new SaleLineRequest(line.Sku?.Trim(), quantity, price ?? 0, Blank(line.Name), Blank(line.Category), Allergens: tags.Length == 0 ? null : tags));
        }

        if (lines.Count == 0)
        {
            ModelState.AddModelError("Lines", l["desk.lines_required"]);
        }

        long? pointsToUse = null;
        if (!string.IsNullOrWhiteSpace(PointsToUse))
        {
            if (PointsShape().IsMatch(DeskQueries.Ascii(PointsToUse)))
            {
                pointsToUse = long.Parse(DeskQueries.Ascii(PointsToUse), CultureInfo.InvariantCulture);
            }
            else
            {
                ModelState.AddModelError(nameof(PointsToUse), l["desk.points_invalid"]);
            }
        }

        List<PaymentRequest> payments = [];
        if (!string.IsNullOrWhiteSpace(StoredValue))
        {
            if (DeskQueries.ParseYuan(StoredValue) is { } fen)
            {
                if (fen > 0)
                {
                    payments.Add(new PaymentRequest(Payment.StoredValue, fen));
                }
            }
            else
            {
                ModelState.AddModelError(nameof(StoredValue), l["desk.yuan_invalid"]);
            }
        }

        if (!ModelState.IsValid)
        {
            return null;
        }

        var request = new SaleRequest(null, lines, StoreId, Panel.Member.Id, Payments: payments, PointsToUse: pointsToUse is > 0 ? pointsToUse : null,
            Coupons: [.. Coupons.Where(c => !string.IsNullOrWhiteSpace(c)).Distinct()], AllergiesAcknowledged: AllergiesAcknowledged);
        return (request, rows);
    }

    /// <summary>Each refusal beside the field it concerns (lines by their form row), the rest at the top.</summary>
    private void Show(ProblemException p, IReadOnlyList<int> rows)
    {
        var errors = p.Errors.Count > 0 ? p.Errors : [new Domain.Common.DomainError(p.Code, p.Message)];
        foreach (var e in errors)
        {
            var key = Field(e.Field, rows);
            var message = ProblemWriter.Translate(l, e.Code, e.Message);
            if (e.Code == "allergy.unacknowledged")
            {
                ModelState.AddModelError(nameof(AllergiesAcknowledged), message);
            }

            ModelState.AddModelError(key, message);
        }
    }

    private static string Field(string? field, IReadOnlyList<int> rows)
    {
        if (field is null)
        {
            return "";
        }

        var m = LineField().Match(field);
        if (m.Success)
        {
            var index = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var row = index < rows.Count ? rows[index] : index;
            var part = m.Groups[2].Value switch
            {
                "sku" => "Sku",
                "quantity" => "Quantity",
                "unitPrice" => "UnitPrice",
                _ => "Tags",
            };
            return $"Lines[{row}].{part}";
        }

        return field switch
        {
            "lines" => "Lines",
            "pointsToUse" => nameof(PointsToUse),
            "payments" or "payments[0]" => nameof(StoredValue),
            "coupons" => nameof(Coupons),
            "storeId" => nameof(StoreId),
            _ => "",
        };
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>A digest of everything the sale would record, the acknowledgement left out.</summary>
    private static string Fingerprint(SaleRequest request) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(request with { AllergiesAcknowledged = false, OrderNumber = null })))[..32];

    private static string NewKey() => "DESK-" + Guid.NewGuid().ToString("N").ToUpperInvariant();

    [GeneratedRegex(@"^lines\[(\d+)\](?:\.(\w+))?$")]
    private static partial Regex LineField();

    [GeneratedRegex(@"^[0-9]{1,6}$")]
    private static partial Regex QuantityShape();

    [GeneratedRegex(@"^[0-9]{1,9}$")]
    private static partial Regex PointsShape();
}
