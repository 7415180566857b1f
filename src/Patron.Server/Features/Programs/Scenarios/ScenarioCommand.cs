using Patron.Data;
using Patron.Domain.Common;

namespace Patron.Server.Features.Programs.Scenarios;

/// <summary>
/// <c>patron scenario run SCENARIO... [--program PROGRAM] [--db CONN]</c>: runs scenario files
/// (or every *.json in a folder) and exits 1 when any expectation fails, 2 on a bad file.
/// </summary>
public static class ScenarioCommand
{
    public const string Usage = "usage: patron scenario run SCENARIO.json|FOLDER ... [--program PROGRAM.json] [--db CONN]";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct = default)
    {
        if (args.Length < 2 || args[0] != "run")
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        string? program = null;
        string? db = null;
        var files = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--program" when i + 1 < args.Length:
                    program = Infrastructure.Hosting.CallerPath.Resolve(args[++i]);
                    break;
                case "--db" when i + 1 < args.Length:
                    db = args[++i];
                    break;
                case var arg when Directory.Exists(Infrastructure.Hosting.CallerPath.Resolve(arg)):
                    files.AddRange(Directory.GetFiles(Infrastructure.Hosting.CallerPath.Resolve(arg), "*.json").Order(StringComparer.Ordinal));
                    break;
                case var arg when File.Exists(Infrastructure.Hosting.CallerPath.Resolve(arg)):
                    files.Add(Infrastructure.Hosting.CallerPath.Resolve(arg));
                    break;
                default:
                    await error.WriteLineAsync($"scenario: no such file or option: {args[i]}\n{Usage}");
                    return 2;
            }
        }

        if (files.Count == 0)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var failed = 0;
        var passed = 0;
        foreach (var file in files)
        {
            try
            {
                var settings = db is null ? null : DatabaseSettings.Resolve(db, null);
                var report = await ScenarioRunner.RunFileAsync(file, program, settings, output, ct);
                failed += report.Failed;
                passed += report.Passed;
            }
            catch (DomainException e)
            {
                await error.WriteLineAsync($"{file}: {e.Code}: {string.Join("; ", e.Errors.Select(x => x.Message))}");
                return 2;
            }
        }

        if (files.Count > 1)
        {
            await output.WriteLineAsync($"{files.Count} scenarios: {passed} passed, {failed} failed");
        }

        return failed == 0 ? 0 : 1;
    }
}
