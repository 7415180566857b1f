using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Jobs;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs;

/// <summary>What a simulation job runs: a version of a program over a period (the request of the synchronous simulate).</summary>
public sealed record SimulationJobRequest(long ProgramId, int Version, DateOnly? From, DateOnly? To);

/// <summary>A program simulation as a console job: the same report as the synchronous simulate, with its progress (sales counted).</summary>
public sealed class SimulationJob(PatronDb db, SimulateProgram simulate) : IConsoleJobWork
{
    public ConsoleJobKind Kind => ConsoleJobKind.Simulation;

    public string Policy => Permissions.ProgramsManage;

    public static SimulationJobRequest Read(string parameters) =>
        JsonSerializer.Deserialize<SimulationJobRequest>(parameters, JsonSerializerOptions.Web)
        ?? throw Problem.Invalid("job.parameters_invalid", "The job's parameters cannot be read.", "parameters");

    public async Task CheckAsync(string parameters, CallerScope caller, CancellationToken ct)
    {
        var r = Read(parameters);
        if (!caller.CanSeeProgram(r.ProgramId) || !await db.Programs.AnyAsync(p => p.Id == r.ProgramId, ct))
        {
            throw Problem.NotFound("program.not_found", "The program does not exist.");
        }

        if (!await db.ProgramVersions.AnyAsync(v => v.ProgramId == r.ProgramId && v.Version == r.Version, ct))
        {
            throw Problem.NotFound("program.version_not_found", "No such version of this program.");
        }
    }

    /// <summary>The report holds only what the program's permission shows (checked with the parameters).</summary>
    public void CheckResult(string parameters, string? result, CallerScope caller)
    {
    }

    public string? DownloadAction => null;

    public async Task<ConsoleJobOutput> RunAsync(long jobId, string parameters, CallerScope caller, IProgress<double> progress, CancellationToken ct)
    {
        var r = Read(parameters);
        var report = await simulate.RunAsync(r.ProgramId, r.Version, new SimulationRequest(r.From, r.To), caller, ct, progress);
        return new ConsoleJobOutput(JsonSerializer.Serialize(report, JsonSerializerOptions.Web));
    }
}
