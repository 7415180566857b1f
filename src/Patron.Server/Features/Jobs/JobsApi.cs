using Patron.Data;
using Patron.Server.Features.Members;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Jobs;

namespace Patron.Server.Features.Jobs;

public static class JobsApi
{
    public static IServiceCollection AddConsoleJobs(this IServiceCollection services)
    {
        services.AddSingleton(sp => ConsoleJobOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<ConsoleJobSignal>();
        services.AddScoped<ConsoleJobs>();
        services.AddScoped<IConsoleJobWork, SimulationJob>();
        services.AddScoped<IConsoleJobWork, MemberExportJob>();
        services.AddHostedService<ConsoleJobRunner>();
        return services;
    }

    public static void MapJobsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/programs/{programId:long}/versions/{version:int}/simulations", async (long programId, int version, SimulationRequest request, ConsoleJobs jobs, HttpContext http, CancellationToken ct) =>
            {
                var job = await jobs.QueueAsync(ConsoleJobKind.Simulation, new SimulationJobRequest(programId, version, request.From, request.To), http.User, ct);
                return TypedResults.Accepted($"/api/jobs/{job.Id}", job);
            })
            .WithTags("Programs")
            .RequireAuthorization(Permissions.ProgramsManage)
            .WithName("StartProgramSimulation")
            .WithSummary("Queue a simulation of a version (the body of POST .../simulate: from, to) as a background job; answers 202 with the job. GET /api/jobs/{id} gives its progress, then the report as result.")
            .ProducesProblem(404);

        app.MapPost("/api/members/exports", async (MemberExportFilter filter, ConsoleJobs jobs, HttpContext http, CancellationToken ct) =>
            {
                var job = await jobs.QueueAsync(ConsoleJobKind.MemberExport, filter, http.User, ct);
                return TypedResults.Accepted($"/api/jobs/{job.Id}", job);
            })
            .WithTags("Members")
            .RequireAuthorization(Permissions.Console)
            .WithName("StartMemberExport")
            .WithSummary("Queue the masked member export (storeId, tier, status, from, to: the filter of export.csv) as a background job; answers 202 with the job. Its file, once done, is at GET /api/jobs/{id}/file. Audited as export.csv is.")
            .ProducesProblem(400).ProducesProblem(403);

        var g = app.MapGroup("/api/jobs").WithTags("Jobs").RequireAuthorization(Permissions.Console);

        g.MapGet("/", async (int? page, int? pageSize, ConsoleJobs jobs, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await jobs.ListAsync(page ?? 1, pageSize ?? 20, CallerScope.From(http.User), ct)))
            .WithName("ListJobs")
            .WithSummary("My console jobs (simulations, exports), newest first (page, pageSize up to 100).");

        g.MapGet("/{id:long}", async (long id, ConsoleJobs jobs, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await jobs.GetAsync(id, CallerScope.From(http.User), ct)))
            .WithName("GetJob")
            .WithSummary("One of my jobs: status (queued, running, completed, failed), fraction done, the error code of a failure, the result (a simulation's report) or the file's address. Another staff member's job: 404.")
            .ProducesProblem(404);

        g.MapGet("/{id:long}/file", async (long id, ConsoleJobs jobs, HttpContext http, CancellationToken ct) =>
            {
                var file = await jobs.FileAsync(id, CallerScope.From(http.User), ct);
                http.Response.Headers.CacheControl = "no-store";
                return TypedResults.File(file.Content, file.ContentType, file.FileName);
            })
            .WithName("GetJobFile")
            .WithSummary("The file of one of my finished jobs (a member export's CSV), kept for a day. The permission to start the job is checked again: a disabled or demoted account gets 403.")
            .ProducesProblem(403).ProducesProblem(404);
    }
}
