using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Domain.Common;
using Patron.Domain.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs;

/// <summary>
/// The program settings editor: one version's tiers, earning, member days (with a month calendar
/// that marks them, lunar ones included) and the other sections. Drafts are edited by head office
/// (administrators and marketing), simulated beside the rules in force and published; published
/// versions and other roles see the same page read only.
/// </summary>
public sealed class EditModel(ProgramSettings settings, ProgramRules rules, Jobs.ConsoleJobs jobs, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public long ProgramId { get; set; }

    [BindProperty(SupportsGet = true)]
    public int Version { get; set; }

    /// <summary>The calendar's month, yyyy-MM.</summary>
    [BindProperty(SupportsGet = true, Name = "month")]
    public string? MonthParam { get; set; }

    [BindProperty]
    public DateOnly? From { get; set; }

    [BindProperty]
    public DateOnly? To { get; set; }

    /// <summary>Publish a draft older than a published version anyway (the publish form's confirmation).</summary>
    [BindProperty]
    public bool ConfirmOutdated { get; set; }

    public ProgramSettingsView View { get; private set; } = null!;

    public ProgramSettingsForm Form { get; private set; } = null!;

    public bool CanManage => ProgramSettings.CanEdit(CallerScope.From(User));

    public bool Editable => CanManage && View.IsDraft;

    public DateOnly Month { get; private set; }

    public IReadOnlyList<MemberDayCell> Calendar { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(null, ct);

    public async Task<IActionResult> OnPostSaveAsync(CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        var posted = ProgramSettingsForm.From(Request.Form);
        try
        {
            await settings.SaveAsync(ProgramId, Version, posted, CallerScope.From(User), ct, PostedStamp());
            TempData["flash"] = string.Format(CultureInfo.CurrentCulture, l["Draft version {0} saved."].Value, Version);
            return RedirectToPage(new { programId = ProgramId, version = Version });
        }
        catch (ProblemException p)
        {
            Response.StatusCode = p.Status;
            AddErrors(p.Code, p.Message, p.Errors);
        }

        await LoadAsync(posted, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostSimulateAsync(CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        try
        {
            // Runs as a console job: its page shows the progress, then the report and the way back here to publish.
            var job = await jobs.QueueAsync(Patron.Data.ConsoleJobKind.Simulation, new SimulationJobRequest(ProgramId, Version, From, To), User, ct);
            return Redirect($"/jobs/{job.Id}");
        }
        catch (ProblemException p)
        {
            Response.StatusCode = p.Status;
            AddErrors(p.Code, p.Message, p.Errors);
        }

        await LoadAsync(null, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostPublishAsync(CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        try
        {
            await rules.PublishAsync(ProgramId, Version, CallerScope.From(User), ct, ConfirmOutdated);
            TempData["flash"] = string.Format(CultureInfo.CurrentCulture, l["Version {0} published."].Value, Version);
            return RedirectToPage(new { programId = ProgramId, version = Version });
        }
        catch (ProblemException p)
        {
            Response.StatusCode = p.Status;
            AddErrors(p.Code, p.Message, p.Errors);
        }
        catch (DomainException d)
        {
            ModelState.AddModelError("", ProblemWriter.Translate(l, d.Code, d.Message));
        }

        await LoadAsync(null, ct);
        return Page();
    }

    /// <summary>"Add a row": the posted fields again with one more empty row of a list; nothing is saved.</summary>
    public async Task<IActionResult> OnPostAddRowAsync(CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        var posted = ProgramSettingsForm.From(Request.Form);
        posted.AddRow(Request.Form["__add"].ToString());
        await LoadAsync(posted, ct);
        return Page();
    }

    /// <summary>Field errors beside their field in the request's language; the rest above the form.</summary>
    private void AddErrors(string code, string message, IReadOnlyList<DomainError> errors)
    {
        if (errors.Count == 0)
        {
            ModelState.AddModelError("", ProblemWriter.Translate(l, code, message));
            return;
        }

        foreach (var e in errors)
        {
            // The program file's and the form's messages are English sentences, translated where a translation exists.
            var text = e.Code switch
            {
                ProgramSettingsForm.JsonInvalid => l["This is not valid JSON: {0}", e.Message].Value,
                ProgramSettingsForm.FieldInvalid or "program.invalid" or "program.file_malformed" => ProblemWriter.Translate(l, e.Message, e.Message),
                _ => ProblemWriter.Translate(l, e.Code, e.Message),
            };
            ModelState.AddModelError(e.Field ?? "", text);
        }

        ModelState.AddModelError("", l["Nothing was saved: correct the fields marked below."]);
    }

    private async Task LoadAsync(ProgramSettingsForm? posted, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        View = await settings.GetAsync(ProgramId, Version, caller, ct);
        Form = posted ?? ProgramSettingsForm.From(View.Rules, withBlankRows: Editable);
        Month = DateOnly.TryParseExact((MonthParam ?? "") + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var m) && m.Year is > 1901 and < 2100
            ? m
            : new DateOnly(View.Today.Year, View.Today.Month, 1);
        Calendar = MemberDayCalendar.Month(View.Rules, Month.Year, Month.Month);
        Stamp = posted is not null && PostedStamp() is { } kept ? kept : View.Stamp;
    }

    /// <summary>The draft's last change as the editor was opened; a save from an older screen answers 409.</summary>
    public string Stamp { get; private set; } = "";

    private string? PostedStamp() => Request.HasFormContentType && Request.Form["stamp"].ToString() is { Length: > 0 } t ? t : null;
}
