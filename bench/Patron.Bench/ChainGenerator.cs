using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.Pricing;
using Patron.Domain.Programs;
using Patron.Domain.Sales;

namespace Patron.Bench;

public sealed record GenerateSettings(
    string ConnectionString,
    int Members = 100_000,
    string? ProgramCode = null,
    int Seed = 20261125,
    int HistoryDays = 365,
    int SalesPerMember = 4,
    int ChunkSize = 10_000);

public sealed record GenerateReport(int Members, long Cards, long Sales, long SaleLines, long Lots, long Entries, TimeSpan Elapsed, TimeSpan CopyElapsed, long LedgerMismatches);

/// <summary>
/// Adds a chain's worth of members with a year of purchases to a database that `patron
/// seed-demo` (or an operator) has already migrated and given a published program. Rows go in
/// with binary COPY, in chunks, inside one transaction, with ids taken after the tables' current
/// maxima and the identity sequences and the program's card sequence moved past them.
/// The history is what the server would have recorded: each sale is priced by the domain's
/// <see cref="PricingEngine"/> under the program in force, earns a points lot that lapses by the
/// program's expiry policy, and lapsed lots carry their expiry entry. So for every member
/// balance = Σ entries = Σ lot remainders − debt (debt is 0: the history has no returns).
/// Conversions, milestones and tier promotions are not replayed: use a program without them
/// (the demo's P1) for benchmark data.
/// </summary>
public sealed partial class ChainGenerator(GenerateSettings settings, TextWriter log)
{
    private static readonly string[] Surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡"];
    private static readonly string[] GivenFemale = ["秀英", "桂英", "秀兰", "丽", "敏", "静", "婷", "雪", "慧", "晓燕", "欣怡", "雨涵", "思琪", "佳怡", "梦瑶", "玉兰", "淑珍", "美玲", "红霞", "丽娟", "海燕", "春梅", "子涵", "诗雨"];
    private static readonly string[] GivenMale = ["伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "浩然", "子轩", "宇航", "建国", "志强", "国华", "晓东", "文博", "建华", "俊杰", "鹏", "斌", "家豪", "思远"];
    private static readonly string[] MobilePrefixes =
    [
        "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159",
        "162", "165", "166", "167", "170", "171", "172", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
        "190", "191", "192", "193", "195", "196", "197", "198", "199",
    ];

    private static readonly string[] Tables = ["members", "cards", "member_accounts", "tier_changes", "sales", "sale_lines", "points_lots", "points_entries"];

    public async Task<GenerateReport> RunAsync(CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        await using var conn = new NpgsqlConnection(settings.ConnectionString);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);

        // Foreign keys are checked by a trigger per row, which doubles the time of COPY. A superuser
        // may switch them off for this transaction; every foreign key is then verified in one pass
        // before commit instead, so a generator bug still cannot commit an orphan.
        var deferredForeignKeys = await IsSuperuserAsync(conn, ct);
        if (deferredForeignKeys)
        {
            await ExecAsync(conn, "SET LOCAL session_replication_role = replica", ct);
        }

        // Nothing else may insert into these tables while ids are handed out by hand.
        await ExecAsync(conn, $"LOCK TABLE programs, {string.Join(", ", Tables)} IN SHARE ROW EXCLUSIVE MODE", ct);
        var ctx = await LoadContextAsync(conn, ct);
        var tables = CopyTables.For(ctx);
        foreach (var table in tables.All)
        {
            await table.PrepareAsync(conn, ct);
        }

        log.WriteLine($"generate: program {ctx.ProgramCode} (id {ctx.ProgramId}, card prefix {ctx.CardPrefix}), {ctx.Stores.Count} stores, "
            + $"{ctx.Mobiles.Count} existing members; adding {settings.Members:N0} members with ~{settings.SalesPerMember} purchases each over {settings.HistoryDays} days");

        var copy = TimeSpan.Zero;
        var counts = new long[Tables.Length];
        var chunks = (settings.Members + settings.ChunkSize - 1) / settings.ChunkSize;

        // Generate the next chunk on another core while the current one is copied.
        var next = chunks > 0 ? Task.Run(() => Build(ctx, 0), ct) : null;
        for (var c = 0; c < chunks; c++)
        {
            var chunk = await next!;
            next = c + 1 < chunks ? Task.Run(() => Build(ctx, c + 1), ct) : null;
            var sw = Stopwatch.StartNew();
            await tables.CopyAsync(conn, chunk, ct);
            copy += sw.Elapsed;
            counts[0] += chunk.Members.Count;
            counts[4] += chunk.Sales.Count;
            counts[5] += chunk.Lines.Count;
            counts[6] += chunk.Lots.Count;
            counts[7] += chunk.Entries.Count;
            log.WriteLine($"generate: {counts[0],9:N0} members  {counts[4],10:N0} sales  {counts[5],10:N0} lines  {counts[7],10:N0} entries  ({total.Elapsed.TotalSeconds:0.0} s)");
        }

        foreach (var table in Tables.Where(t => t != "member_accounts"))
        {
            await ExecAsync(conn, $"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))", ct);
        }

        if (deferredForeignKeys)
        {
            var sw1 = Stopwatch.StartNew();
            var (checkedKeys, orphans) = await CountOrphansAsync(conn, ct);
            if (orphans.Count > 0)
            {
                throw new InvalidOperationException("Generated rows break foreign keys (rolled back): " + string.Join("; ", orphans));
            }

            log.WriteLine($"generate: {checkedKeys} foreign keys verified in {sw1.Elapsed.TotalSeconds:0.0} s (row triggers were off during COPY)");
        }

        var lastSequence = ctx.CardSequence + settings.Members;
        await ExecAsync(conn, $"UPDATE programs SET card_sequence = GREATEST(card_sequence, {lastSequence}) WHERE id = {ctx.ProgramId}", ct);
        await tx.CommitAsync(ct);

        var sw2 = Stopwatch.StartNew();
        await ExecAsync(conn, "ANALYZE " + string.Join(", ", Tables), ct);
        log.WriteLine($"generate: committed; ANALYZE took {sw2.Elapsed.TotalSeconds:0.0} s");
        var elapsed = total.Elapsed;

        var mismatches = await CountLedgerMismatchesAsync(conn, ctx.ProgramId, ct);
        log.WriteLine($"generate: ledger check (balance = Σ entries = Σ lot remainders − debt): {mismatches} member(s) off");
        return new GenerateReport(settings.Members, settings.Members, counts[4], counts[5], counts[6], counts[7], elapsed, copy, mismatches);
    }

