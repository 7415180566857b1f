using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Checkout;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Desk;

/// <summary>
/// A receipt of the desk (a sale or a return), printable, and the return of chosen quantities
/// per line through the same service as POST /api/checkout/returns; the return number is made
/// when the form is shown, so a form submitted twice returns once.
/// </summary>
[Authorize(Policy = Permissions.Checkout)]
public sealed class SaleModel(DeskQueries desk, ReturnSale returns, IStringLocalizer<SharedResource> l) : PageModel
{
    public DeskReceipt Receipt { get; private set; } = null!;

    /// <summary>Quantity to return per line number, as typed.</summary>
    [BindProperty]
    public Dictionary<int, string?> Quantities { get; set; } = [];

    [BindProperty]
    public string? ReturnNumber { get; set; }

    public bool CanReturn { get; private set; }

    public async Task<IActionResult> OnGetAsync(long saleId, CancellationToken ct) =>
        await LoadAsync(saleId, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostReturnAsync(long saleId, CancellationToken ct)
    {
        if (!await LoadAsync(saleId, ct))
        {
            return NotFound();
        }

        // The same form submitted again: the return it recorded.
        if (!string.IsNullOrWhiteSpace(ReturnNumber) && Receipt.Returns.FirstOrDefault(x => x.OrderNumber == ReturnNumber.Trim()) is { } done)
        {
            return Redirect($"/desk/sales/{done.Id}");
        }

        if (!CanReturn)
        {
            if (Receipt.IsReturn || Receipt.Sale.Lines.Any(x => x.Quantity > x.ReturnedQuantity))
            {
                return Forbid();
            }

            // Returned in full meanwhile (another tab, another till): say so instead of refusing the page.
            ModelState.AddModelError("", l["desk.return_all_returned"]);
            Response.StatusCode = StatusCodes.Status409Conflict;
            return Page();
        }

        var lines = new List<ReturnLineRequest>();
        foreach (var line in Receipt.Sale.Lines.OrderBy(x => x.LineNo))
        {
            var text = (Quantities.GetValueOrDefault(line.LineNo) ?? "").Trim();
            if (text.Length == 0 || text == "0")
            {
                continue;
            }

            if (!int.TryParse(DeskQueries.Ascii(text), NumberStyles.None, CultureInfo.InvariantCulture, out var quantity) || quantity > line.Quantity - line.ReturnedQuantity)
            {
                // A line returned in full meanwhile has no field on the page any more: its error goes to the top.
                ModelState.AddModelError(line.Quantity > line.ReturnedQuantity ? $"Quantities[{line.LineNo}]" : "", l["desk.return_quantity_invalid", line.Quantity - line.ReturnedQuantity]);
                continue;
            }

            lines.Add(new ReturnLineRequest(line.LineNo, quantity));
        }

        if (ModelState.IsValid && lines.Count == 0)
        {
            ModelState.AddModelError("", l["desk.return_nothing"]);
        }

        if (ModelState.IsValid)
        {
            var caller = CallerScope.From(User);
            var sale = Receipt.Sale;
            var store = caller.CanActAs(sale.StoreId) ? sale.StoreId : caller.DefaultStoreId;
            try
            {
                var number = string.IsNullOrWhiteSpace(ReturnNumber) ? null : ReturnNumber.Trim();
                var result = await returns.HandleAsync(new ReturnRequest(sale.OrderNumber, lines, number, store, sale.StoreId), caller, ct);
                TempData["flash"] = l["Return recorded: {0}.", result.OrderNumber].Value;
                return Redirect($"/desk/sales/{result.SaleId}");
            }
            catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
            {
                foreach (var e in p.Errors.Count > 0 ? p.Errors : [new Domain.Common.DomainError(p.Code, p.Message)])
                {
                    ModelState.AddModelError("", ProblemWriter.Translate(l, e.Code, e.Message));
                }
            }
            catch (Domain.Common.DomainException d)
            {
                var p = Problem.FromDomain(d);
                ModelState.AddModelError("", ProblemWriter.Translate(l, p.Code, p.Message));
            }
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    public string? Err(string key) => ModelState.TryGetValue(key, out var s) && s.Errors.Count > 0 ? s.Errors[0].ErrorMessage : null;

    private async Task<bool> LoadAsync(long saleId, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Receipt = await desk.ReceiptAsync(saleId, caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }

        Response.Headers.CacheControl = "no-store";
        CanReturn = !Receipt.IsReturn && Receipt.Sale.Lines.Any(x => x.Quantity > x.ReturnedQuantity)
            && (caller.CanActAs(Receipt.Sale.StoreId) || caller.DefaultStoreId is not null) && caller.Role != PatronClaims.Roles.Auditor;
        ReturnNumber ??= Receipt.Sale.OrderNumber.Length <= 50 ? $"{Receipt.Sale.OrderNumber}-R{Guid.NewGuid().ToString("N")[..8].ToUpperInvariant()}" : null;
        return true;
    }
}
