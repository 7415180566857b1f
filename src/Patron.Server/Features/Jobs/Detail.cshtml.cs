using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Jobs;

/// <summary>What the job panel shows: the job, and a simulation's report and version once it is done.</summary>
public sealed record JobPanel(ConsoleJobView Job, SimulationReport? Simulation, SimulationJobRequest? SimulationOf);

/// <summary>
/// One of my jobs: its progress bar, polled every second while it is queued or running (the
/// state is in the database, so the page can be left and opened again), then the simulation's
/// report or the export's download link, or the failure's reason.
/// </summary>
public sealed class DetailModel(ConsoleJobs jobs) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public long Id { get; set; }

    public JobPanel Panel { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ?? Page();

    public async Task<IActionResult> OnGetPanelAsync(CancellationToken ct) => await LoadAsync(ct) ?? Partial("_JobPanel", Panel);

    /// <summary>Null when the job is loaded; else the refusal (not mine: 404; no longer allowed, as the API: 403).</summary>
    private async Task<IActionResult?> LoadAsync(CancellationToken ct)
    {
        try
        {
            Panel = For(await jobs.GetAsync(Id, CallerScope.From(User), ct));
            return null;
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return Forbid();
        }
    }

    public static JobPanel For(ConsoleJobView job) =>
        job.Kind == ConsoleJobKind.Simulation
            ? new JobPanel(job, job.Result?.Deserialize<SimulationReport>(JsonSerializerOptions.Web), SimulationJob.Read(job.Parameters))
            : new JobPanel(job, null, null);
}