    private static async Task<bool> IsSuperuserAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", conn);
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>Every single-column foreign key of the generated tables, checked over the whole table: "child.col → parent: N rows".</summary>
    private static async Task<(int Keys, List<string> Orphans)> CountOrphansAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var keys = new List<(string Child, string Column, string Parent, string Key)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 AND c.conrelid::regclass::text = ANY(@tables)
            """, conn))
        {
            cmd.Parameters.AddWithValue("tables", Tables);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                keys.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)));
            }
        }

        var orphans = new List<string>();
        foreach (var (child, column, parent, key) in keys)
        {
            await using var cmd = new NpgsqlCommand(
                $"SELECT count(*) FROM {child} x WHERE x.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} y WHERE y.{key} = x.{column})", conn)
            { CommandTimeout = 600 };
            if ((long)(await cmd.ExecuteScalarAsync(ct))! is var n and > 0)
            {
                orphans.Add($"{child}.{column} → {parent}: {n} row(s)");
            }
        }

        return (keys.Count, orphans);
    }

    /// <summary>Members whose account disagrees with their entries or lots; 0 for a sound ledger.</summary>
    public static async Task<long> CountLedgerMismatchesAsync(NpgsqlConnection conn, long programId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT count(*) FROM member_accounts a
            LEFT JOIN (SELECT member_id, SUM(points) AS s FROM points_entries GROUP BY member_id) e ON e.member_id = a.member_id
            LEFT JOIN (SELECT member_id, SUM(remaining) AS r FROM points_lots GROUP BY member_id) l ON l.member_id = a.member_id
            WHERE a.program_id = @p AND (a.balance <> COALESCE(e.s, 0) OR a.balance <> COALESCE(l.r, 0) - a.debt)
            """, conn)
        { CommandTimeout = 600 };
        cmd.Parameters.AddWithValue("p", programId);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private sealed record StoreInfo(long Id, TimeZoneInfo Zone);

    private sealed class Context
    {
        public long ProgramId { get; init; }
        public required string ProgramCode { get; init; }
        public required string CardPrefix { get; init; }
        public long CardSequence { get; init; }
        public required ProgramDefinition Rules { get; init; }
        public required TimeZoneInfo ProgramZone { get; init; }
        public required List<StoreInfo> Stores { get; init; }
        public required HashSet<string> Mobiles { get; init; }
        public required Dictionary<string, long> MaxIds { get; init; }
        public DateTime Now { get; init; }
    }

    private async Task<Context> LoadContextAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        long programId;
        string code, prefix;
        long sequence;
        await using (var cmd = new NpgsqlCommand(
            settings.ProgramCode is null
                ? "SELECT id, code, card_prefix, card_sequence FROM programs ORDER BY id LIMIT 1"
                : "SELECT id, code, card_prefix, card_sequence FROM programs WHERE code = @code", conn))
        {
            if (settings.ProgramCode is not null)
            {
                cmd.Parameters.AddWithValue("code", settings.ProgramCode);
            }

            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                throw new InvalidOperationException("No program found: run `patron seed-demo --db …` first (or pass --program CODE).");
            }

            (programId, code, prefix, sequence) = (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt64(3));
        }

        if (sequence + settings.Members >= (long)Math.Pow(10, CardNumber.SequenceDigits))
        {
            throw new InvalidOperationException("The program's card sequence cannot number that many more cards.");
        }

        var now = DateTime.UtcNow;
        string? definition = null;
        await using (var cmd = new NpgsqlCommand("""
            SELECT definition FROM program_versions
            WHERE program_id = @p AND status = @published AND effective_from <= @today
            ORDER BY effective_from DESC, version DESC LIMIT 1
            """, conn))
        {
            cmd.Parameters.AddWithValue("p", programId);
            cmd.Parameters.AddWithValue("published", (int)ProgramVersionStatus.Published);
            cmd.Parameters.AddWithValue("today", DateOnly.FromDateTime(now.AddDays(1)));
            definition = (string?)await cmd.ExecuteScalarAsync(ct);
        }

        if (definition is null)
        {
            throw new InvalidOperationException($"Program {code} has no published version in force; publish one (seed-demo publishes P1).");
        }

        var rules = ProgramFile.Parse(definition);
        var stores = new List<StoreInfo>();
        await using (var cmd = new NpgsqlCommand("SELECT id, time_zone FROM stores WHERE program_id = @p AND is_active ORDER BY id", conn))
        {
            cmd.Parameters.AddWithValue("p", programId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                stores.Add(new StoreInfo(r.GetInt64(0), TimeZoneInfo.FindSystemTimeZoneById(r.GetString(1))));
            }
        }

        if (stores.Count == 0)
        {
            throw new InvalidOperationException($"Program {code} has no active store.");
        }

        var mobiles = new HashSet<string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("SELECT mobile FROM members WHERE program_id = @p", conn))
        {
            cmd.Parameters.AddWithValue("p", programId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                mobiles.Add(r.GetString(0));
            }
        }

        var maxIds = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in Tables.Where(t => t != "member_accounts"))
        {
            await using var cmd = new NpgsqlCommand($"SELECT COALESCE(MAX(id), 0) FROM {table}", conn);
            maxIds[table] = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        return new Context
        {
            ProgramId = programId,
            ProgramCode = code,
            CardPrefix = prefix,
            CardSequence = sequence,
            Rules = rules,
            ProgramZone = TimeZoneInfo.FindSystemTimeZoneById(rules.TimeZone),
            Stores = stores,
            Mobiles = mobiles,
            MaxIds = maxIds,
            Now = now,
        };
    }

    private readonly record struct MemberRow(long Id, string Name, string Mobile, Gender Gender, DateOnly Birthday, long StoreId, string Channel, DateTime EnrolledAt, CardKind CardKind, string CardNumber);

    private readonly record struct AccountRow(long MemberId, long Balance, DateTime TierSince, long Earned, long Spend, long Largest, int SpendYear, long YearSpend, DateTime? LastPurchaseAt, long RowVersion);

    private readonly record struct SaleRow(long Id, long MemberId, long StoreId, string Order, DateTime At, DateOnly LocalDate, long Amount, long Discount, long Paid, long Points);

    private readonly record struct LineRow(long Id, long SaleId, int LineNo, Item Item, int Quantity, long Amount, long Discount, long Paid, string? Rule, long Points);

    private readonly record struct LotRow(long Id, long MemberId, DateTime EarnedAt, DateTime? ExpiresAt, long Points, long Remaining);

    private readonly record struct EntryRow(long Id, long MemberId, long Points, PointsCause Cause, DateTime At, string? Reference, long LotId, long? SaleId);

    private sealed class Chunk
    {
        public List<MemberRow> Members { get; } = [];
        public List<AccountRow> Accounts { get; } = [];
        public List<SaleRow> Sales { get; } = [];
        public List<LineRow> Lines { get; } = [];
        public List<LotRow> Lots { get; } = [];
        public List<EntryRow> Entries { get; } = [];
    }

    /// <summary>
    /// The members of chunk <paramref name="index"/> and their history. Chunks are built one at
    /// a time, in order (the next while the previous is copied), so ids and phones stay unique.
    /// </summary>
    private Chunk Build(Context ctx, int index)
    {
        var rng = new Random(unchecked((settings.Seed * 7919) + index));
        var chunk = new Chunk();
        var first = index * settings.ChunkSize;
        var count = Math.Min(settings.ChunkSize, settings.Members - first);

        // Ids continue from the tables' maxima; every chunk before this one used up exactly its counts.
        var memberId = ctx.MaxIds["members"] + first;
        var entryTier = ctx.Rules.EntryTier?.Code;
        var historyStart = ctx.Now.AddDays(-settings.HistoryDays);
        var historyEnd = ctx.Now.AddMinutes(-1);
        var salesBase = ctx.MaxIds["sales"] + Before(index, b => b.Sales);
        var linesBase = ctx.MaxIds["sale_lines"] + Before(index, b => b.Lines);
        var lotsBase = ctx.MaxIds["points_lots"] + Before(index, b => b.Lots);
        var entriesBase = ctx.MaxIds["points_entries"] + Before(index, b => b.Entries);
        var lotsOfMember = new List<int>();
        var entriesOfMember = new List<EntryRow>();

        for (var i = 0; i < count; i++)
        {
            memberId++;
            var female = rng.Next(2) == 0;
            var name = Surnames[rng.Next(Surnames.Length)] + (female ? GivenFemale[rng.Next(GivenFemale.Length)] : GivenMale[rng.Next(GivenMale.Length)]);
            string mobile;
            do
            {
                mobile = MobilePrefixes[rng.Next(MobilePrefixes.Length)] + rng.Next(0, 100_000_000).ToString("D8", CultureInfo.InvariantCulture);
            }
            while (!ctx.Mobiles.Add(mobile));

            var birthday = new DateOnly(1945, 1, 1).AddDays(rng.Next(365 * 60));
            var store = ctx.Stores[rng.Next(ctx.Stores.Count)];
            var enrolledAt = ctx.Now.AddSeconds(-rng.NextDouble() * 3 * 365 * 86400).AddMinutes(-10);
            var cardNumber = CardNumber.Compose(ctx.CardPrefix, ctx.CardSequence + first + i + 1);
            chunk.Members.Add(new MemberRow(memberId, name, mobile, female ? Gender.Female : Gender.Male, birthday, store.Id,
                AcquisitionChannels.All[rng.Next(AcquisitionChannels.All.Count)], enrolledAt, rng.Next(3) == 0 ? CardKind.Physical : CardKind.Virtual, cardNumber));

            // Purchases: 0 to twice the average, spread over the history window after enrolment.
            var from = enrolledAt > historyStart ? enrolledAt.AddMinutes(1) : historyStart;
            var purchases = from < historyEnd ? rng.Next(0, (2 * settings.SalesPerMember) + 1) : 0;
            var times = new DateTime[purchases];
            for (var k = 0; k < purchases; k++)
            {
                times[k] = from.AddTicks((long)(rng.NextDouble() * (historyEnd - from).Ticks));
            }

            Array.Sort(times);
            long earned = 0, spend = 0, largest = 0, yearSpend = 0;
            var spendYear = 0;
            lotsOfMember.Clear();
            entriesOfMember.Clear();
            var pricingMember = new PricingMember(entryTier, birthday);
            for (var k = 0; k < purchases; k++)
            {
                var at = times[k];
                var saleStore = rng.Next(4) == 0 ? ctx.Stores[rng.Next(ctx.Stores.Count)] : store;
                var localDate = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(at, saleStore.Zone));
                var basket = Catalogue.Basket(rng);
                var quote = PricingEngine.Quote(ctx.Rules, basket, pricingMember, localDate);
                var shares = Allocation.Spread(quote.Points, quote.Lines.Select(l => l.EarnsPoints ? l.Paid : 0).ToList());
                var saleId = salesBase + chunk.Sales.Count + 1;
                var order = string.Create(CultureInfo.InvariantCulture, $"H{memberId}-{k + 1}");
                chunk.Sales.Add(new SaleRow(saleId, memberId, saleStore.Id, order, at, localDate, quote.Amount, quote.Discount, quote.Payable, quote.Points));
                for (var l = 0; l < quote.Lines.Count; l++)
                {
                    var q = quote.Lines[l];
                    var item = Catalogue.BySku[q.Sku];
                    chunk.Lines.Add(new LineRow(linesBase + chunk.Lines.Count + 1, saleId, l + 1, item, q.Quantity, q.Amount, q.Discount, q.Paid, q.DiscountRule, shares[l]));
                }

                if (quote.Points > 0)
                {
                    var lotId = lotsBase + chunk.Lots.Count + 1;
                    var expires = ExpiryCalculator.ExpiresAt(ctx.Rules.Expiry, at, ctx.ProgramZone);
                    lotsOfMember.Add(chunk.Lots.Count);
                    chunk.Lots.Add(new LotRow(lotId, memberId, at, expires, quote.Points, quote.Points));
                    entriesOfMember.Add(new EntryRow(0, memberId, quote.Points, PointsCause.Sale, at, order, lotId, saleId));
                    earned += quote.Points;
                }

                // The account's counters as CountSpend keeps them: the year is the program's local year.
                var year = TimeZoneInfo.ConvertTimeFromUtc(at, ctx.ProgramZone).Year;
                if (year > spendYear)
                {
                    spendYear = year;
                    yearSpend = 0;
                }

                spend += quote.Payable;
                yearSpend += quote.Payable;
                largest = Math.Max(largest, quote.Payable);
            }

            // Lots that have lapsed by now: their remainder leaves with one expiry entry each.
            long balance = 0;
            foreach (var li in lotsOfMember)
            {
                var lot = chunk.Lots[li];
                if (lot.ExpiresAt is { } e && e <= ctx.Now)
                {
                    chunk.Lots[li] = lot with { Remaining = 0 };
                    entriesOfMember.Add(new EntryRow(0, memberId, -lot.Points, PointsCause.Expiry, e, null, lot.Id, null));
                }
                else
                {
                    balance += lot.Remaining;
                }
            }

            foreach (var entry in entriesOfMember.OrderBy(e => e.At))
            {
                chunk.Entries.Add(entry with { Id = entriesBase + chunk.Entries.Count + 1 });
            }

            chunk.Accounts.Add(new AccountRow(memberId, balance, enrolledAt, earned, spend, largest, spendYear, yearSpend, purchases > 0 ? times[^1] : null, 1 + purchases));
        }

        _built[index] = (chunk.Sales.Count, chunk.Lines.Count, chunk.Lots.Count, chunk.Entries.Count);
        return chunk;
    }

    // Row counts of the chunks built so far, to continue their ids (chunks are built in order).
    private readonly Dictionary<int, (int Sales, int Lines, int Lots, int Entries)> _built = [];

    private long Before(int index, Func<(int Sales, int Lines, int Lots, int Entries), int> rows) =>
        _built.Where(b => b.Key < index).Sum(b => (long)rows(b.Value));

    private static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
