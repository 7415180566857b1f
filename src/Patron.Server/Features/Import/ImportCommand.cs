using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Server.Features.Import;

/// <summary>
/// <c>patron import FILE.csv --program CODE [--store CODE] [--check] [--errors FILE]</c>: imports
/// (or with <c>--check</c> only checks) a member file on the command line, printing progress and
/// writing the refused rows to an error report. Running it again with the same file resumes an
/// import that stopped.
/// </summary>
public static class ImportCommand
{
    public sealed record Arguments(string? File, string? Program, string? Store, bool Check, string? Errors, string[] HostArgs);

    public const string Usage = "usage: patron import FILE.csv --program CODE [--store CODE] [--check] [--errors REPORT.csv] [--db CONN]";

    /// <summary>Takes the import's own options out; the rest (--db, --data) go to the host.</summary>
    public static Arguments Parse(string[] args)
    {
        string? file = null, program = null, store = null, errors = null;
        var check = false;
        var host = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--program" when i + 1 < args.Length:
                    program = args[++i];
                    break;
                case "--store" when i + 1 < args.Length:
                    store = args[++i];
                    break;
                case "--errors" when i + 1 < args.Length:
                    errors = args[++i];
                    break;
                case "--check":
                    check = true;
                    break;
                case var a when !a.StartsWith('-') && file is null && (host.Count == 0 || !host[^1].StartsWith('-')):
                    file = a;
                    break;
                default:
                    host.Add(args[i]);
                    break;
            }
        }

        return new Arguments(file is null ? null : Infrastructure.Hosting.CallerPath.Resolve(file), program, store, check,
            errors is null ? null : Infrastructure.Hosting.CallerPath.Resolve(errors), [.. host]);
    }

    public static async Task<int> RunAsync(IServiceProvider services, Arguments a, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (a.File is null || a.Program is null)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        if (!File.Exists(a.File))
        {
            await error.WriteLineAsync($"import: no such file: {a.File}");
            return 2;
        }

        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var programId = await db.Programs.Where(p => p.Code == a.Program).Select(p => (long?)p.Id).FirstOrDefaultAsync(ct);
        if (programId is not { } id)
        {
            await error.WriteLineAsync($"import: no program {a.Program}");
            return 2;
        }

        await using var file = File.OpenRead(a.File);
        var importer = scope.ServiceProvider.GetRequiredService<MemberImporter>();
        try
        {
            var report = await importer.RunAsync(file, a.File, id, a.Store, a.Check, null, p =>
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"import: {p.Rows,10:N0} rows ({p.Fraction:P0})  {p.Imported,10:N0} imported  {p.Rejected,8:N0} refused  {p.Elapsed.TotalSeconds:0.0} s")), ct);
            var verb = a.Check ? "checked" : report.AlreadyDone ? "already imported" : report.Resumed ? "resumed and finished" : "finished";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"import: {verb}: {report.Rows:N0} rows, {(a.Check ? report.Rows - report.Rejected : report.Imported):N0} {(a.Check ? "good" : "imported")}, {report.Rejected:N0} refused in {report.Elapsed.TotalSeconds:0.0} s ({report.RowsPerSecond:N0} rows/s)"));
            if (report.Errors.Count > 0)
            {
                var path = a.Errors ?? Path.ChangeExtension(a.File, ".errors.csv");
                await File.WriteAllBytesAsync(path, MemberImporter.ErrorCsv(report.Errors), ct);
                await output.WriteLineAsync($"import: refused rows: {path}" + (report.Errors.Count >= MemberImporter.ReportedErrors ? $" (the first {MemberImporter.ReportedErrors:N0}; all are kept with import job {report.JobId})" : ""));
            }

            return report.Rejected > 0 && report.Imported == 0 && !a.Check ? 1 : 0;
        }
        catch (Infrastructure.Problems.ProblemException e)
        {
            var details = e.Errors.Count > 0 ? string.Join("; ", e.Errors.Select(x => $"{x.Code}: {x.Message}")) : $"{e.Code}: {e.Message}";
            await error.WriteLineAsync("import: " + details);
            return 2;
        }
    }
}
