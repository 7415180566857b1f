using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>
/// One member, 360°: the overview (profile, cards with loss, replacement, freeze, renewal and
/// sub-cards; stored value with top-up and refund; points with manual adjustments; the latest
/// entries of both ledgers) and one tab per history (points, stored value, sales and returns,
/// coupons, tier changes, care and consents, audit trail), each a page cut in the database and
/// reached by a plain link (?tab=…&amp;p=…), so only the tab asked for is read. Every action goes
/// through the same application service as the API.
/// </summary>
public sealed class DetailModel(
    FindMembers find,
    MemberProfiles profiles,
    PointsQueries points,
    AdjustPoints adjust,
    Cards.CardOperations cards,
    StoredValue.StoredValueQueries stored,
    StoredValue.TopUpStoredValue topUp,
    StoredValue.RefundStoredValue refund,
    Infrastructure.Data.Idempotency idempotency,
    MemberHistory history,
    Audit.AuditTrail auditTrail,
    IStringLocalizer<SharedResource> l) : PageModel
{
    public static readonly IReadOnlyList<string> Tabs = ["overview", "points", "stored", "sales", "coupons", "tiers", "care", "audit"];

    public const int RecentShown = 10;

    /// <summary>The tab shown: overview (the default) or one history.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Tab { get; set; }

    /// <summary>The page of the tab's list.</summary>
    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    /// <summary>The coupons tab's state: held, used, expired, void, or all.</summary>
    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    public string CurrentTab => Tabs.Contains(Tab ?? "") && (Tab != "audit" || CanAudit) ? Tab! : "overview";

    public bool CanAudit => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.Auditor, PatronClaims.Roles.StoreManager);

    /// <summary>Follow-ups are pharmacy work: not for marketing or auditors (as on the care pages).</summary>
    public bool CanCare => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Cashier);

    public HistoryPage<PointsRow>? PointsLedger { get; private set; }

    public IReadOnlyList<ExpiringLot> Expiring { get; private set; } = [];

    public HistoryPage<StoredValueRow>? StoredLedger { get; private set; }

    public HistoryPage<SaleRow>? Sales { get; private set; }

    public HistoryPage<CouponRow>? Coupons { get; private set; }

    public CouponCounts? CouponCounts { get; private set; }

    public HistoryPage<TierRow>? TierHistory { get; private set; }

    public CareSummary? Care { get; private set; }

    public IReadOnlyList<ConsentView> Consents { get; private set; } = [];

    public Audit.AuditPage? AuditEntries { get; private set; }

    /// <summary>A link to another tab (and page) of this member.</summary>
    public string TabLink(string tab, int page = 1, string? state = null) =>
        $"/members/{Member.Id}" + (tab == "overview" ? "" : $"?tab={tab}" + (page > 1 ? $"&p={page}" : "") + (state is null ? "" : $"&state={state}"));

    public Cards.MemberCardsView? Cards { get; private set; }

    public StoredValue.StoredValueSummary? Stored { get; private set; }

    public bool CanCards => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Cashier);

    public bool CanFreeze => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager);

    public bool CanRefund => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager);

    [BindProperty]
    public long CardId { get; set; }

    /// <summary>report_lost, replace, exchange_damaged, freeze, unfreeze, renew, revoke.</summary>
    [BindProperty]
    public string? CardOp { get; set; }

    [BindProperty]
    public string? NewNumber { get; set; }

    [BindProperty]
    public string? SubCardHolder { get; set; }

    /// <summary>Yuan, as typed.</summary>
    [BindProperty]
    public string? TopUpAmount { get; set; }

    /// <summary>
    /// The top-up's order number, made when the form is shown and sent back with it: a form
    /// submitted twice records one top-up.
    /// </summary>
    [BindProperty]
    public string? TopUpOrder { get; set; }

    /// <summary>The refund's idempotency key, made when the form is shown: a form submitted twice refunds once.</summary>
    [BindProperty]
    public string? RefundKey { get; set; }

    [BindProperty]
    public string? RefundAmount { get; set; }

    [BindProperty]
    public string? RefundReason { get; set; }

    public MemberView Member { get; private set; } = null!;

    public ProfileView Profile { get; private set; } = null!;

    public bool CanUnmask => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager);

    public PointsSummary? Points { get; private set; }

    /// <summary>Why there are no points to show (no program rules in force yet).</summary>
    public string? PointsUnavailable { get; private set; }

    public bool CanAdjust => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.Marketing, PatronClaims.Roles.StoreManager);

    [BindProperty]
    public long AdjustPoints { get; set; }

    [BindProperty]
    public string? AdjustReason { get; set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct) =>
        await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAdjustAsync(long id, CancellationToken ct)
    {
        if (!CanAdjust)
        {
            return Forbid();
        }

        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        try
        {
            var result = await adjust.RequestAsync(id, new AdjustPointsRequest(AdjustPoints, AdjustReason, null), CallerScope.From(User), ct);
            TempData["flash"] = result.Status == "pending"
                ? l["The adjustment waits for a second approver."].Value
                : string.Format(l["Points adjusted: the balance is {0}."].Value, result.Balance);
            return RedirectToPage(new { id });
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            ModelState.AddProblem(p, l, "Adjust");
        }
        catch (Domain.Common.DomainException d)
        {
            ModelState.AddProblem(Problem.FromDomain(d), l, "Adjust");
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;

        return Page();
    }

    public Task<IActionResult> OnPostCardAsync(long id, CancellationToken ct) =>
        ActAsync(id, CanCards && (CardOp is not ("freeze" or "unfreeze") || CanFreeze), "Card", async (caller, store, ct) =>
        {
            var at = new Cards.CardActionRequest(store);
            var card = CardOp switch
            {
                "report_lost" => await cards.ReportLostAsync(CardId, at, caller, ct),
                "replace" => await cards.ReplaceAsync(CardId, new Cards.ReplaceCardRequest("lost", Blank(NewNumber), store), caller, ct),
                "exchange_damaged" => await cards.ReplaceAsync(CardId, new Cards.ReplaceCardRequest("damaged", Blank(NewNumber), store), caller, ct),
                "freeze" => await cards.FreezeAsync(CardId, at, caller, ct),
                "unfreeze" => await cards.UnfreezeAsync(CardId, at, caller, ct),
                "renew" => await cards.RenewAsync(CardId, at, caller, ct),
                "revoke" => await cards.RevokeAsync(CardId, at, caller, ct),
                _ => throw Problem.Invalid("card.operation_invalid", "Unknown card operation.", "cardOp"),
            };
            return string.Format(l["Card {0}: {1}."].Value, card.Number, l["card." + card.Status].Value);
        }, ct);

    public Task<IActionResult> OnPostSubCardAsync(long id, CancellationToken ct) =>
        ActAsync(id, CanCards, "SubCard", async (caller, store, ct) =>
        {
            var card = await cards.IssueSubCardAsync(id, new Cards.SubCardRequest(Blank(SubCardHolder), StoreId: store), caller, ct);
            return string.Format(l["Sub-card {0} issued."].Value, card.Number);
        }, ct);

    public Task<IActionResult> OnPostTopUpAsync(long id, CancellationToken ct) =>
        ActAsync(id, CanCards, "TopUp", async (caller, store, ct) =>
        {
            var amount = Fen(TopUpAmount, "topUpAmount");
            var order = Blank(TopUpOrder) ?? NewKey();
            var result = await topUp.HandleAsync(new StoredValue.TopUpRequest(order, amount, id, StoreId: store), caller, ct);
            return string.Format(l["Topped up ¥{0}; bonus ¥{1}; the balance is ¥{2}."].Value, Yuan(result.Amount), Yuan(result.Bonus), Yuan(result.Balance.Total));
        }, ct);

    public Task<IActionResult> OnPostRefundAsync(long id, CancellationToken ct) =>
        ActAsync(id, CanRefund, "Refund", async (caller, store, ct) =>
        {
            var request = new StoredValue.StoredValueRefundRequest(Fen(RefundAmount, "refundAmount"), RefundReason, store);

            // Under the key the form was shown with, as the API's Idempotency-Key: a second submit answers with the first refund.
            var (result, _) = await idempotency.RunAsync(caller, Blank(RefundKey), new { op = "sv_refund", memberId = id, request }, c => refund.HandleAsync(id, request, caller, c), ct);
            return string.Format(l["Refunded ¥{0}; bonus forfeited ¥{1}."].Value, Yuan(result.Refunded), Yuan(result.BonusForfeited));
        }, ct);

    public static string Yuan(long fen) => (fen / 100m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static string NewKey() => "WEB-" + Guid.NewGuid().ToString("N").ToUpperInvariant();

    private static long Fen(string? yuan, string field) =>
        decimal.TryParse(yuan, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 && decimal.Round(v, 2) == v && v < 10_000_000
            ? (long)(v * 100)
            : throw Problem.Invalid("stored_value.amount_invalid", "Enter an amount in yuan with at most two decimals.", field);

    /// <summary>Runs a console action for the member at the caller's store (or the member's), then shows the page with a message or the errors.</summary>
    private async Task<IActionResult> ActAsync(long id, bool allowed, string prefix, Func<CallerScope, long, CancellationToken, Task<string>> action, CancellationToken ct)
    {
        if (!allowed)
        {
            return Forbid();
        }

        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        var caller = CallerScope.From(User);
        try
        {
            TempData["flash"] = await action(caller, caller.DefaultStoreId ?? Member.EnrolStoreId, ct);
            return RedirectToPage(new { id });
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            ShowNextToInput(p, prefix);
        }
        catch (Domain.Common.DomainException d)
        {
            ShowNextToInput(Problem.FromDomain(d), prefix);
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(id, ct);
        return Page();
    }

    /// <summary>Puts each error beside the input of this form it concerns, or at the top of the panel.</summary>
    private void ShowNextToInput(ProblemException p, string form)
    {
        var errors = p.Errors.Count > 0 ? p.Errors : [new Domain.Common.DomainError(p.Code, p.Message)];
        foreach (var e in errors)
        {
            var key = (form, e.Field) switch
            {
                ("TopUp", "amount" or "topUpAmount") => nameof(TopUpAmount),
                ("Refund", "amount" or "refundAmount") => nameof(RefundAmount),
                ("Refund", "reason") => nameof(RefundReason),
                ("Card", "number") => nameof(NewNumber),
                ("SubCard", "holder") => nameof(SubCardHolder),
                _ => "",
            };
            ModelState.AddModelError(key, ProblemWriter.Translate(l, e.Code, e.Message));
        }
    }

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Member = await find.GetAsync(id, caller, ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }

        var tab = CurrentTab;
        if (tab != "overview")
        {
            await LoadTabAsync(tab, id, caller, ct);
            return true;
        }

        // Keys for the forms as shown; a form sent back with errors keeps the key it came with.
        TopUpOrder ??= NewKey();
        RefundKey ??= NewKey();
        Profile = await profiles.GetAsync(id, caller, ct);
        Cards = await cards.ListAsync(id, caller, ct);
        Stored = await stored.GetAsync(id, caller, ct, history: false);
        StoredLedger = await history.StoredValueAsync(id, 1, caller, ct, RecentShown);
        try
        {
            Points = await points.GetAsync(id, caller, ct, history: false);
            PointsLedger = await history.PointsAsync(id, 1, caller, ct, RecentShown);
        }
        catch (ProblemException p) when (p.Code == "program.not_in_force")
        {
            PointsUnavailable = ProblemWriter.Translate(l, p.Code, p.Message);
        }

        return true;
    }

    /// <summary>Reads the one section the tab shows, a page at a time.</summary>
    private async Task LoadTabAsync(string tab, long id, CallerScope caller, CancellationToken ct)
    {
        switch (tab)
        {
            case "points":
                PointsLedger = await history.PointsAsync(id, PageNumber, caller, ct);
                Expiring = await history.ExpiringAsync(id, caller, ct);
                break;
            case "stored":
                StoredLedger = await history.StoredValueAsync(id, PageNumber, caller, ct);
                break;
            case "sales":
                Sales = await history.SalesAsync(id, PageNumber, caller, ct);
                break;
            case "coupons":
                State = State is "held" or "used" or "expired" or "void" ? State : null;
                (Coupons, CouponCounts) = await history.CouponsAsync(id, State, PageNumber, caller, ct);
                break;
            case "tiers":
                TierHistory = await history.TiersAsync(id, PageNumber, caller, ct);
                break;
            case "care":
                Consents = await history.ConsentsAsync(id, caller, ct);
                if (CanCare)
                {
                    Care = await history.CareAsync(id, caller, ct);
                }

                break;
            case "audit":
                AuditEntries = await auditTrail.ListAsync(new Audit.AuditFilter(MemberId: id, Page: PageNumber), caller, ct);
                break;
        }
    }
}
