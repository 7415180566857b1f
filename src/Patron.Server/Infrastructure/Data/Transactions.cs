using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Infrastructure.Data;

/// <summary>
/// Runs a unit of work in one transaction and retries it from the start when the database says
/// it lost a race: a serialization failure or deadlock on PostgreSQL, a busy or locked file on
/// SQLite, or two first writes racing for the same member account. Anything else propagates.
/// After the last attempt a lost race is answered 503 with a retryable code, never a 500.
/// </summary>
public static class Transactions
{
    public const int Attempts = 5;

    public static async Task<T> RunAsync<T>(PatronDb db, Func<CancellationToken, Task<T>> work, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            // Part of a larger unit of work (an idempotent request): the outer owner commits and retries.
            var inner = await work(ct);
            await db.SaveChangesAsync(ct);
            return inner;
        }

        for (var attempt = 1; ; attempt++)
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            try
            {
                var result = await work(ct);
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
                return result;
            }
            catch (Exception e) when (IsLostRace(e))
            {
                await tx.RollbackAsync(CancellationToken.None);
                db.ChangeTracker.Clear();
                if (attempt == Attempts)
                {
                    throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "db.busy", "The database is busy; retry the request with the same Idempotency-Key.");
                }

                await Task.Delay(Random.Shared.Next(5, 20 * attempt), ct);
            }
            catch
            {
                await tx.RollbackAsync(CancellationToken.None);
                db.ChangeTracker.Clear();
                throw;
            }
        }
    }

    /// <summary>A unique index refused the write: <paramref name="index"/> on PostgreSQL, a column of it (table.column) on SQLite, which names columns only.</summary>
    public static bool IsUniqueViolation(Exception e, string index, string sqliteColumn)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg && pg.ConstraintName == index
                || x is SqliteException { SqliteErrorCode: 19 } sq && sq.Message.Contains("UNIQUE", StringComparison.Ordinal) && sq.Message.Contains(sqliteColumn, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsLostRace(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case PostgresException pg when pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected:
                case PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "PK_member_accounts" }:
                case SqliteException { SqliteErrorCode: 5 or 6 }: // SQLITE_BUSY, SQLITE_LOCKED
                case SqliteException { SqliteErrorCode: 19 } sq when sq.Message.Contains("member_accounts.member_id", StringComparison.Ordinal):
                    return true;
            }
        }

        return false;
    }
}
