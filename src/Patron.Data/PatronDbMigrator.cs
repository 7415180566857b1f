using Microsoft.EntityFrameworkCore;

namespace Patron.Data;

public static class PatronDbMigrator
{
    /// <summary>
    /// Applies pending migrations. EF Core holds a database lock while it migrates, so several
    /// nodes starting together on one PostgreSQL apply each migration once.
    /// </summary>
    public static async Task MigrateAsync(PatronDb db, CancellationToken ct = default)
    {
        if (!db.IsPostgres)
        {
            // WAL lets readers go on while one writer commits; the setting lives in the file.
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }

        await db.Database.MigrateAsync(ct);
    }
}
