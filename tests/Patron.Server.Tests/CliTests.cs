using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Server.Tests;

/// <summary>The patron command line, run as a real process: migrate, seed-demo, help.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"patron-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task SeedDemo_OnAnEmptyDataFolder_CreatesTheDemoChainAndPrintsLogins()
    {
        var (code, output) = await RunAsync("seed-demo", "--data", _dataDir);
        Assert.True(code == 0, output);
        Assert.Contains("cashier1", output);
        Assert.Contains("patron-demo", output);
        Assert.Matches("ptk_[0-9a-f]{16}_", output);

        var options = new DbContextOptionsBuilder<PatronDb>();
        DatabaseSettings.Resolve(null, _dataDir).Apply(options);
        await using (var db = new PatronDb(options.Options))
        {
            Assert.Equal(200, await db.Members.CountAsync(TestContext.Current.CancellationToken));
            Assert.Equal(3, await db.Stores.CountAsync(TestContext.Current.CancellationToken));
            Assert.Equal(5, await db.Staff.Select(s => s.Role).Distinct().CountAsync(TestContext.Current.CancellationToken));
            Assert.Equal(200, await db.Members.Select(m => m.Mobile).Distinct().CountAsync(TestContext.Current.CancellationToken));

            // The demo runs the P1 reference program, with a week of purchases that earned points.
            var version = await db.ProgramVersions.SingleAsync(TestContext.Current.CancellationToken);
            Assert.Equal(Patron.Domain.Programs.ProgramVersionStatus.Published, version.Status);
            Assert.True(await db.Sales.CountAsync(TestContext.Current.CancellationToken) > 100);
            var ledger = await db.PointsEntries.SumAsync(e => e.Points, TestContext.Current.CancellationToken);
            Assert.True(ledger > 0);
            Assert.Equal(ledger, await db.MemberAccounts.SumAsync(a => a.Balance, TestContext.Current.CancellationToken));
        }

        var (again, againOutput) = await RunAsync("seed-demo", "--data", _dataDir);
        Assert.NotEqual(0, again);
        Assert.Contains("empty database", againOutput);

        var (migrate, migrateOutput) = await RunAsync("migrate", "--data", _dataDir);
        Assert.True(migrate == 0, migrateOutput);
    }

    [Fact]
    public async Task UnknownCommand_PrintsUsage_AndFails()
    {
        var (code, output) = await RunAsync("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("seed-demo", output);
        var (help, helpOutput) = await RunAsync("help");
        Assert.Equal(0, help);
        Assert.Contains("usage: patron", helpOutput);
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var server = Path.Combine(AppContext.BaseDirectory, "Patron.Server.dll");
        var psi = new ProcessStartInfo("dotnet", [server, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.Environment.Remove("PATRON_DB");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, await stdout + await stderr);
    }
}
