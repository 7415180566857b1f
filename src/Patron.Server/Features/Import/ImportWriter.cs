using System.Buffers;
using System.Buffers.Binary;
using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
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
    private static readonly string[] MemberColumns =
    [
        "id", "program_id", "name", "mobile", "mobile_tail", "gender", "birthday", "id_number_hash", "id_number_cipher", "id_number_tail",
        "enrol_store_id", "enrol_staff_id", "channel", "enrolled_at", "status",
    ];

    private static readonly string[] CardColumns = ["program_id", "member_id", "number", "kind", "status", "issued_store_id", "issued_at", "valid_until", "anonymous"];

    private static readonly string[] AccountColumns =
    [
        "member_id", "program_id", "balance", "debt", "tier", "tier_since", "cumulative_earned", "cumulative_spend", "largest_purchase", "largest_top_up",
        "spend_year", "year_spend", "tier_base_earned", "tier_base_spend", "row_version", "annual_fee_paid", "stored_principal", "stored_bonus",
    ];

    private static readonly string[] TierChangeColumns = ["member_id", "to_tier", "reason", "at", "staff_id", "note"];

    private static readonly string[] LotColumns = ["id", "member_id", "earned_at", "expires_at", "points", "remaining", "store_id"];

    private static readonly string[] EntryColumns = ["member_id", "points", "cause", "at", "reference", "lot_id", "debt_incurred", "debt_repaid", "staff_id"];

    private static readonly string[] PurseLotColumns = ["id", "member_id", "program_id", "store_id", "issued_at", "principal", "bonus", "principal_left", "bonus_left"];

    private static readonly string[] PurseEntryColumns = ["member_id", "program_id", "lot_id", "cause", "principal", "bonus", "store_id", "at", "reference", "staff_id"];

    private static readonly string[] ErrorColumns = ["job_id", "row", "column", "code", "message"];

    private const string Reference = "import";

    /// <summary>Makes sure generated card numbers stay above every number in the file.</summary>
    public async Task KeepSequenceAboveAsync(long programId, long sequence, CancellationToken ct) =>
        await db.Database.ExecuteSqlAsync($"UPDATE programs SET card_sequence = {sequence} WHERE id = {programId} AND card_sequence < {sequence}", ct);

    /// <summary>
    /// A chunk ready to write: its checked rows with their ids, encrypted ID numbers and card
    /// sequence, its refused rows, and the job's progress after it. The table rows are written
    /// straight from these, so a chunk waiting for its turn holds little more than its members.
    /// </summary>
    public sealed class Batch
    {
        internal Batch(long jobId, string cardPrefix, List<MemberRow> rows, long[] memberIds, ProtectedIdNumber?[] idNumbers, long firstGeneratedSequence,
            int[] withPoints, long[] lotIds, int[] withPurse, long[] purseIds, List<RowError> errors, int rowsThrough, double fraction)
        {
            (JobId, CardPrefix, Rows, MemberIds, IdNumbers, FirstGeneratedSequence) = (jobId, cardPrefix, rows, memberIds, idNumbers, firstGeneratedSequence);
            (WithPoints, LotIds, WithPurse, PurseIds, Errors, RowsThrough, Fraction) = (withPoints, lotIds, withPurse, purseIds, errors, rowsThrough, fraction);
            StoreIds = [.. rows.Select(r => r.StoreId).Distinct()];
            Refused = errors.Select(e => e.Row).Distinct().Count();
        }

        internal long JobId { get; }

        internal string CardPrefix { get; }

        internal List<MemberRow> Rows { get; }

        internal long[] MemberIds { get; }

        internal ProtectedIdNumber?[] IdNumbers { get; }

        /// <summary>The program's card sequence for the chunk's first member without a card; the next ones follow in order.</summary>
        internal long FirstGeneratedSequence { get; }

        /// <summary>Positions in <see cref="Rows"/> of the members with legacy points, one points lot each (<see cref="LotIds"/>).</summary>
        internal int[] WithPoints { get; }

        internal long[] LotIds { get; }

        /// <summary>Positions in <see cref="Rows"/> of the members with stored value, one purse lot each (<see cref="PurseIds"/>).</summary>
        internal int[] WithPurse { get; }

        internal long[] PurseIds { get; }

        internal List<RowError> Errors { get; }

        internal IReadOnlyList<long> StoreIds { get; }

        public int Good => Rows.Count;

        public int Refused { get; }

        public int RowsThrough { get; }

        public double Fraction { get; }
    }

    /// <summary>
    /// Draws the ids for checked rows from the tables' sequences and card numbers from the
    /// program's, on <paramref name="source"/> outside the write (a chunk that fails leaves a
    /// gap, nothing else), so the next chunk is prepared while this one is written.
    /// </summary>
    /// <param name="ids">The rows' ID numbers, encrypted (null where a row has none).</param>
    public async Task<Batch> PrepareAsync(PatronDb source, long jobId, long programId, string cardPrefix, List<MemberRow> rows, ProtectedIdNumber?[] ids, List<RowError> errors,
        int rowsThrough, double fraction, CancellationToken ct)
    {
        int[] withPoints = [.. Enumerable.Range(0, rows.Count).Where(i => rows[i].Points > 0)];
        int[] withPurse = [.. Enumerable.Range(0, rows.Count).Where(i => rows[i].StoredPrincipal + rows[i].StoredBonus > 0)];
        var memberIds = await IdsAsync(source, "members", rows.Count, ct);
        var lotIds = await IdsAsync(source, "points_lots", withPoints.Length, ct);
        var purseIds = await IdsAsync(source, "stored_value_lots", withPurse.Length, ct);
        var generated = rows.Count(r => r.CardNumber is null);
        var lastSequence = generated == 0 ? 0 : (await source.Database
            .SqlQuery<long>($"UPDATE programs SET card_sequence = card_sequence + {generated} WHERE id = {programId} RETURNING card_sequence AS \"Value\"")
            .ToListAsync(ct)).Single();
        return new Batch(jobId, cardPrefix, rows, memberIds, ids, lastSequence - generated + 1, withPoints, lotIds, withPurse, purseIds, errors, rowsThrough, fraction);
    }

    /// <summary>
    /// Copies a prepared chunk in its own transaction; then, once <paramref name="before"/> (the
    /// write of the chunk before it) has finished, records the job's progress and commits. Two
    /// chunks can be copied at once on two connections, yet they commit in file order, and a chunk
    /// whose predecessor failed rolls back, so the job's progress always covers committed rows only.
    /// </summary>
    public async Task WriteAsync(long jobId, long programId, Batch b, Task before, CancellationToken ct)
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

            await WriteTablesAsync(conn, tx.GetDbTransaction(), programId, b, ct);
            await before;
            await db.ImportJobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(
                s => s.SetProperty(j => j.DoneRows, b.RowsThrough)
                    .SetProperty(j => j.Imported, j => j.Imported + b.Good)
                    .SetProperty(j => j.Rejected, j => j.Rejected + b.Refused)
                    .SetProperty(j => j.UpdatedAt, DateTime.UtcNow),
                ct);
            await tx.CommitAsync(ct);
        });
    }

    private async Task WriteTablesAsync(DbConnection conn, DbTransaction tx, long programId, Batch b, CancellationToken ct)
    {
        var rows = b.Rows;
        var validUntil = rules?.Cards.Validity.Until(nowUtc);
        var entryTier = rules?.EntryTier?.Code;
        await CopyAsync(conn, tx, "members", MemberColumns, rows.Count, (w, i) =>
        {
            var r = rows[i];
            var pid = b.IdNumbers[i];
            w.Bigint(b.MemberIds[i]);
            w.Bigint(programId);
            w.Text(r.Name);
            w.Text(r.Mobile);
            w.Text(r.Mobile[^4..]);
            w.Integer((int)r.Gender);
            w.Date(r.Birthday);
            w.Text(pid?.Hash);
            w.Text(pid?.Cipher);
            w.Text(pid?.Tail);
            w.Bigint(r.StoreId);
            w.Bigint(staffId);
            w.Text(r.Channel);
            w.Timestamp(r.EnrolledAt);
            w.Integer((int)MemberStatus.Active);
        }, ct);

        var sequence = b.FirstGeneratedSequence;
        await CopyAsync(conn, tx, "cards", CardColumns, rows.Count, (w, i) =>
        {
            var r = rows[i];
            w.Bigint(programId);
            w.Bigint(b.MemberIds[i]);
            w.Text(r.CardNumber ?? CardNumber.Compose(b.CardPrefix, sequence++));
            w.Integer((int)(r.CardNumber is null ? CardKind.Virtual : CardKind.Physical));
            w.Integer((int)CardStatus.Active);
            w.Bigint(r.StoreId);
            w.Timestamp(nowUtc);
            w.Timestamp(validUntil);
            w.Boolean(false);
        }, ct);

        await CopyAsync(conn, tx, "member_accounts", AccountColumns, rows.Count, (w, i) =>
        {
            var r = rows[i];
            w.Bigint(b.MemberIds[i]);
            w.Bigint(programId);
            w.Bigint(r.Points); // balance
            w.Bigint(0); // debt
            w.Text(r.Tier ?? entryTier);
            w.Timestamp(nowUtc); // tier_since
            w.Bigint(0); // cumulative_earned
            w.Bigint(0); // cumulative_spend
            w.Bigint(0); // largest_purchase
            w.Bigint(0); // largest_top_up
            w.Integer(0); // spend_year
            w.Bigint(0); // year_spend
            w.Bigint(0); // tier_base_earned
            w.Bigint(0); // tier_base_spend
            w.Bigint(1); // row_version
            w.Bigint(0); // annual_fee_paid
            w.Bigint(r.StoredPrincipal);
            w.Bigint(r.StoredBonus);
        }, ct);

        await CopyAsync(conn, tx, "tier_changes", TierChangeColumns, rows.Count, (w, i) =>
        {
            var r = rows[i];
            w.Bigint(b.MemberIds[i]);
            w.Text(r.Tier ?? entryTier);
            w.Integer((int)(r.Tier is null ? TierChangeReason.Enrolment : TierChangeReason.Import));
            w.Timestamp(nowUtc);
            w.Bigint(staffId);
            w.Text(Reference);
        }, ct);

        await CopyAsync(conn, tx, "points_lots", LotColumns, b.WithPoints.Length, (w, k) =>
        {
            var i = b.WithPoints[k];
            var r = rows[i];
            w.Bigint(b.LotIds[k]);
            w.Bigint(b.MemberIds[i]);
            w.Timestamp(nowUtc);
            w.Timestamp(MemberImporter.ExpiryOf(r, rules, nowUtc, zone));
            w.Bigint(r.Points);
            w.Bigint(r.Points);
            w.Bigint(r.StoreId);
        }, ct);

        await CopyAsync(conn, tx, "points_entries", EntryColumns, b.WithPoints.Length, (w, k) =>
        {
            var i = b.WithPoints[k];
            w.Bigint(b.MemberIds[i]);
            w.Bigint(rows[i].Points);
            w.Integer((int)PointsCause.Import);
            w.Timestamp(nowUtc);
            w.Text(Reference);
            w.Bigint(b.LotIds[k]);
            w.Bigint(0); // debt_incurred
            w.Bigint(0); // debt_repaid
            w.Bigint(staffId);
        }, ct);

        await CopyAsync(conn, tx, "stored_value_lots", PurseLotColumns, b.WithPurse.Length, (w, k) =>
        {
            var i = b.WithPurse[k];
            var r = rows[i];
            w.Bigint(b.PurseIds[k]);
            w.Bigint(b.MemberIds[i]);
            w.Bigint(programId);
            w.Bigint(r.StoreId);
            w.Timestamp(nowUtc);
            w.Bigint(r.StoredPrincipal);
            w.Bigint(r.StoredBonus);
            w.Bigint(r.StoredPrincipal);
            w.Bigint(r.StoredBonus);
        }, ct);

        await CopyAsync(conn, tx, "stored_value_entries", PurseEntryColumns, b.WithPurse.Length, (w, k) =>
        {
            var i = b.WithPurse[k];
            var r = rows[i];
            w.Bigint(b.MemberIds[i]);
            w.Bigint(programId);
            w.Bigint(b.PurseIds[k]);
            w.Integer((int)StoredValueCause.Import);
            w.Bigint(r.StoredPrincipal);
            w.Bigint(r.StoredBonus);
            w.Bigint(r.StoreId);
            w.Timestamp(nowUtc);
            w.Text(Reference);
            w.Bigint(staffId);
        }, ct);

        await CopyAsync(conn, tx, "import_errors", ErrorColumns, b.Errors.Count, (w, i) =>
        {
            var e = b.Errors[i];
            w.Bigint(b.JobId);
            w.Integer(e.Row);
            w.Text(e.Column);
            w.Text(e.Code);
            w.Text(e.Message.Length > 300 ? e.Message[..300] : e.Message);
        }, ct);
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
            // The sequence is looked up once (a materialized CTE), not once per id: pg_get_serial_sequence
            // scans the catalog, and per row it cost more than the ids themselves.
            FormattableString sql = table switch
            {
                "members" => $"WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('members', 'id')::regclass AS seq) SELECT nextval(s.seq) AS \"Value\" FROM s, generate_series(1, {count})",
                "points_lots" => $"WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('points_lots', 'id')::regclass AS seq) SELECT nextval(s.seq) AS \"Value\" FROM s, generate_series(1, {count})",
                "stored_value_lots" => $"WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('stored_value_lots', 'id')::regclass AS seq) SELECT nextval(s.seq) AS \"Value\" FROM s, generate_series(1, {count})",
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

    /// <summary>Writes <paramref name="count"/> rows of <paramref name="table"/>, each by <paramref name="row"/> in the order of <paramref name="columns"/>.</summary>
    private static async Task CopyAsync(DbConnection conn, DbTransaction tx, string table, string[] columns, int count, Action<RowWriter, int> row, CancellationToken ct)
    {
        if (count == 0)
        {
            return;
        }

        var names = string.Join(", ", columns.Select(c => '"' + c + '"'));
        await using RowWriter w = conn is NpgsqlConnection pg
            ? await CopyWriter.OpenAsync(pg, $"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)", columns.Length, ct)
            : new InsertWriter((SqliteConnection)conn, (SqliteTransaction)tx, $"INSERT INTO {table} ({names}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})", columns.Length);
        for (var i = 0; i < count; i++)
        {
            w.StartRow();
            row(w, i);
            await w.EndRowAsync(ct);
        }

        await w.CompleteAsync(ct);
    }

    /// <summary>One table's rows, value by value in column order, typed as the columns are.</summary>
    private abstract class RowWriter : IAsyncDisposable
    {
        public abstract void StartRow();

        public abstract ValueTask EndRowAsync(CancellationToken ct);

        public abstract void Bigint(long value);

        public abstract void Integer(int value);

        public abstract void Boolean(bool value);

        public abstract void Text(string? value);

        protected abstract void Time(DateTime value);

        protected abstract void Day(DateOnly value);

        protected abstract void Null();

        public void Bigint(long? value)
        {
            if (value is { } v)
            {
                Bigint(v);
            }
            else
            {
                Null();
            }
        }

        public void Timestamp(DateTime? value)
        {
            if (value is { } v)
            {
                Time(v);
            }
            else
            {
                Null();
            }
        }

        public void Date(DateOnly? value)
        {
            if (value is { } v)
            {
                Day(v);
            }
            else
            {
                Null();
            }
        }

        public abstract Task CompleteAsync(CancellationToken ct);

        public abstract ValueTask DisposeAsync();
    }

    /// <summary>
    /// PostgreSQL: binary COPY, encoded here into one buffer (the format of PostgreSQL's COPY
    /// documentation: big-endian lengths and values, dates and times from 2000-01-01). Npgsql's
    /// typed importer resolves a converter for every value, which cost more than the COPY.
    /// The column types are fixed: bigint, integer, boolean, varchar, timestamptz and date.
    /// </summary>
    private sealed class CopyWriter : RowWriter
    {
        private const int FlushAt = 1 << 16;
        private static readonly byte[] Signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];
        private static readonly long EpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        private static readonly int EpochDay = new DateOnly(2000, 1, 1).DayNumber;

        private readonly NpgsqlRawCopyStream _copy;
        private readonly short _columns;
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(FlushAt * 2);
        private int _used;
        private bool _completed;

        private CopyWriter(NpgsqlRawCopyStream copy, int columns)
        {
            _copy = copy;
            _columns = checked((short)columns);
            Signature.CopyTo(Space(Signature.Length + 8));
            _used += Signature.Length;
            Int32(0); // flags
            Int32(0); // header extension
        }

        public static async Task<CopyWriter> OpenAsync(NpgsqlConnection pg, string sql, int columns, CancellationToken ct) =>
            new(await pg.BeginRawBinaryCopyAsync(sql, ct), columns);

        public override void StartRow()
        {
            BinaryPrimitives.WriteInt16BigEndian(Space(2), _columns);
            _used += 2;
        }

        public override ValueTask EndRowAsync(CancellationToken ct) => _used >= FlushAt ? FlushAsync(ct) : ValueTask.CompletedTask;

        public override void Bigint(long value)
        {
            Int32(8);
            BinaryPrimitives.WriteInt64BigEndian(Space(8), value);
            _used += 8;
        }

        public override void Integer(int value)
        {
            Int32(4);
            Int32(value);
        }

        public override void Boolean(bool value)
        {
            Int32(1);
            Space(1)[0] = value ? (byte)1 : (byte)0;
            _used++;
        }

        public override void Text(string? value)
        {
            if (value is null)
            {
                Null();
                return;
            }

            var span = Space(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
            var length = Encoding.UTF8.GetBytes(value, span[4..]);
            BinaryPrimitives.WriteInt32BigEndian(span, length);
            _used += 4 + length;
        }

        protected override void Time(DateTime value)
        {
            if (value.Kind != DateTimeKind.Utc)
            {
                throw new ArgumentException($"A timestamp with time zone must be UTC, not {value.Kind}.", nameof(value));
            }

            Bigint((value.Ticks - EpochTicks) / TimeSpan.TicksPerMicrosecond);
        }

        protected override void Day(DateOnly value) => Integer(value.DayNumber - EpochDay);

        protected override void Null() => Int32(-1);

        public override async Task CompleteAsync(CancellationToken ct)
        {
            BinaryPrimitives.WriteInt16BigEndian(Space(2), -1);
            _used += 2;
            await FlushAsync(ct);
            _completed = true;
            await _copy.DisposeAsync(); // ends the COPY and raises what the server refused
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_completed)
            {
                // Stopped part way: tell the server to drop the rows sent. The transaction rolls back
                // anyway, and the failure that stopped the rows is the one to report.
                try
                {
                    await _copy.CancelAsync();
                    await _copy.DisposeAsync();
                }
                catch (Exception e) when (e is NpgsqlException or ObjectDisposedException or InvalidOperationException)
                {
                }
            }

            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        private void Int32(int value)
        {
            BinaryPrimitives.WriteInt32BigEndian(Space(4), value);
            _used += 4;
        }

        /// <summary>Room for <paramref name="bytes"/> more bytes after the ones written.</summary>
        private Span<byte> Space(int bytes)
        {
            if (_used + bytes > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _used + bytes));
                _buffer.AsSpan(0, _used).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }

            return _buffer.AsSpan(_used);
        }

        private async ValueTask FlushAsync(CancellationToken ct)
        {
            await _copy.WriteAsync(_buffer.AsMemory(0, _used), ct);
            _used = 0;
        }
    }

    /// <summary>SQLite: one prepared insert, run once per row.</summary>
    private sealed class InsertWriter : RowWriter
    {
        private readonly SqliteCommand _insert;
        private readonly SqliteParameter[] _values;
        private int _column;

        public InsertWriter(SqliteConnection conn, SqliteTransaction tx, string sql, int columns)
        {
            _insert = conn.CreateCommand();
            _insert.Transaction = tx;
            _insert.CommandText = sql;
            _values = [.. Enumerable.Range(0, columns).Select(i => _insert.Parameters.Add(new SqliteParameter("$p" + i, null)))];
            _insert.Prepare();
        }

        public override void StartRow() => _column = 0;

        public override async ValueTask EndRowAsync(CancellationToken ct)
        {
            if (_column != _values.Length)
            {
                throw new InvalidOperationException($"A row has {_column} values for {_values.Length} columns.");
            }

            await _insert.ExecuteNonQueryAsync(ct);
        }

        public override void Bigint(long value) => Set(value);

        public override void Integer(int value) => Set(value);

        public override void Boolean(bool value) => Set(value);

        public override void Text(string? value) => Set(value);

        protected override void Time(DateTime value) => Set(value);

        protected override void Day(DateOnly value) => Set(value);

        protected override void Null() => Set(null);

        public override Task CompleteAsync(CancellationToken ct) => Task.CompletedTask;

        public override ValueTask DisposeAsync() => _insert.DisposeAsync();

        private void Set(object? value) => _values[_column++].Value = value ?? DBNull.Value;
    }
}
