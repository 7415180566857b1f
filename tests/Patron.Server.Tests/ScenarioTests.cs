using System.Diagnostics;
using Patron.Data;
using Patron.Server.Features.Programs.Scenarios;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// Every shipped scenario (the reference programs' worked examples and more) runs green on
/// each database, through the same services as the API; a wrong expectation fails and says
/// what was expected and what happened.
/// </summary>
public abstract class ScenarioTests
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "samples", "scenarios");

    public static TheoryData<string> Files => [.. Directory.GetFiles(Folder, "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    protected abstract Task<DatabaseSettings?> FreshDatabaseAsync();

    [Theory]
    [MemberData(nameof(Files))]
    public async Task SampleScenario_Run_EveryExpectationPasses(string file)
    {
        var output = new StringWriter();
        var report = await ScenarioRunner.RunFileAsync(Path.Combine(Folder, file), null, await FreshDatabaseAsync(), output, TestContext.Current.CancellationToken);

        Assert.True(report.Failed == 0, output.ToString());
        Assert.True(report.Passed >= 3, output.ToString());
    }
}

public sealed class ScenarioSqliteTests : ScenarioTests
{
    protected override Task<DatabaseSettings?> FreshDatabaseAsync() => Task.FromResult<DatabaseSettings?>(null);

    [Fact]
    public async Task WrongExpectation_Run_FailsShowingExpectedAndActual()
    {
        var scenario = ScenarioFile.Parse("""
            {
              "name": "P1 E1 with a wrong figure",
              "steps": [
                { "at": "2026-03-19 09:00", "enrol": { "member": "wang" } },
                { "sale": { "member": "wang", "order": "E1", "lines": [ { "sku": "A", "price": "50.00" }, { "sku": "B", "price": "30.00", "flags": ["special_price"] } ] },
                  "expect": { "paid": "75.00", "points": 46, "tier": "gold" } },
                { "redeem": { "member": "wang", "item": "gift-3" } }
              ]
            }
            """);
        var program = Domain.Programs.ProgramFile.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "programs", "p1-haoyaoshi-beijing.json")));
        var output = new StringWriter();

        var report = await new ScenarioRunner().RunAsync(scenario, program, null, output, TestContext.Current.CancellationToken);

        var text = output.ToString();
        Assert.Equal(3, report.Failed);
        Assert.Equal(1, report.Passed);
        Assert.Contains("PASS  paid = 75.00", text);
        Assert.Contains("FAIL  points: expected 46, actual 45", text);
        Assert.Contains("FAIL  tier: expected gold, actual standard", text);
        // An unexpected refusal fails the step even without expectations.
        Assert.Contains("FAIL  error: expected (none), actual points.insufficient", text);
    }

    [Fact]
    public async Task Cli_ScenarioRun_ExitsZeroWhenGreen_OneOnAFailure_TwoOnABadFile()
    {
        var dir = Directory.CreateTempSubdirectory("patron-scenario-cli-").FullName;
        try
        {
            var wrong = Path.Combine(dir, "wrong.json");
            await File.WriteAllTextAsync(wrong, """
                { "steps": [
                  { "at": "2026-11-25 10:00", "enrol": { "member": "a" } },
                  { "sale": { "member": "a", "order": "1", "lines": [ { "sku": "X", "price": "100.00" } ] }, "expect": { "paid": "95.00" } } ] }
                """, TestContext.Current.CancellationToken);
            var bad = Path.Combine(dir, "bad.json");
            await File.WriteAllTextAsync(bad, """{ "steps": [ { "sael": {} } ] }""", TestContext.Current.CancellationToken);
            var p2 = Path.Combine(AppContext.BaseDirectory, "samples", "programs", "p2-wangqu-tongxin.json");

            var (green, greenOut) = await RunAsync("scenario", "run", Path.Combine(Folder, "p2-e1-e3-lunar-days-and-conversion.json"));
            Assert.True(green == 0, greenOut);
            Assert.Contains("PASS  lines[1].paid = 95.00", greenOut);

            var (failed, failedOut) = await RunAsync("scenario", "run", wrong, "--program", p2);
            Assert.Equal(1, failed);
            Assert.Contains("FAIL  paid: expected 95.00, actual 98.00", failedOut);
            Assert.Contains("0 passed, 1 failed", failedOut);

            var (malformed, malformedOut) = await RunAsync("scenario", "run", bad, "--program", p2);
            Assert.Equal(2, malformed);
            Assert.Contains("steps[0].sael", malformedOut);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Patron.Server.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, await stdout + await stderr);
    }
}

public sealed class ScenarioPostgresTests(PostgresServer pg) : ScenarioTests
{
    protected override async Task<DatabaseSettings?> FreshDatabaseAsync() => new(DatabaseProvider.Postgres, await pg.CreateDatabaseAsync());
}
