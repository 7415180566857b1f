using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Server.Features.Import;

/// <summary>
/// <c>patron import FILE.csv --program CODE [--store CODE] [--check] [--errors FILE]</c>: imports
/// (or with <c>--check</c> only checks) a member file on the command line, showing its progress
/// on standard error (one line, rewritten at most once a second on a terminal; a line every ten
/// seconds when standard error is a file) and writing the refused rows to an error report.
/// Running it again with the same file resumes an import that stopped.
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

    /// <param name="interactive">Rewrite one progress line in place (a terminal); by default when <paramref name="error"/> is the console's and not redirected.</param>
    /// <param name="every">How often the progress line is written (default one second on a terminal, ten seconds otherwise).</param>
    public static async Task<int> RunAsync(IServiceProvider services, Arguments a, TextWriter output, TextWriter error, CancellationToken ct,
        bool? interactive = null, TimeSpan? every = null)
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
        var tracker = new ImportTracker();
        var inPlace = interactive ?? (ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
        using var stopShowing = new CancellationTokenSource();
        var showing = ShowProgressAsync(tracker, a.Check, error, inPlace, every ?? TimeSpan.FromSeconds(inPlace ? 1 : 10), stopShowing.Token);
        try
        {
            ImportReport report;
            try
            {
                report = await importer.RunAsync(file, a.File, id, a.Store, a.Check, null, null, ct, tracker: tracker);
            }
            finally
            {
                await stopShowing.CancelAsync();
                await showing;
            }

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

    /// <summary>
    /// The progress line: how far, rows checked, rows written (imported and refused), the rate;
    /// counts only, never a value from the file.
    /// </summary>
    public static string ProgressLine(ImportTracker t, bool checkOnly)
    {
        var elapsed = t.Elapsed;
        var time = string.Create(CultureInfo.InvariantCulture, $"{(int)elapsed.TotalMinutes}:{elapsed.Seconds:00}");
        if (t.Phase == ImportPhase.Preparing)
        {
            return $"import: reading the file... {time}";
        }

        return checkOnly
            ? string.Create(CultureInfo.InvariantCulture,
                $"import: {t.Fraction * 100,3:0}% · {t.Checked:N0} checked · {t.Written:N0} done ({t.Imported:N0} good, {t.Refused:N0} refused) · {t.RowsPerSecond:N0} rows/s · {time}")
            : string.Create(CultureInfo.InvariantCulture,
                $"import: {t.Fraction * 100,3:0}% · {t.Checked:N0} checked · {t.Written:N0} written ({t.Imported:N0} imported, {t.Refused:N0} refused) · {t.RowsPerSecond:N0} rows/s · {time}");
    }

    private static async Task ShowProgressAsync(ImportTracker tracker, bool checkOnly, TextWriter error, bool inPlace, TimeSpan every, CancellationToken stop)
    {
        var width = 0;
        void Show()
        {
            var line = ProgressLine(tracker, checkOnly);
            if (inPlace)
            {
                // Rewrite the line, blanking what a longer earlier line left.
                error.Write("\r" + line.PadRight(width));
                width = Math.Max(width, line.Length);
            }
            else
            {
                error.WriteLine(line);
            }

            error.Flush();
        }

        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Show();
            }
        }
        catch (OperationCanceledException)
        {
            // The import ended (or stopped): show where it got to.
        }

        if (tracker.Phase != ImportPhase.Preparing)
        {
            Show();
        }

        if (inPlace && width > 0)
        {
            error.WriteLine();
        }
    }
}
