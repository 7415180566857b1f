using System.Text.Json;
using Patron.Data;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Jobs;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>The member list's filter for an export job (the query of GET /api/members/export.csv).</summary>
public sealed record MemberExportFilter(long? StoreId = null, DateOnly? From = null, DateOnly? To = null, string? Tier = null, string? Status = null);

/// <summary>What an export job keeps as its result: the stores whose members its file holds.</summary>
public sealed record MemberExportResult(JobStoreScope Stores);

/// <summary>
/// The masked member export as a console job: the same file as GET /api/members/export.csv,
/// written by the same code (and so audited the same way, as the staff member who started it),
/// kept in the database for the staff member to download; its progress is members written.
/// The stores the file covers (the filter's store, or every store the staff member had when
/// it ran) are kept as the job's result: the file is given only to a staff member who still
/// covers them all, and each download is audited.
/// </summary>
public sealed class MemberExportJob(MemberExport export, MemberDirectory directory) : IConsoleJobWork
{
    public ConsoleJobKind Kind => ConsoleJobKind.MemberExport;

    public string Policy => Permissions.Console;

    public static MemberExportFilter Read(string parameters) =>
        JsonSerializer.Deserialize<MemberExportFilter>(parameters, JsonSerializerOptions.Web)
        ?? throw Problem.Invalid("job.parameters_invalid", "The job's parameters cannot be read.", "parameters");

    public async Task CheckAsync(string parameters, CallerScope caller, CancellationToken ct)
    {
        var f = Read(parameters);
        if (f.StoreId is { } s && !caller.CanBrowseStore(s))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not export the members of this store.");
        }

        // Refuses what the list refuses (a backwards period, an unknown status) before the job is queued.
        await directory.FilteredAsync(new MemberListFilter(f.StoreId, f.Tier, f.Status, f.From, f.To), caller, ct);
    }

    public void CheckResult(string parameters, string? result, CallerScope caller)
    {
        // A file saved without its scope (before scopes were kept) counts as every store's.
        var stores = result is null ? new JobStoreScope(true, []) : JsonSerializer.Deserialize<MemberExportResult>(result, JsonSerializerOptions.Web)?.Stores ?? new JobStoreScope(true, []);
        if (!stores.IsCoveredBy(caller))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not export the members of this store.");
        }
    }

    public string? DownloadAction => "members.export_downloaded";

    public async Task<ConsoleJobOutput> RunAsync(long jobId, string parameters, CallerScope caller, IProgress<double> progress, CancellationToken ct)
    {
        var f = Read(parameters);
        using var file = new MemoryStream();
        await export.WriteAsync(file, new MemberExportRequest(f.StoreId, f.From, f.To, Tier: f.Tier, Status: f.Status), false, caller, ct, progress, jobId);
        var result = new MemberExportResult(JobStoreScope.Of(f.StoreId, caller));
        return new ConsoleJobOutput(JsonSerializer.Serialize(result, JsonSerializerOptions.Web), "members.csv", "text/csv; charset=utf-8", file.ToArray());
    }
}
