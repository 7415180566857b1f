using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Patron.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Which database Patron talks to. Nothing given: a SQLite file in the data folder.
/// "Host=…" (an Npgsql connection string): PostgreSQL. Anything else: a SQLite file path or
/// a SQLite connection string.
/// </summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string ConnectionString)
{
    public static string DefaultDataDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "patron");

    public static DatabaseSettings Resolve(string? db, string? dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(db))
        {
            if (db.Contains("Host=", StringComparison.OrdinalIgnoreCase) || db.Contains("Server=", StringComparison.OrdinalIgnoreCase))
            {
                return new(DatabaseProvider.Postgres, db);
            }

            return db.Contains("Data Source=", StringComparison.OrdinalIgnoreCase)
                ? new(DatabaseProvider.Sqlite, db)
                : SqliteFile(db);
        }

        var dir = string.IsNullOrWhiteSpace(dataDirectory) ? DefaultDataDirectory : dataDirectory;
        Directory.CreateDirectory(dir);
        return SqliteFile(Path.Combine(dir, "patron.db"));
    }

    public static DatabaseSettings SqliteFile(string path) =>
        new(DatabaseProvider.Sqlite, $"Data Source={Path.GetFullPath(path)};Pooling=True;Default Timeout=30");

    /// <summary>Configures EF Core for this provider. Used by the server, the CLI and the tests.</summary>
    public void Apply(DbContextOptionsBuilder options)
    {
        if (Provider == DatabaseProvider.Postgres)
        {
            options.UseNpgsql(ConnectionString);
        }
        else
        {
            options.UseSqlite(ConnectionString);
        }

        // Migrations are written by hand and carry no model snapshot; the schema-parity test
        // proves instead that the migrated schema equals the model (docs/decisions/0002).
        options.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
    }

    /// <summary>A description safe for logs: provider and target, never a password.</summary>
    public string Describe()
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            return "SQLite " + ConnectionString.Split(';')[0]["Data Source=".Length..];
        }

        var parts = ConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.TrimStart().StartsWith("Password", StringComparison.OrdinalIgnoreCase));
        return "PostgreSQL " + string.Join(';', parts);
    }
}
