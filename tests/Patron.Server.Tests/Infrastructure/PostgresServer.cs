using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Patron.Server.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server for this test run: the one named by PATRON_TEST_PG, or a throwaway
/// cluster started from Debian's binaries on a free loopback port and removed afterwards.
/// With PATRON_REQUIRE_POSTGRES=1 a missing PostgreSQL fails the tests instead of skipping them.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string? _dir;
    private string? _binDir;
    private bool _asPostgresUser;

    /// <summary>Connection string of the maintenance database, or null when PostgreSQL is not available.</summary>
    public string? AdminConnectionString { get; private set; }

    public string? UnavailableReason { get; private set; }

    public static bool Required => Environment.GetEnvironmentVariable("PATRON_REQUIRE_POSTGRES") == "1";

    public async ValueTask InitializeAsync()
    {
        var given = Environment.GetEnvironmentVariable("PATRON_TEST_PG");
        if (!string.IsNullOrWhiteSpace(given))
        {
            AdminConnectionString = given;
            return;
        }

        _binDir = FindBinDir();
        if (_binDir is null)
        {
            UnavailableReason = "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql) and PATRON_TEST_PG is not set.";
            return;
        }

        _dir = Path.Combine(Path.GetTempPath(), $"patron-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(_dir);
        var data = Path.Combine(_dir, "data");
        _asPostgresUser = Environment.UserName == "root";
        if (_asPostgresUser)
        {
            // initdb refuses to run as root: the cluster belongs to the postgres user.
            await RunAsync("chown", ["-R", "postgres:postgres", _dir], asPostgres: false);
        }

        await RunAsync(Path.Combine(_binDir, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        var port = FreePort();
        var options = $"-p {port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
        await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", data, "-o", options, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "start"]);
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=20";
    }

    /// <summary>A new empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        if (AdminConnectionString is null)
        {
            if (Required)
            {
                throw new InvalidOperationException("PATRON_REQUIRE_POSTGRES=1 but " + UnavailableReason);
            }

            Assert.Skip(UnavailableReason ?? "PostgreSQL is not available.");
        }

        var name = "patron_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(AdminConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_dir is null || _binDir is null)
        {
            return;
        }

        try
        {
            await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static string? FindBinDir()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(x => File.Exists(Path.Combine(x.Dir, "initdb")))
            .OrderByDescending(x => x.Version)
            .Select(x => x.Dir)
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task RunAsync(string file, string[] args) => RunAsync(file, args, _asPostgresUser);

    private static async Task RunAsync(string file, string[] args, bool asPostgres)
    {
        var psi = asPostgres ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. args]) : new ProcessStartInfo(file, args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
