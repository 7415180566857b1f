using System.Text.Json;

namespace Patron.Bench;

/// <summary>The command line: <c>generate</c>, <c>run</c>, <c>all</c> (both) and <c>help</c>.</summary>
public static class BenchCommand
{
    public const string Usage = """
        Patron.Bench — data generator and HTTP load driver for a running Patron server

        usage:
          generate --db CONN [--members 100000] [--program CODE] [--sales-per-member 4]
                   [--history-days 365] [--seed N] [--chunk 10000]
              Adds members with cards, accounts and a year of priced purchases and points
              (binary COPY) to a PostgreSQL database already migrated and seeded (patron seed-demo).

          run --url URL --key TERMINAL_KEY[,KEY2…] --db CONN [--terminals 8] [--seconds 60]
              [--warmup 5] [--mix identify=40,quote=25,commit=30,return=5] [--server-pid PID]
              [--baseline FILE] [--sample 20000] [--seed N] [--json FILE]
              Drives the server with N concurrent terminals and prints req/s, p50/p95/p99/max per
              operation, errors by status and code, and the server's memory. The database is read
              (before the load) only to draw members to identify; after it, the ledger is checked.
              --baseline: key=value file written by bench/baseline.sh; every figure gets a ratio.

          all  the options of both: generate, then run.

          members-csv --out FILE [--rows 1000000] [--prefix 8801] [--stores BJ001,BJ002,BJ003]
                      [--tiers standard,gold] [--id-percent 30] [--card-percent 50]
                      [--stored-value-percent 0] [--seed 1]
              Writes a member file for `patron import` (UTF-8 with BOM), as another system exports it.

          pages --url URL --db CONN [--users admin,manager,cashier1] [--password patron-demo]
                [--iterations 20] [--warmup 3] [--audit-rows 200000] [--only TEXT] [--limit-ms 200] [--json FILE]
              Signs in to the console as each user and requests every page of PageList one at a
              time (warm-up rounds first), reading the server's time from its Server-Timing header;
              prints count, p50, p95 and max server ms per page and user, the ratio to GET /login
              measured in the same rounds, client times and the load average. The database is read
              to pick the busiest member of the first store-bound user's store; the audit log is
              topped up to --audit-rows synthetic entries (generated history writes none).

        CONN is an Npgsql connection string ("Host=127.0.0.1;Port=5432;Username=postgres;Database=patron_bench"),
        or PATRON_BENCH_DB. The server's PID is found from the port it listens on when --server-pid is not given.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };

        var command = args.Length > 0 ? args[0] : "help";
        try
        {
            var o = new Options(args.Skip(1).ToList());
            switch (command)
            {
                case "generate":
                    {
                        var g = GenerateSettingsFrom(o);
                        o.EnsureAllUsed();
                        var report = await new ChainGenerator(g, output).RunAsync(cts.Token);
                        Report.PrintGeneration(output, report);
                        return report.LedgerMismatches == 0 ? 0 : 1;
                    }

                case "run":
                    {
                        var (r, baseline, json) = RunSettingsFrom(o);
                        o.EnsureAllUsed();
                        return await RunLoadAsync(r, baseline, json, output, cts.Token);
                    }

                case "all":
                    {
                        var g = GenerateSettingsFrom(o);
                        var (r, baseline, json) = RunSettingsFrom(o);
                        o.EnsureAllUsed();
                        var report = await new ChainGenerator(g, output).RunAsync(cts.Token);
                        Report.PrintGeneration(output, report);
                        return await RunLoadAsync(r, baseline, json, output, cts.Token);
                    }

                case "pages":
                    {
                        var settings = new PageSettings(
                            Url(o),
                            Db(o),
                            o.String("users", "admin,manager,cashier1")!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                            o.String("password", "patron-demo")!,
                            Iterations: o.Int("iterations", 20, 1, 100_000),
                            Warmup: o.Int("warmup", 3, 0, 1000),
                            AuditRows: o.Int("audit-rows", 200_000, 0, 100_000_000),
                            Only: o.String("only"),
                            LimitMs: o.Int("limit-ms", 200, 1, 100_000));
                        var json = o.String("json");
                        o.EnsureAllUsed();
                        var report = await new PageTimer(settings, output).RunAsync(cts.Token);
                        PageReportPrinter.Print(output, report);
                        if (json is not null)
                        {
                            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }), cts.Token);
                        }

                        return 0;
                    }

                case "members-csv":
                    {
                        var settings = new MembersCsv.Settings(
                            o.Int("rows", 1_000_000, 1, 50_000_000),
                            o.Required("out"),
                            o.String("prefix", "8801")!,
                            o.String("stores", "BJ001,BJ002,BJ003")!.Split(','),
                            o.String("tiers", "standard,gold")!.Split(','),
                            o.Int("id-percent", 30, 0, 100),
                            o.Int("card-percent", 50, 0, 100),
                            o.Int("stored-value-percent", 0, 0, 100),
                            o.Int("seed", 1));
                        o.EnsureAllUsed();
                        MembersCsv.Write(settings, output);
                        return 0;
                    }

                case "help" or "--help" or "-h":
                    output.WriteLine(Usage);
                    return 0;

                default:
                    error.WriteLine($"Unknown command '{command}'.");
                    error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (UsageException e)
        {
            error.WriteLine(e.Message);
            error.WriteLine("Run `Patron.Bench help` for usage.");
            return 2;
        }
        catch (InvalidOperationException e)
        {
            error.WriteLine("error: " + e.Message);
            return 1;
        }
        catch (Npgsql.NpgsqlException e)
        {
            error.WriteLine("database error: " + e.Message);
            return 1;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            error.WriteLine("cancelled");
            return 130;
        }
    }

    private static async Task<int> RunLoadAsync(RunSettings r, string? baselineFile, string? json, TextWriter output, CancellationToken ct)
    {
        var baseline = baselineFile is null ? null : Baseline.Read(baselineFile);
        var report = await new LoadDriver(r, output).RunAsync(ct);
        Report.PrintRun(output, report, baseline);
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new { run = report, baseline }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }), ct);
        }

        return report.LedgerMismatches is null or 0 ? 0 : 1;
    }

    private static Uri Url(Options o)
    {
        var url = o.Required("url");
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new UsageException("--url must be an absolute http(s) URL.");
    }

    private static string Db(Options o) => o.Required("db", "PATRON_BENCH_DB");

    private static GenerateSettings GenerateSettingsFrom(Options o) => new(
        Db(o),
        Members: o.Int("members", 100_000, 1, 10_000_000),
        ProgramCode: o.String("program"),
        Seed: o.Int("seed", 20261125),
        HistoryDays: o.Int("history-days", 365, 1, 3650),
        SalesPerMember: o.Int("sales-per-member", 4, 0, 100),
        ChunkSize: o.Int("chunk", 10_000, 100, 1_000_000));

    private static (RunSettings Settings, string? Baseline, string? Json) RunSettingsFrom(Options o)
    {
        var uri = Url(o);
        var keys = o.Required("key", "PATRON_BENCH_KEY").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var pid = o.Int("server-pid", 0, 0);
        var settings = new RunSettings(
            uri,
            keys,
            Db(o),
            Mix.Parse(o.String("mix", Mix.Default)!),
            Terminals: o.Int("terminals", 8, 1, 1000),
            Seconds: o.Int("seconds", 60, 1, 3600),
            Warmup: o.Int("warmup", 5, 0, 600),
            ServerPid: pid == 0 ? null : pid,
            Sample: o.Int("sample", 20_000, 1, 10_000_000),
            Seed: o.Int("seed", 1));
        return (settings, o.String("baseline"), o.String("json"));
    }
}
