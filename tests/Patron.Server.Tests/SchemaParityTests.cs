using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Data;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>
/// The hand-written migrations must build exactly the schema the EF model describes: tables,
/// columns (type, nullability, identity), keys, foreign keys with their delete rules, and
/// indexes with their uniqueness. One database is migrated, another created from the model,
/// and their catalogues are compared line by line.
/// </summary>
public abstract class SchemaParityTests
{
    protected abstract Task<(DatabaseSettings Migrated, DatabaseSettings FromModel)> CreateDatabasesAsync();

    protected abstract Task<List<string>> DescribeAsync(DbConnection connection);

    [Fact]
    public async Task Migrations_BuildTheSameSchemaAsTheModel()
    {
        var (migrated, fromModel) = await CreateDatabasesAsync();
        await using (var db = Open(migrated))
        {
            await PatronDbMigrator.MigrateAsync(db, TestContext.Current.CancellationToken);
        }

        await using (var db = Open(fromModel))
        {
            await db.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);
        }

        var a = await DescribeAsync(migrated);
        var b = await DescribeAsync(fromModel);
        Assert.NotEmpty(a);
        Assert.Contains(a, line => line.Contains("id_number_hash", StringComparison.Ordinal));
        Assert.Equal(b, a);
    }

    [Fact]
    public async Task Migrate_Twice_IsANoOp()
    {
        var (migrated, _) = await CreateDatabasesAsync();
        await using var db = Open(migrated);
        await PatronDbMigrator.MigrateAsync(db, TestContext.Current.CancellationToken);
        var before = await DescribeAsync(migrated);
        await PatronDbMigrator.MigrateAsync(db, TestContext.Current.CancellationToken);
        Assert.Equal(before, await DescribeAsync(migrated));
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
    }

    private static PatronDb Open(DatabaseSettings settings)
    {
        var options = new DbContextOptionsBuilder<PatronDb>();
        settings.Apply(options);
        return new PatronDb(options.Options);
    }

    private async Task<List<string>> DescribeAsync(DatabaseSettings settings)
    {
        await using DbConnection connection = settings.Provider == DatabaseProvider.Postgres
            ? new NpgsqlConnection(settings.ConnectionString)
            : new SqliteConnection(settings.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var lines = await DescribeAsync(connection);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    protected static async Task<List<string>> QueryAsync(DbConnection connection, string sql)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        await using var reader = await cmd.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var lines = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            lines.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i).ToString())));
        }

        return lines;
    }
}

public sealed class SchemaParitySqliteTests : SchemaParityTests, IDisposable
{
    private readonly List<string> _files = [];

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in _files.SelectMany(f => new[] { f, f + "-wal", f + "-shm" }).Where(File.Exists))
        {
            File.Delete(f);
        }
    }

    protected override Task<(DatabaseSettings, DatabaseSettings)> CreateDatabasesAsync()
    {
        DatabaseSettings New()
        {
            var file = Path.Combine(Path.GetTempPath(), $"patron-schema-{Guid.NewGuid():N}.db");
            _files.Add(file);
            return DatabaseSettings.SqliteFile(file);
        }

        return Task.FromResult((New(), New()));
    }

    protected override async Task<List<string>> DescribeAsync(DbConnection connection)
    {
        var lines = new List<string>();
        var tables = await QueryAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__EFMigrations%'");
        foreach (var table in tables)
        {
            lines.AddRange((await QueryAsync(connection, $"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}')")).Select(l => $"{table}.column {l}"));
            lines.AddRange((await QueryAsync(connection, $"SELECT \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list('{table}')")).Select(l => $"{table}.fk {l}"));
            foreach (var index in await QueryAsync(connection, $"SELECT name, \"unique\", origin, partial FROM pragma_index_list('{table}')"))
            {
                var name = index.Split(" | ")[0];
                var columns = string.Join(",", await QueryAsync(connection, $"SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"));
                lines.Add($"{table}.index {index} ({columns})");
            }

            var sql = (await QueryAsync(connection, $"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'")).Single();
            lines.Add($"{table}.autoincrement {sql.Contains("AUTOINCREMENT", StringComparison.OrdinalIgnoreCase)}");
        }

        return lines;
    }
}

public sealed class SchemaParityPostgresTests(PostgresServer pg) : SchemaParityTests
{
    protected override async Task<(DatabaseSettings, DatabaseSettings)> CreateDatabasesAsync() =>
        (new(DatabaseProvider.Postgres, await pg.CreateDatabaseAsync()), new(DatabaseProvider.Postgres, await pg.CreateDatabaseAsync()));

    protected override async Task<List<string>> DescribeAsync(DbConnection connection)
    {
        var lines = new List<string>();
        lines.AddRange((await QueryAsync(connection, """
            SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default, is_identity, identity_generation
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\_\_EFMigrations%'
            """)).Select(l => "column " + l));
        lines.AddRange((await QueryAsync(connection, """
            SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '"\_\_EFMigrations%'
            """)).Select(l => "constraint " + l));
        lines.AddRange((await QueryAsync(connection, """
            SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE '\_\_EFMigrations%'
            """)).Select(l => "index " + l));
        return lines;
    }
}
