namespace Patron.Server.Infrastructure.Hosting;

/// <summary>
/// <c>patron [serve|migrate|seed-demo] [--db CONN] [--data DIR] [--demo] [--urls URL]</c>.
/// The verb is taken off; the remaining switches go to ASP.NET Core configuration.
/// </summary>
public sealed record CommandLine(string Command, bool Demo, string[] HostArgs)
{
    public static readonly IReadOnlyList<string> Commands = ["serve", "migrate", "seed-demo", "scenario", "import", "help"];

    public static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--db"] = "Patron:Db",
        ["--data"] = "Patron:DataDir",
    };

    public const string Usage = """
        patron — membership and loyalty server

        usage: patron [command] [options]

        commands:
          serve       run the server (default)
          migrate     apply database migrations and exit
          seed-demo   create a demo chain (stores, staff, 200 members) and print the logins
          scenario run SCENARIO.json|FOLDER [--program PROGRAM.json]
                      run program test cases on a temporary database with a virtual clock;
                      prints PASS/FAIL per expectation, exits 1 on any failure
          import FILE.csv --program CODE [--store CODE] [--check] [--errors REPORT.csv]
                      import members (points, stored value, tier, card) from CSV; --check only
                      checks; refused rows go to the report; the same file again resumes
          help        show this text

        options:
          --db CONN     PostgreSQL connection string ("Host=...;Database=...") or a SQLite file;
                        also PATRON_DB. Default: SQLite file in the data folder
          --data DIR    data folder for the SQLite file (default: ~/.local/share/patron)
          --demo        with serve: seed the demo chain first when the database is empty
          --urls URL    where to listen (default http://localhost:5000)
        """;

    public static CommandLine Parse(string[] args)
    {
        var command = "serve";
        var rest = new List<string>(args.Length);
        var demo = false;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (i == 0 && !a.StartsWith('-'))
            {
                command = a;
                continue;
            }

            if (a is "--help" or "-h")
            {
                command = "help";
                continue;
            }

            if (a == "--demo")
            {
                demo = true;
                continue;
            }

            rest.Add(a);
        }

        return new CommandLine(command, demo, [.. rest]);
    }
}
