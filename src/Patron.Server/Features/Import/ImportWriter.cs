using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.StoredValue;
using Patron.Domain.Tiers;

namespace Patron.Server.Features.Import;

/// <summary>
/// Writes one chunk of checked members, with their card, account, tier history, points and
/// stored-value ledgers, the chunk's refused rows and the job's progress, in one transaction:
/// COPY on PostgreSQL, prepared inserts on SQLite. Ids come from the tables' sequences (SQLite:
/// after the largest id, under the write lock the transaction holds).
/// </summary>
internal sealed class ImportWriter(PatronDb db, Domain.Programs.ProgramDefinition? rules, TimeZoneInfo zone, DateTime nowUtc, long? staffId)
{
    private sealed record Column(string Name, NpgsqlDbType Type);

    private static readonly Column[] MemberColumns =
    [
        new("id", NpgsqlDbType.Bigint), new("program_id", NpgsqlDbType.Bigint), new("name", NpgsqlDbType.Varchar), new("mobile", NpgsqlDbType.Varchar),
        new("mobile_tail", NpgsqlDbType.Varchar), new("gender", NpgsqlDbType.Integer), new("birthday", NpgsqlDbType.Date), new("id_number_hash", NpgsqlDbType.Varchar),
        new("id_number_cipher", NpgsqlDbType.Varchar), new("id_number_tail", NpgsqlDbType.Varchar), new("enrol_store_id", NpgsqlDbType.Bigint), new("enrol_staff_id", NpgsqlDbType.Bigint),
        new("channel", NpgsqlDbType.Varchar), new("enrolled_at", NpgsqlDbType.TimestampTz), new("status", NpgsqlDbType.Integer),
    ];

    private static readonly Column[] CardColumns =
    [
        new("program_id", NpgsqlDbType.Bigint), new("member_id", NpgsqlDbType.Bigint), new("number", NpgsqlDbType.Varchar),
        new("kind", NpgsqlDbType.Integer), new("status", NpgsqlDbType.Integer), new("issued_store_id", NpgsqlDbType.Bigint), new("issued_at", NpgsqlDbType.TimestampTz),
        new("valid_until", NpgsqlDbType.TimestampTz), new("anonymous", NpgsqlDbType.Boolean),
    ];

    private static readonly Column[] AccountColumns =
    [
        new("member_id", NpgsqlDbType.Bigint), new("program_id", NpgsqlDbType.Bigint), new("balance", NpgsqlDbType.Bigint), new("debt", NpgsqlDbType.Bigint),
        new("tier", NpgsqlDbType.Varchar), new("tier_since", NpgsqlDbType.TimestampTz), new("cumulative_earned", NpgsqlDbType.Bigint), new("cumulative_spend", NpgsqlDbType.Bigint),
        new("largest_purchase", NpgsqlDbType.Bigint), new("largest_top_up", NpgsqlDbType.Bigint), new("spend_year", NpgsqlDbType.Integer), new("year_spend", NpgsqlDbType.Bigint),
        new("tier_base_earned", NpgsqlDbType.Bigint), new("tier_base_spend", NpgsqlDbType.Bigint), new("row_version", NpgsqlDbType.Bigint),
        new("annual_fee_paid", NpgsqlDbType.Bigint), new("stored_principal", NpgsqlDbType.Bigint), new("stored_bonus", NpgsqlDbType.Bigint),
    ];

    private static readonly Column[] TierChangeColumns =
    [
        new("member_id", NpgsqlDbType.Bigint), new("to_tier", NpgsqlDbType.Varchar), new("reason", NpgsqlDbType.Integer),
        new("at", NpgsqlDbType.TimestampTz), new("staff_id", NpgsqlDbType.Bigint), new("note", NpgsqlDbType.Varchar),
    ];

    private static readonly Column[] LotColumns =
    [
        new("id", NpgsqlDbType.Bigint), new("member_id", NpgsqlDbType.Bigint), new("earned_at", NpgsqlDbType.TimestampTz), new("expires_at", NpgsqlDbType.TimestampTz),
        new("points", NpgsqlDbType.Bigint), new("remaining", NpgsqlDbType.Bigint), new("store_id", NpgsqlDbType.Bigint),
    ];

    private static readonly Column[] EntryColumns =
    [
        new("member_id", NpgsqlDbType.Bigint), new("points", NpgsqlDbType.Bigint), new("cause", NpgsqlDbType.Integer),
        new("at", NpgsqlDbType.TimestampTz), new("reference", NpgsqlDbType.Varchar), new("lot_id", NpgsqlDbType.Bigint), new("debt_incurred", NpgsqlDbType.Bigint),
        new("debt_repaid", NpgsqlDbType.Bigint), new("staff_id", NpgsqlDbType.Bigint),
    ];

