using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Import;

public sealed record ImportProgress(int Rows, int Imported, int Rejected, double Fraction, TimeSpan Elapsed);

public sealed record ImportReport(long? JobId, bool CheckOnly, bool Resumed, bool AlreadyDone, int Rows, int Imported, int Rejected, TimeSpan Elapsed, IReadOnlyList<RowError> Errors)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Rows / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Imports members with their legacy points, stored value, tier and card from a CSV file in
/// chunks. Each row is checked on its own, against the file's other rows (phone, ID number and
/// card number once each) and against the database; refused rows go to the error report, good
/// rows go in. A chunk's members, cards, accounts, ledgers and the job's progress commit
/// together, so an import that stops resumes after its last chunk when the same file is given
/// again. PostgreSQL takes the rows by binary COPY, two chunks at once on two connections (they
/// commit in file order); SQLite by prepared inserts, one chunk after the other.
/// </summary>
public sealed class MemberImporter(PatronDb db, ProgramRules programs, PersonalDataProtector protector, AuditLog audit, IServiceScopeFactory scopes, TimeProvider clock)
{
    public const int DefaultChunk = 20_000;

    /// <summary>At most this many errors come back in the report (all of them are stored with the job).</summary>
    public const int ReportedErrors = 2_000;

    /// <param name="tracker">Live counters for a progress display, and a hook for each chunk's refused rows.</param>
    public async Task<ImportReport> RunAsync(Stream file, string fileName, long programId, string? defaultStore, bool checkOnly, CallerScope? caller,
        Action<ImportProgress>? progress, CancellationToken ct, int chunkSize = DefaultChunk, ImportTracker? tracker = null)
    {
        try
        {
            return await RunCoreAsync(file, fileName, programId, defaultStore, checkOnly, caller, progress, ct, chunkSize, tracker);
        }
        catch (FormatException e)
        {
            // The file itself is broken (an unclosed quote): nothing after that point can be read.
            throw Problem.Invalid("import.csv_malformed", e.Message + " Rows before it that were committed stay; fix the file and run it again.", "file");
        }
    }

    private async Task<ImportReport> RunCoreAsync(Stream file, string fileName, long programId, string? defaultStore, bool checkOnly, CallerScope? caller,
        Action<ImportProgress>? progress, CancellationToken ct, int chunkSize, ImportTracker? tracker)
    {
        var started = Stopwatch.StartNew();
        var now = clock.GetUtcNow().UtcDateTime;
        var program = await db.Programs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == programId, ct)
            ?? throw Problem.NotFound("program.not_found", "The program does not exist.");
        if (caller is not null && (!caller.CanSeeProgram(programId) || !caller.AllStores))
        {
            throw Problem.Forbidden("import.forbidden", "Only head office imports members.");
        }

        var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
        file.Position = 0;
        var job = checkOnly ? null : await db.ImportJobs.Where(j => j.ProgramId == programId && j.FileHash == hash).OrderByDescending(j => j.Id).FirstOrDefaultAsync(ct);
        if (job is { Status: ImportStatus.Completed })
        {
            tracker?.Job(job.Id);
            tracker?.Finish(job.TotalRows, job.Imported, job.Rejected);
            return new ImportReport(job.Id, false, false, true, job.TotalRows, job.Imported, job.Rejected, started.Elapsed, []);
        }

