using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Import;

/// <summary>
/// Head office imports members: upload a file (program, store, check only), the list of runs,
/// and one run's panel, polled every second while it is queued or running. The state is in
/// the database, so leaving the page and coming back (or another admin opening it) shows the
/// same run. The upload is streamed: the page binds no form fields (htmx sends the antiforgery
/// token as a header), so a large file is never buffered before it reaches the upload folder.
/// </summary>
[Authorize(Policy = Permissions.MembersImport)]
public sealed class IndexModel(ImportUploads uploads, StoreDirectory directory, ImportOptions options, IStringLocalizer<SharedResource> l) : PageModel
{
    public const int PageSize = 15;

    public IReadOnlyList<ProgramView> Programs { get; private set; } = [];

    public IReadOnlyList<StoreView> Stores { get; private set; } = [];

    public ImportPage Jobs { get; private set; } = new([], 1, PageSize, 0);

    public ImportView? Job { get; private set; }

    public ImportUploadForm Form { get; private set; } = new() { CheckOnly = true };

    public long MaxUploadBytes => options.MaxUploadBytes;

    public async Task OnGetAsync(long? job, int? p, CancellationToken ct) => await LoadAsync(job, p ?? 1, ct);

    /// <summary>One run's panel (polled while the run is queued or running).</summary>
    public async Task<IActionResult> OnGetJobAsync(long id, CancellationToken ct)
    {
        try
        {
            var view = await uploads.GetAsync(id, CallerScope.From(User), ct);
            if (!view.IsActive)
            {
                Response.Headers["HX-Trigger"] = "import-finished"; // the list refreshes once
            }

            return Partial("_ImportJobPanel", view);
        }
        catch (ProblemException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
    }

    public async Task<IActionResult> OnGetListAsync(long? job, int? p, CancellationToken ct)
    {
        Jobs = await uploads.ListAsync(p ?? 1, PageSize, CallerScope.From(User), ct);
        return Partial("_ImportJobList", new ImportJobList(Jobs, job));
    }

    public async Task<IActionResult> OnPostUploadAsync(CancellationToken ct)
    {
        var form = new ImportUploadForm();
        try
        {
            var view = await uploads.UploadAsync(HttpContext, form, CallerScope.From(User), ct);
            return Go(view.Id);
        }
        catch (ProblemException e) when (e.Status != StatusCodes.Status403Forbidden)
        {
            ModelState.AddProblem(e, l);
            Response.StatusCode = e.Status;
        }

        Form = form;
        await LoadAsync(null, 1, ct);
        return Page();
    }

    /// <summary>Import the rows of a finished check.</summary>
    public async Task<IActionResult> OnPostImportAsync(long id, CancellationToken ct)
    {
        try
        {
            var view = await uploads.ImportCheckedAsync(id, CallerScope.From(User), ct);
            return Go(view.Id);
        }
        catch (ProblemException e) when (e.Status is StatusCodes.Status409Conflict or StatusCodes.Status404NotFound)
        {
            ModelState.AddProblem(e, l);
            Response.StatusCode = e.Status;
        }

        await LoadAsync(id, 1, ct);
        return Page();
    }

    /// <summary>To the run's page: htmx is told to load it, a plain form post is redirected.</summary>
    private IActionResult Go(long id)
    {
        var url = $"/import?job={id}";
        if (Request.Headers.ContainsKey("HX-Request"))
        {
            Response.Headers["HX-Redirect"] = url;
            return new NoContentResult();
        }

        return LocalRedirect(url);
    }

    private async Task LoadAsync(long? job, int page, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        Programs = await directory.ListProgramsAsync(caller, ct);
        Stores = await directory.ListAsync(caller, ct);
        Jobs = await uploads.ListAsync(page, PageSize, caller, ct);

        // Coming back to the page: the run asked for, else one that is going on, else the latest.
        var id = job ?? Jobs.Items.FirstOrDefault(j => j.IsActive)?.Id ?? (page == 1 ? Jobs.Items.FirstOrDefault()?.Id : null);
        if (id is { } selected)
        {
            try
            {
                Job = await uploads.GetAsync(selected, caller, ct);
            }
            catch (ProblemException e) when (e.Status == StatusCodes.Status404NotFound)
            {
                Job = null;
            }
        }
    }
}

public sealed record ImportJobList(ImportPage Jobs, long? Selected);