    private static readonly Column[] PurseLotColumns =
    [
        new("id", NpgsqlDbType.Bigint), new("member_id", NpgsqlDbType.Bigint), new("program_id", NpgsqlDbType.Bigint), new("store_id", NpgsqlDbType.Bigint),
        new("issued_at", NpgsqlDbType.TimestampTz), new("principal", NpgsqlDbType.Bigint), new("bonus", NpgsqlDbType.Bigint), new("principal_left", NpgsqlDbType.Bigint),
        new("bonus_left", NpgsqlDbType.Bigint),
    ];

    private static readonly Column[] PurseEntryColumns =
    [
        new("member_id", NpgsqlDbType.Bigint), new("program_id", NpgsqlDbType.Bigint), new("lot_id", NpgsqlDbType.Bigint),
        new("cause", NpgsqlDbType.Integer), new("principal", NpgsqlDbType.Bigint), new("bonus", NpgsqlDbType.Bigint), new("store_id", NpgsqlDbType.Bigint),
        new("at", NpgsqlDbType.TimestampTz), new("reference", NpgsqlDbType.Varchar), new("staff_id", NpgsqlDbType.Bigint),
    ];

    private static readonly Column[] ErrorColumns =
    [
        new("job_id", NpgsqlDbType.Bigint), new("row", NpgsqlDbType.Integer), new("column", NpgsqlDbType.Varchar), new("code", NpgsqlDbType.Varchar), new("message", NpgsqlDbType.Varchar),
    ];

    private const string Reference = "import";

    /// <summary>Makes sure generated card numbers stay above every number in the file.</summary>
    public async Task KeepSequenceAboveAsync(long programId, long sequence, CancellationToken ct) =>
        await db.Database.ExecuteSqlAsync($"UPDATE programs SET card_sequence = {sequence} WHERE id = {programId} AND card_sequence < {sequence}", ct);

    /// <summary>A chunk's rows for each table, ready to copy, with its refused rows and the job's progress after it.</summary>
    public sealed record Batch(
        List<object?[]> Members, List<object?[]> Cards, List<object?[]> Accounts, List<object?[]> Tiers, List<object?[]> Lots, List<object?[]> Entries,
        List<object?[]> Purses, List<object?[]> PurseEntries, List<object?[]> Errors, IReadOnlyList<long> StoreIds, int Good, int Refused, int RowsThrough, double Fraction);

    /// <summary>
    /// Turns checked rows into table rows: ids from the tables' sequences and card numbers from the
    /// program's, taken on <paramref name="source"/> outside the write (a chunk that fails leaves
    /// a gap, nothing else), so the next chunk is prepared while this one is written.
    /// </summary>
    /// <param name="ids">The rows' ID numbers, encrypted (null where a row has none).</param>
    public async Task<Batch> PrepareAsync(PatronDb source, long jobId, long programId, string cardPrefix, List<MemberRow> rows, ProtectedIdNumber?[] ids, List<RowError> errors,
        int rowsThrough, double fraction, CancellationToken ct)
    {
        var withPoints = rows.Count(r => r.Points > 0);
        var withPurse = rows.Count(r => r.StoredPrincipal + r.StoredBonus > 0);
        var memberIds = await IdsAsync(source, "members", rows.Count, ct);
        var lotIds = await IdsAsync(source, "points_lots", withPoints, ct);
        var purseIds = await IdsAsync(source, "stored_value_lots", withPurse, ct);
        var generated = rows.Count(r => r.CardNumber is null);
        var lastSequence = generated == 0 ? 0 : (await source.Database
            .SqlQuery<long>($"UPDATE programs SET card_sequence = card_sequence + {generated} WHERE id = {programId} RETURNING card_sequence AS \"Value\"")
            .ToListAsync(ct)).Single();
        var nextSequence = lastSequence - generated + 1;

        var members = new List<object?[]>(rows.Count);
        var cards = new List<object?[]>(rows.Count);
        var accounts = new List<object?[]>(rows.Count);
        var tiers = new List<object?[]>(rows.Count);
        var lots = new List<object?[]>(withPoints);
        var entries = new List<object?[]>(withPoints);
        var purses = new List<object?[]>(withPurse);
        var purseEntries = new List<object?[]>(withPurse);
        var validUntil = rules?.Cards.Validity.Until(nowUtc);
        var entryTier = rules?.EntryTier?.Code;
        int p = 0, s = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var id = memberIds[i];
            var pid = ids[i];
            members.Add([id, programId, r.Name, r.Mobile, r.Mobile[^4..], (int)r.Gender, r.Birthday, pid?.Hash, pid?.Cipher, pid?.Tail, r.StoreId, staffId, r.Channel, r.EnrolledAt, (int)MemberStatus.Active]);
            var number = r.CardNumber ?? CardNumber.Compose(cardPrefix, nextSequence++);
            cards.Add([programId, id, number, (int)(r.CardNumber is null ? CardKind.Virtual : CardKind.Physical), (int)CardStatus.Active, r.StoreId, nowUtc, validUntil, false]);
            var tier = r.Tier ?? entryTier;
            accounts.Add([id, programId, r.Points, 0L, tier, nowUtc, 0L, 0L, 0L, 0L, 0, 0L, 0L, 0L, 1L, 0L, r.StoredPrincipal, r.StoredBonus]);
            tiers.Add([id, tier, (int)(r.Tier is null ? TierChangeReason.Enrolment : TierChangeReason.Import), nowUtc, staffId, Reference]);
            if (r.Points > 0)
            {
                var expires = MemberImporter.ExpiryOf(r, rules, nowUtc, zone);
                lots.Add([lotIds[p], id, nowUtc, expires, r.Points, r.Points, r.StoreId]);
                entries.Add([id, r.Points, (int)PointsCause.Import, nowUtc, Reference, lotIds[p], 0L, 0L, staffId]);
                p++;
            }

            if (r.StoredPrincipal + r.StoredBonus > 0)
            {
                purses.Add([purseIds[s], id, programId, r.StoreId, nowUtc, r.StoredPrincipal, r.StoredBonus, r.StoredPrincipal, r.StoredBonus]);
                purseEntries.Add([id, programId, purseIds[s], (int)StoredValueCause.Import, r.StoredPrincipal, r.StoredBonus, r.StoreId, nowUtc, Reference, staffId]);
                s++;
            }
        }

