using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Care;

/// <summary>
/// The pharmacist's care list for one of the caller's stores: open follow-ups (overdue first and
/// flagged) with a form to record each, and the members whose long-term medicine runs out within
/// the next days with a form to plan a call or visit. Names and phones masked, no readings or
/// notes on the lists; everything goes through <see cref="CarePlans"/> like the API.
/// </summary>
[Authorize(Policy = Permissions.CareRead)]
public sealed class IndexModel(CarePlans care, StoreDirectory stores, IStringLocalizer<SharedResource> l) : PageModel
{
    public const int PageSize = 20;

    /// <summary>The API's default window for refill reminders.</summary>
    public const int DefaultDays = 7;

    [BindProperty(SupportsGet = true)]
    public long? StoreId { get; set; }

    [BindProperty(SupportsGet = true)]
    public int Days { get; set; } = DefaultDays;

    [BindProperty(SupportsGet = true)]
    public int TaskPage { get; set; } = 1;

    [BindProperty(SupportsGet = true)]
    public int RefillPage { get; set; } = 1;

    /// <summary>The follow-up being recorded.</summary>
    [BindProperty]
    public long TaskId { get; set; }

    [BindProperty]
    public CareDoneForm Done { get; set; } = new();

    /// <summary>The member a follow-up is being planned for (from a refill reminder).</summary>
    [BindProperty]
    public long PlanMemberId { get; set; }

    [BindProperty]
    public CarePlanForm Plan { get; set; } = new();

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public StoreView? Store { get; private set; }

    public CarePage<CareTaskListItem> Tasks { get; private set; } = new([], 1, PageSize, 0, 0, default);

    public CarePage<RefillDue> Refills { get; private set; } = new([], 1, PageSize, 0, 0, default);

    /// <summary>Whether the caller records and plans follow-ups for the chosen store.</summary>
    public bool CanAct { get; private set; }

    /// <summary>The form that was posted and refused: shown open again, with its errors beside the fields.</summary>
    public long? RefusedTask { get; private set; }

    public long? RefusedPlan { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await ChooseStoreAsync(ct))
        {
            return NotFound();
        }

        await LoadListsAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostDoneAsync(CancellationToken ct) =>
        await ActAsync("Done.", async (caller, ct) =>
        {
            RefusedTask = TaskId;
            await care.CompleteAsync(TaskId, CareForms.ToRequest(Done), caller, ct);
            return l["The follow-up is recorded."].Value;
        }, ct);

    public async Task<IActionResult> OnPostPlanAsync(CancellationToken ct) =>
        await ActAsync("Plan.", async (caller, ct) =>
        {
            RefusedPlan = PlanMemberId;
            var planned = await care.PlanAsync(PlanMemberId, CareForms.ToRequest(Plan, Store!.Id), caller, ct);
            return l["Follow-up planned for {0}.", planned.DueOn.ToString("yyyy-MM-dd")].Value;
        }, ct);

    /// <summary>This page's address with other list pages or window.</summary>
    public string Link(int? taskPage = null, int? refillPage = null) =>
        $"/care?storeId={Store?.Id}&days={Days}&taskPage={taskPage ?? Tasks.Page}&refillPage={refillPage ?? Refills.Page}";

    private async Task<IActionResult> ActAsync(string prefix, Func<CallerScope, CancellationToken, Task<string>> action, CancellationToken ct)
    {
        if (!await ChooseStoreAsync(ct))
        {
            return NotFound();
        }

        if (!CanAct)
        {
            return Forbid();
        }

        var answer = await this.TryFormAsync(async () =>
        {
            TempData["flash"] = await action(CallerScope.From(User), ct);
            return RedirectToPage(new { storeId = Store!.Id, days = Days, taskPage = TaskPage, refillPage = RefillPage });
        }, l, prefix);
        if (answer is not null)
        {
            return answer;
        }

        await LoadListsAsync(ct);
        return Page();
    }

    /// <summary>The store asked for, if the caller may browse it; else the caller's own (or first) store.</summary>
    private async Task<bool> ChooseStoreAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Stores = await stores.ListAsync(caller, ct);
        Store = StoreId is { } id ? Stores.FirstOrDefault(s => s.Id == id) : Stores.FirstOrDefault(s => s.Id == caller.DefaultStoreId) ?? Stores.FirstOrDefault();
        if (StoreId is not null && Store is null)
        {
            return false;
        }

        Days = Math.Clamp(Days, 0, 90);
        CanAct = Store is not null && User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.StoreManager, PatronClaims.Roles.Cashier) && caller.CanActAs(Store.Id);
        return true;
    }

    private async Task LoadListsAsync(CancellationToken ct)
    {
        if (Store is null)
        {
            return;
        }

        var caller = CallerScope.From(User);
        Tasks = await care.OpenTasksPageAsync(Store.Id, TaskPage, PageSize, caller, ct);
        Refills = await care.DuePageAsync(Store.Id, Days, RefillPage, PageSize, caller, ct);
    }
}
