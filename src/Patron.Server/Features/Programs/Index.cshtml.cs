using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Domain.Common;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs;

/// <summary>
/// Program versions for head office: import a program file as a draft (errors listed by
/// field), simulate a draft over stored sales (as a console job), publish, export. Other staff read only.
/// </summary>
public sealed class IndexModel(StoreDirectory stores, ProgramRules rules, ProgramSettings settings, Jobs.ConsoleJobs jobs, IStringLocalizer<SharedResource> l) : PageModel
{
    public IReadOnlyList<ProgramView> Programs { get; private set; } = [];

    public Dictionary<long, IReadOnlyList<ProgramVersionView>> Versions { get; } = [];

    public bool CanManage => User.IsInRole(PatronClaims.Roles.Admin, PatronClaims.Roles.Marketing);

    /// <summary>Problems of the last import, each with the field it concerns.</summary>
    public IReadOnlyList<DomainError> FileErrors { get; private set; } = [];

    public long? ImportProgramId { get; private set; }

    [BindProperty]
    public string? ProgramFile { get; set; }

    [BindProperty]
    public DateOnly? From { get; set; }

    [BindProperty]
    public DateOnly? To { get; set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostImportAsync(long programId, CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        try
        {
            var created = await rules.ImportAsync(programId, ProgramFile ?? "", CallerScope.From(User), ct);
            TempData["flash"] = string.Format(l["Draft version {0} imported."].Value, created.Version);
            return RedirectToPage();
        }
        catch (ProblemException p)
        {
            ShowFileErrors(programId, p.Code, p.Message, p.Errors);
        }
        catch (DomainException d)
        {
            ShowFileErrors(programId, d.Code, d.Message, d.Errors);
        }

        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostNewDraftAsync(long programId, CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        try
        {
            var created = await settings.NewDraftFromInForceAsync(programId, CallerScope.From(User), ct);
            TempData["flash"] = string.Format(l["Draft version {0} created from the version in force."].Value, created.Version);
            return RedirectToPage("/Programs/Edit", new { programId, version = created.Version });
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l);
        }

        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostPublishAsync(long programId, int version, CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        try
        {
            await rules.PublishAsync(programId, version, CallerScope.From(User), ct);
            TempData["flash"] = string.Format(l["Version {0} published."].Value, version);
            return RedirectToPage();
        }
        catch (ProblemException p) when (p.Code == ProgramRules.DraftOutdated)
        {
            // The editor's publish form says which newer version it would replace and asks to confirm.
            return Redirect($"/programs/{programId}/versions/{version}/edit#publish");
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l);
        }
        catch (DomainException d)
        {
            ModelState.AddModelError("", ProblemWriter.Translate(l, d.Code, d.Message));
        }

        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostSimulateAsync(long programId, int version, CancellationToken ct)
    {
        if (!CanManage)
        {
            return Forbid();
        }

        try
        {
            // A simulation reads every sale of the period: it runs as a job, whose page shows its progress.
            var job = await jobs.QueueAsync(Patron.Data.ConsoleJobKind.Simulation, new SimulationJobRequest(programId, version, From, To), User, ct);
            return Redirect($"/jobs/{job.Id}");
        }
        catch (ProblemException p)
        {
            ModelState.AddProblem(p, l);
        }

        await LoadAsync(ct);
        return Page();
    }

    private void ShowFileErrors(long programId, string code, string message, IReadOnlyList<DomainError> errors)
    {
        ImportProgramId = programId;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        FileErrors = errors.Count > 0 ? errors : [new DomainError(code, message)];
        ModelState.AddModelError("", ProblemWriter.Translate(l, code, message));
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Programs = await stores.ListProgramsAsync(caller, ct);
        foreach (var p in Programs)
        {
            Versions[p.Id] = await rules.ListAsync(p.Id, caller, ct);
        }
    }
}