        var errorRows = errors.Select(e => new object?[] { jobId, e.Row, e.Column, e.Code, e.Message.Length > 300 ? e.Message[..300] : e.Message }).ToList();
        return new Batch(members, cards, accounts, tiers, lots, entries, purses, purseEntries, errorRows, [.. rows.Select(r => r.StoreId).Distinct()],
            rows.Count, errors.Select(e => e.Row).Distinct().Count(), rowsThrough, fraction);
    }

    /// <summary>Copies a prepared chunk and records the job's progress, in one transaction.</summary>
    public async Task WriteAsync(ImportJob job, long programId, Batch b, CancellationToken ct)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(async () =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var conn = db.Database.GetDbConnection();
            if (conn is NpgsqlConnection)
            {
                // A chunk lost in a crash is imported again on resume: no need to wait for its WAL.
                await db.Database.ExecuteSqlRawAsync("SET LOCAL synchronous_commit = off", ct);
                if (await CanSkipTriggersAsync(ct))
                {
                    // Every row of the chunk refers to the program, its stores and rows of this
                    // same chunk, all checked here: the per-row foreign-key triggers only cost time.
                    await db.Database.ExecuteSqlRawAsync("SET LOCAL session_replication_role = replica", ct);
                    await EnsureStoresExistAsync(b.StoreIds, programId, ct);
                }
            }

            var dbTx = tx.GetDbTransaction();
            await WriteTableAsync(conn, dbTx, "members", MemberColumns, b.Members, ct);
            await WriteTableAsync(conn, dbTx, "cards", CardColumns, b.Cards, ct);
            await WriteTableAsync(conn, dbTx, "member_accounts", AccountColumns, b.Accounts, ct);
            await WriteTableAsync(conn, dbTx, "tier_changes", TierChangeColumns, b.Tiers, ct);
            await WriteTableAsync(conn, dbTx, "points_lots", LotColumns, b.Lots, ct);
            await WriteTableAsync(conn, dbTx, "points_entries", EntryColumns, b.Entries, ct);
            await WriteTableAsync(conn, dbTx, "stored_value_lots", PurseLotColumns, b.Purses, ct);
            await WriteTableAsync(conn, dbTx, "stored_value_entries", PurseEntryColumns, b.PurseEntries, ct);
            await WriteTableAsync(conn, dbTx, "import_errors", ErrorColumns, b.Errors, ct);

            job.DoneRows = b.RowsThrough;
            job.Imported += b.Good;
            job.Rejected += b.Refused;
            job.UpdatedAt = DateTime.UtcNow;
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        });
    }

    private bool? _superuser;

    /// <summary>Whether the database role may turn off row triggers for the transaction (a superuser).</summary>
    private async Task<bool> CanSkipTriggersAsync(CancellationToken ct) =>
        _superuser ??= await db.Database.SqlQueryRaw<bool>("SELECT rolsuper AS \"Value\" FROM pg_roles WHERE rolname = current_user").SingleAsync(ct);

    private async Task EnsureStoresExistAsync(IReadOnlyList<long> ids, long programId, CancellationToken ct)
    {
        var found = await db.Stores.CountAsync(s => ids.Contains(s.Id) && s.ProgramId == programId, ct);
        if (found != ids.Count)
        {
            throw new InvalidOperationException("A store of the import is not in the program any more.");
        }
    }

    private readonly Dictionary<string, long> _lastId = [];

    /// <summary>
    /// <paramref name="count"/> new ids for <paramref name="table"/> (one of the fixed table names
    /// above): from its sequence on PostgreSQL; on SQLite after both the largest id and the last
    /// one this import handed out (a chunk may be prepared before the previous one commits).
    /// </summary>
    private async Task<long[]> IdsAsync(PatronDb source, string table, int count, CancellationToken ct)
    {
        if (count == 0)
        {
            return [];
        }

        if (source.Database.IsNpgsql())
        {
            // One literal query per table (the table name is never a parameter, and never concatenated).
            FormattableString sql = table switch
            {
                "members" => $"SELECT nextval(pg_get_serial_sequence('members', 'id')) AS \"Value\" FROM generate_series(1, {count})",
                "points_lots" => $"SELECT nextval(pg_get_serial_sequence('points_lots', 'id')) AS \"Value\" FROM generate_series(1, {count})",
                "stored_value_lots" => $"SELECT nextval(pg_get_serial_sequence('stored_value_lots', 'id')) AS \"Value\" FROM generate_series(1, {count})",
                _ => throw new ArgumentOutOfRangeException(nameof(table)),
            };
            return [.. await source.Database.SqlQuery<long>(sql).ToListAsync(ct)];
        }

        FormattableString maxSql = table switch
        {
            "members" => $"SELECT COALESCE(MAX(id), 0) AS \"Value\" FROM members",
            "points_lots" => $"SELECT COALESCE(MAX(id), 0) AS \"Value\" FROM points_lots",
            "stored_value_lots" => $"SELECT COALESCE(MAX(id), 0) AS \"Value\" FROM stored_value_lots",
            _ => throw new ArgumentOutOfRangeException(nameof(table)),
        };
        var max = Math.Max(_lastId.GetValueOrDefault(table), await source.Database.SqlQuery<long>(maxSql).SingleAsync(ct));
        _lastId[table] = max + count;
        return [.. Enumerable.Range(1, count).Select(i => max + i)];
    }

    private static async Task WriteTableAsync(DbConnection conn, DbTransaction tx, string table, Column[] columns, List<object?[]> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var names = string.Join(", ", columns.Select(c => '"' + c.Name + '"'));
        if (conn is NpgsqlConnection pg)
        {
            // Typed, synchronous writes: resolving a boxed value's type per field costs more than the COPY itself.
            await using var w = await pg.BeginBinaryImportAsync($"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)", ct);
            foreach (var row in rows)
            {
                w.StartRow();
                for (var c = 0; c < columns.Length; c++)
                {
                    var type = columns[c].Type;
                    switch (row[c])
                    {
                        case null:
                            w.WriteNull();
                            break;
                        case long v:
                            w.Write(v, type);
                            break;
                        case int v:
                            w.Write(v, type);
                            break;
                        case string v:
                            w.Write(v, type);
                            break;
                        case bool v:
                            w.Write(v, type);
                            break;
                        case DateTime v:
                            w.Write(v, type);
                            break;
                        case DateOnly v:
                            w.Write(v, type);
                            break;
                        default:
                            throw new InvalidOperationException($"{table}.{columns[c].Name}: no writer for {row[c]!.GetType().Name}.");
                    }
                }
            }

            await w.CompleteAsync(ct);
            return;
        }

        await using var cmd = ((SqliteConnection)conn).CreateCommand();
        cmd.Transaction = (SqliteTransaction)tx;
        cmd.CommandText = $"INSERT INTO {table} ({names}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
        var parameters = columns.Select((_, i) => cmd.Parameters.Add(new SqliteParameter("$p" + i, null))).ToArray();
        cmd.Prepare();
        foreach (var row in rows)
        {
            for (var c = 0; c < columns.Length; c++)
            {
                parameters[c].Value = row[c] ?? DBNull.Value;
            }

            await cmd.ExecuteNonQueryAsync(ct);
        }
    }
}
