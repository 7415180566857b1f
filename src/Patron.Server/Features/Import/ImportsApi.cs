using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Import;

public static class ImportsApi
{
    public static IServiceCollection AddMemberImports(this IServiceCollection services)
    {
        services.AddSingleton(sp => ImportOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<ImportSignal>();
        services.AddScoped<ImportUploads>();
        services.AddHostedService<ImportRunner>();
        return services;
    }

    public static void MapImportsApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/imports").WithTags("Imports").RequireAuthorization(Permissions.MembersImport);

        g.MapPost("/", async (ImportUploads uploads, HttpContext http, CancellationToken ct) =>
            {
                var view = await uploads.UploadAsync(http, new ImportUploadForm(), CallerScope.From(http.User), ct);
                return TypedResults.Accepted($"/api/imports/{view.Id}", view);
            })
            .WithName("UploadMemberImport")
            .WithSummary("Upload a member CSV and queue its run; one file runs at a time.")
            .WithDescription("A multipart/form-data body (streamed to disk, never buffered): file (the CSV, UTF-8 or GB18030), programCode or programId, store (the store code for rows without one; "
                + "default the program's first store), checkOnly (true: only check, nothing is imported). Answers 202 with the run and its address. "
                + "import.file_required, import.empty, import.not_csv, import.header_invalid, import.program_required, import.program_unknown, import.store_unknown (400); "
                + "import.file_too_large (413, the limit is Patron:Import:MaxUploadBytes, 512 MB by default); import.already_queued (409). Nothing is saved when the upload is refused. Audited (import.started).")
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(413);

        g.MapGet("/", async (int? page, int? pageSize, ImportUploads uploads, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await uploads.ListAsync(page ?? 1, pageSize ?? 20, CallerScope.From(http.User), ct)))
            .WithName("ListMemberImports")
            .WithSummary("Uploaded member files and their runs, newest first (page, pageSize up to 100).");

        g.MapGet("/{id:long}", async (long id, ImportUploads uploads, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await uploads.GetAsync(id, CallerScope.From(http.User), ct)))
            .WithName("GetMemberImport")
            .WithSummary("One run: status (queued, running, completed, failed), rows checked, imported (good rows for a check), refused, percent, rows per second, times, refused rows counted by code, and the error report's address.")
            .ProducesProblem(404);

        g.MapGet("/{id:long}/errors.csv", async (long id, ImportUploads uploads, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                await uploads.ErrorSourceAsync(id, caller, ct);
                http.Response.ContentType = "text/csv; charset=utf-8";
                http.Response.Headers.ContentDisposition = $"attachment; filename=\"import-{id}-errors.csv\"";
                await uploads.WriteErrorsAsync(id, http.Response.Body, caller, ct);
            })
            .WithName("GetMemberImportErrors")
            .WithSummary("The run's refused rows as CSV for Excel (UTF-8 with BOM): row (the header is row 1), column, code, message. Phones and ID numbers never appear in full.")
            .Produces(200, contentType: "text/csv")
            .ProducesProblem(404);

        g.MapPost("/{id:long}/import", async (long id, ImportUploads uploads, HttpContext http, CancellationToken ct) =>
            {
                var view = await uploads.ImportCheckedAsync(id, CallerScope.From(http.User), ct);
                return TypedResults.Accepted($"/api/imports/{view.Id}", view);
            })
            .WithName("ImportCheckedMembers")
            .WithSummary("Import the rows of a finished check-only run from the same file (kept for Patron:Import:KeepCheckedHours, 24 by default): queues a new run.")
            .WithDescription("import.not_importable, import.already_queued (409).")
            .ProducesProblem(404).ProducesProblem(409);
    }
}