        var resumed = job is not null;
        var zone = await programs.ZoneAsync(programId, ct);
        var rules = await programs.TryInForceAsync(programId, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, zone)), ct);
        var stores = await db.Stores.AsNoTracking().Where(s => s.ProgramId == programId).OrderBy(s => s.Id).Select(s => new { s.Id, s.Code }).ToListAsync(ct);
        if (stores.Count == 0)
        {
            throw Problem.Invalid("import.no_store", "The program has no store to enrol members at.", "store");
        }

        var storesByCode = stores.ToDictionary(s => s.Code, s => s.Id, StringComparer.OrdinalIgnoreCase);
        long defaultStoreId = stores[0].Id;
        if (defaultStore is not null && !storesByCode.TryGetValue(defaultStore, out defaultStoreId))
        {
            throw Problem.Invalid("import.store_unknown", $"No store {defaultStore} in this program.", "store");
        }

        var ctx = new MemberRows.Context(rules, program.CardPrefix, storesByCode, defaultStoreId, zone, now);
        var encoding = CsvReader.Detect(file);
        using var reader = new StreamReader(file, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
        using var records = CsvReader.Read(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            throw Problem.Invalid("import.empty", "The file is empty.", "file");
        }

        var (columns, headerErrors) = MemberRows.FromHeader(records.Current.Fields);
        if (columns is null)
        {
            tracker?.Finish(0, 0, 0);
            return new ImportReport(null, checkOnly, false, false, 0, 0, 0, started.Elapsed, headerErrors);
        }

        // Numbers the program generates for members without a card must stay clear of every card in the file.
        var maxSequence = 0L;
        if (!checkOnly)
        {
            while (records.MoveNext())
            {
                if (columns.CardNumber(records.Current.Fields) is { } card && card.StartsWith(program.CardPrefix, StringComparison.Ordinal)
                    && card.Length == program.CardPrefix.Length + CardNumber.SequenceDigits + 1 && card.All(char.IsAsciiDigit)
                    && CardNumber.LuhnDigit(card.AsSpan(0, card.Length - 1)) == card[^1]
                    && long.TryParse(card.AsSpan(program.CardPrefix.Length, CardNumber.SequenceDigits), out var sequence) && sequence <= MemberRows.MaxImportedSequence)
                {
                    maxSequence = Math.Max(maxSequence, sequence);
                }
            }
        }

        file.Position = 0;
        using var reader2 = new StreamReader(file, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
        using var rowsOfFile = CsvReader.Read(reader2).GetEnumerator();
        rowsOfFile.MoveNext();

        if (job is null && !checkOnly)
        {
            job = new ImportJob(programId, Path.GetFileName(fileName), hash, caller?.StaffId, now);
            db.ImportJobs.Add(job);
            await db.SaveChangesAsync(ct);
        }

        tracker?.Job(job?.Id);
        var writer = checkOnly ? null : new ImportWriter(db, rules, zone, now, caller?.StaffId);
        if (writer is not null && maxSequence > 0)
        {
            await writer.KeepSequenceAboveAsync(programId, maxSequence, ct);
        }

        // PostgreSQL copies two chunks at once, each on its own connection (its server process
        // then works on one core while the other works on the next chunk); SQLite has one writer.
        using var secondScope = writer is not null && db.Database.IsNpgsql() ? scopes.CreateScope() : null;
        ImportWriter[] writers = writer is null ? [] : secondScope is null ? [writer]
            : [writer, new ImportWriter(secondScope.ServiceProvider.GetRequiredService<PatronDb>(), rules, zone, now, caller?.StaffId)];

        var errors = new List<RowError>();
        var done = job?.DoneRows ?? 0;
        var (rows, imported, rejected) = (done, job?.Imported ?? 0, job?.Rejected ?? 0);
        var length = file.CanSeek ? file.Length : 0;
        tracker?.Begin(done, imported, rejected);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // Counts a written chunk and reports progress; chunks arrive here in file order.
        async Task WriteAsync(Prepared p, ImportWriter? into, Task before)
        {
            if (into is not null && job is not null)
            {
                await into.WriteAsync(job.Id, programId, p.Batch!, before, stop.Token);
                (job.DoneRows, job.Imported, job.Rejected) = (p.RowsThrough, job.Imported + p.Good, job.Rejected + p.Batch!.Refused);
            }
            else
            {
                await before;
            }

            rows = p.RowsThrough;
            imported += p.Good;
            rejected += p.Errors.Select(e => e.Row).Distinct().Count();
            if (errors.Count < ReportedErrors)
            {
                errors.AddRange(p.Errors.Take(ReportedErrors - errors.Count));
            }

            tracker?.Committed(rows, imported, rejected);
            if (tracker?.OnRefused is { } onRefused && p.Errors.Count > 0)
            {
                await onRefused(p.Errors, ct);
            }

            progress?.Invoke(new ImportProgress(rows, imported, rejected, p.Fraction, started.Elapsed));
        }

        // Reading, checking and encrypting the next chunk (on its own connection) overlaps with
        // writing the ones before it; at most one prepared chunk waits for a writer.
        var prepared = Channel.CreateBounded<Prepared>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(() => ProduceAsync(rowsOfFile, columns, ctx, programId, job?.Id ?? 0, program.CardPrefix, writer, done, chunkSize,
            () => length > 0 ? Math.Min(1, (double)file.Position / length) : 0, prepared.Writer, tracker, stop.Token), stop.Token);
        var writing = new Queue<Task>();
        try
        {
            var last = Task.CompletedTask;
            var n = 0;
            await foreach (var p in prepared.Reader.ReadAllAsync(ct))
            {
                if (writing.Count >= Math.Max(1, writers.Length))
                {
                    await writing.Dequeue(); // its writer is free again
                }

                last = WriteAsync(p, writers.Length == 0 ? null : writers[n++ % writers.Length], last);
                writing.Enqueue(last);
            }

            await last;
            await producer;
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll([producer, .. writing]).ContinueWith(_ => { }, CancellationToken.None);
        }

        if (job is not null)
        {
            job.Status = ImportStatus.Completed;
            job.TotalRows = rows;
            job.FinishedAt = job.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            job.Message = $"{imported} imported, {rejected} refused";
            audit.Record(caller, "members.imported", null, null, "import_job", job.Id, new { file = job.FileName, rows, imported, rejected });
            await db.SaveChangesAsync(ct);
        }

        tracker?.Finish(rows, imported, rejected);
        return new ImportReport(job?.Id, checkOnly, resumed, false, rows, imported, rejected, started.Elapsed, errors);
    }

    /// <summary>A chunk ready to write: its good rows with their encrypted ID numbers, its refused rows, and how far into the file it reaches.</summary>
    private sealed record Prepared(int Good, List<RowError> Errors, int RowsThrough, double Fraction, ImportWriter.Batch? Batch);

    private async Task ProduceAsync(IEnumerator<(int Line, List<string> Fields)> records, MemberRows columns, MemberRows.Context ctx, long programId, long jobId, string cardPrefix,
        ImportWriter? writer, int done, int chunkSize, Func<double> fraction, ChannelWriter<Prepared> output, ImportTracker? tracker, CancellationToken ct)
    {
        try
        {
            using var scope = scopes.CreateScope();
            var checkDb = scope.ServiceProvider.GetRequiredService<PatronDb>();
            var seen = new Seen();
            var chunk = new List<MemberRow>(chunkSize);
            var chunkErrors = new List<RowError>();
            var (row, rows) = (1, done);

            async Task FlushAsync()
            {
                var (refused, hashes) = await CheckAgainstDatabaseAsync(checkDb, programId, chunk, chunkErrors, ct);
                var good = chunk.Where(m => !refused.Contains(m.Row)).ToList();
                var ids = new ProtectedIdNumber?[good.Count];
                Parallel.For(0, good.Count, i => ids[i] = good[i].IdNumber is { } id ? protector.ProtectIdNumber(id, hashes[good[i].Row]) : null);
                List<RowError> refusedRows = [.. chunkErrors];
                var batch = writer is null ? null : await writer.PrepareAsync(checkDb, jobId, programId, cardPrefix, good, ids, refusedRows, rows, fraction(), ct);
                await output.WriteAsync(new Prepared(good.Count, refusedRows, rows, fraction(), batch), ct);
                chunk.Clear();
                chunkErrors.Clear();
            }

            while (records.MoveNext())
            {
                ct.ThrowIfCancellationRequested();
                if (records.Current.Fields is [""])
                {
                    continue; // a blank line
                }

                row++;
                if (row - 1 <= done)
                {
                    continue; // committed by an earlier run of this file
                }

                rows++;
                var (member, rowErrors) = columns.Check(row, records.Current.Fields, ctx);
                if (member is not null)
                {
                    rowErrors.AddRange(seen.Add(member));
                }

                if (tracker is not null)
                {
                    tracker.RowChecked(rows);
                    if ((rows & 255) == 0)
                    {
                        tracker.Reached(fraction());
                    }
                }

                if (rowErrors.Count > 0)
                {
                    chunkErrors.AddRange(rowErrors);
                }
                else
                {
                    chunk.Add(member!);
                }

                if (chunk.Count + chunkErrors.Count >= chunkSize)
                {
                    await FlushAsync();
                }
            }

            await FlushAsync();
            output.Complete();
        }
        catch (Exception e)
        {
            output.Complete(e);
        }
    }

    /// <summary>
    /// Refuses rows whose phone, ID number or card number a member of the program already has;
    /// the refused rows, and the lookup hash of each row's ID number (by row) for encrypting it.
    /// </summary>
    private async Task<(HashSet<int> Refused, Dictionary<int, string> Hashes)> CheckAgainstDatabaseAsync(PatronDb db, long programId, List<MemberRow> rows, List<RowError> errors, CancellationToken ct)
    {
        var refused = new HashSet<int>();
        var hashes = new Dictionary<int, string>();
        if (rows.Count == 0)
        {
            return (refused, hashes);
        }

        foreach (var r in rows.Where(r => r.IdNumber is not null))
        {
            hashes[r.Row] = await protector.LookupHashAsync(r.IdNumber!, ct);
        }

        string[] mobiles = [.. rows.Select(r => r.Mobile)];
        string[] cards = [.. rows.Where(r => r.CardNumber is not null).Select(r => r.CardNumber!)];
        string[] hashList = [.. hashes.Values];
        HashSet<string> taken, cardsTaken, idsTaken;
        if (db.Database.IsNpgsql())
        {
            // One index probe per value: LATERAL … LIMIT 1 keeps the planner from choosing a scan of
            // the whole table, whose cost grows with every chunk the import has already written.
            taken = (await db.Database.SqlQuery<string>(
                $"SELECT u.v AS \"Value\" FROM unnest({mobiles}) AS u(v) CROSS JOIN LATERAL (SELECT 1 FROM members m WHERE m.program_id = {programId} AND m.mobile = u.v LIMIT 1) AS found")
                .ToListAsync(ct)).ToHashSet();
            cardsTaken = cards.Length == 0 ? [] : (await db.Database.SqlQuery<string>(
                $"SELECT u.v AS \"Value\" FROM unnest({cards}) AS u(v) CROSS JOIN LATERAL (SELECT 1 FROM cards c WHERE c.number = u.v LIMIT 1) AS found")
                .ToListAsync(ct)).ToHashSet();
            idsTaken = hashList.Length == 0 ? [] : (await db.Database.SqlQuery<string>(
                $"SELECT u.v AS \"Value\" FROM unnest({hashList}) AS u(v) CROSS JOIN LATERAL (SELECT 1 FROM members m WHERE m.program_id = {programId} AND m.id_number_hash = u.v LIMIT 1) AS found")
                .ToListAsync(ct)).ToHashSet();
        }
        else
        {
            taken = (await db.Members.AsNoTracking().Where(m => m.ProgramId == programId && mobiles.Contains(m.Mobile)).Select(m => m.Mobile).ToListAsync(ct)).ToHashSet();
            cardsTaken = cards.Length == 0 ? [] : (await db.Cards.AsNoTracking().Where(c => cards.Contains(c.Number)).Select(c => c.Number).ToListAsync(ct)).ToHashSet();
            idsTaken = hashList.Length == 0 ? [] : (await db.Members.AsNoTracking().Where(m => m.ProgramId == programId && hashList.Contains(m.IdNumberHash!)).Select(m => m.IdNumberHash!).ToListAsync(ct)).ToHashSet();
        }

        foreach (var r in rows)
        {
            if (taken.Contains(r.Mobile))
            {
                errors.Add(new(r.Row, "mobile", "import.mobile_taken", $"A member with phone {Masking.Phone(r.Mobile)} already exists."));
                refused.Add(r.Row);
            }

            if (r.CardNumber is { } c && cardsTaken.Contains(c))
            {
                errors.Add(new(r.Row, "card_number", "import.card_taken", $"Card {Masking.Tail(c)} belongs to another member."));
                refused.Add(r.Row);
            }

            if (hashes.TryGetValue(r.Row, out var h) && idsTaken.Contains(h))
            {
                errors.Add(new(r.Row, "id_number", "import.id_number_taken", "A member with this ID number already exists."));
                refused.Add(r.Row);
            }
        }

        return (refused, hashes);
    }

    /// <summary>Phones, ID numbers and card numbers met so far in the file: each may appear once.</summary>
    private sealed class Seen
    {
        private readonly FirstRows _mobiles = new();
        private readonly FirstRows _ids = new();
        private readonly FirstRows _cards = new();

        public IEnumerable<RowError> Add(MemberRow m)
        {
            var errors = new List<RowError>();
            if (!_mobiles.TryAdd(m.Mobile, m.Row, out var first))
            {
                errors.Add(new(m.Row, "mobile", "import.mobile_repeated", $"The same phone is on row {first}."));
            }

            if (m.IdNumber is { } id && !_ids.TryAdd(id, m.Row, out first))
            {
                errors.Add(new(m.Row, "id_number", "import.id_number_repeated", $"The same ID number is on row {first}."));
            }

            if (m.CardNumber is { } card && !_cards.TryAdd(card, m.Row, out first))
            {
                errors.Add(new(m.Row, "card_number", "import.card_repeated", $"The same card number is on row {first}."));
            }

            return errors;
        }
    }

    /// <summary>
    /// The row where each value was first met. A value of up to 18 digits (the last may be the X
    /// of an ID number) is kept as one number that no other value shares, not as a string: a
    /// million-row file's phones, ID numbers and cards then take tens of megabytes, not hundreds.
    /// </summary>
    private sealed class FirstRows
    {
        private readonly Dictionary<long, int> _numbers = [];
        private readonly Dictionary<string, int> _others = new(StringComparer.Ordinal);

        /// <summary>Records <paramref name="row"/> for <paramref name="value"/>, or gives the row that had it first.</summary>
        public bool TryAdd(string value, int row, out int first)
        {
            bool exists;
            ref var slot = ref NumberOf(value) is { } n
                ? ref CollectionsMarshal.GetValueRefOrAddDefault(_numbers, n, out exists)
                : ref CollectionsMarshal.GetValueRefOrAddDefault(_others, value, out exists);
            if (!exists)
            {
                slot = row;
            }

            first = slot;
            return !exists;
        }

        /// <summary>
        /// The value as (10^(n-1) + its first n-1 digits) × 11 + its last digit (X counting 10):
        /// the leading 1 keeps leading zeros apart, and 18 characters stay below 2.2 × 10^18.
        /// </summary>
        private static long? NumberOf(string value)
        {
            if (value.Length is 0 or > 18)
            {
                return null;
            }

            var n = 1L;
            foreach (var c in value.AsSpan(0, value.Length - 1))
            {
                if (!char.IsAsciiDigit(c))
                {
                    return null;
                }

                n = (n * 10) + (c - '0');
            }

            return value[^1] switch
            {
                'X' => (n * 11) + 10,
                var last when char.IsAsciiDigit(last) => (n * 11) + (last - '0'),
                _ => null,
            };
        }
    }

    /// <summary>The error report as CSV (UTF-8 with BOM for Excel): row, column, code, message.</summary>
    public static byte[] ErrorCsv(IEnumerable<RowError> errors)
    {
        var sb = new System.Text.StringBuilder("row,column,code,message\r\n");
        foreach (var e in errors)
        {
            sb.Append(e.Row).Append(',').Append(e.Column).Append(',').Append(e.Code).Append(",\"").Append(e.Message.Replace("\"", "\"\"", StringComparison.Ordinal)).Append("\"\r\n");
        }

        return [.. System.Text.Encoding.UTF8.GetPreamble(), .. System.Text.Encoding.UTF8.GetBytes(sb.ToString())];
    }

    internal static DateTime? ExpiryOf(MemberRow m, Domain.Programs.ProgramDefinition? rules, DateTime nowUtc, TimeZoneInfo zone) =>
        m.PointsExpireAt ?? (rules is null ? null : ExpiryCalculator.ExpiresAt(rules.Expiry, nowUtc, zone));

    internal static string CardOf(string prefix, long sequence) => CardNumber.Compose(prefix, sequence);
}
