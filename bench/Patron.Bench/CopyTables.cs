using Npgsql;
using NpgsqlTypes;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Sales;

namespace Patron.Bench;

public sealed partial class ChainGenerator
{
    /// <summary>
    /// How generated rows map onto Patron's tables (snake_case, as in src/Patron.Data/Migrations).
    /// Each table is checked against the live schema before anything is copied: a NOT NULL column
    /// without a default that the generator does not fill, or a column it needs that is missing,
    /// stops the run with the column's name, so a schema change shows up here and not as bad data.
    /// </summary>
    private sealed class CopyTables
    {
        private CopyTables(Context ctx)
        {
            var programId = ctx.ProgramId;
            var entryTier = ctx.Rules.EntryTier?.Code;
            var memberBase = ctx.MaxIds["members"];
            var cardBase = ctx.MaxIds["cards"];
            var tierChangeBase = ctx.MaxIds["tier_changes"];

            Members = new("members",
            [
                new("id", (w, m) => w.Write(m.Id, NpgsqlDbType.Bigint)),
                new("program_id", (w, _) => w.Write(programId, NpgsqlDbType.Bigint)),
                new("name", (w, m) => w.Write(m.Name, NpgsqlDbType.Varchar)),
                new("mobile", (w, m) => w.Write(m.Mobile, NpgsqlDbType.Varchar)),
                new("mobile_tail", (w, m) => w.Write(m.Mobile[^4..], NpgsqlDbType.Varchar)),
                new("gender", (w, m) => w.Write((int)m.Gender, NpgsqlDbType.Integer)),
                new("birthday", (w, m) => w.Write(m.Birthday, NpgsqlDbType.Date)),
                new("enrol_store_id", (w, m) => w.Write(m.StoreId, NpgsqlDbType.Bigint)),
                new("channel", (w, m) => w.Write(m.Channel, NpgsqlDbType.Varchar)),
                new("enrolled_at", (w, m) => w.Write(m.EnrolledAt, NpgsqlDbType.TimestampTz)),
                new("status", (w, _) => w.Write((int)MemberStatus.Active, NpgsqlDbType.Integer)),
            ]);

            // One virtual or physical card per member, issued at enrolment; ids follow the members'.
            Cards = new("cards",
            [
                new("id", (w, m) => w.Write(cardBase + (m.Id - memberBase), NpgsqlDbType.Bigint)),
                new("program_id", (w, _) => w.Write(programId, NpgsqlDbType.Bigint)),
                new("member_id", (w, m) => w.Write(m.Id, NpgsqlDbType.Bigint)),
                new("number", (w, m) => w.Write(m.CardNumber, NpgsqlDbType.Varchar)),
                new("kind", (w, m) => w.Write((int)m.CardKind, NpgsqlDbType.Integer)),
                new("status", (w, _) => w.Write((int)CardStatus.Active, NpgsqlDbType.Integer)),
                new("issued_store_id", (w, m) => w.Write(m.StoreId, NpgsqlDbType.Bigint)),
                new("issued_at", (w, m) => w.Write(m.EnrolledAt, NpgsqlDbType.TimestampTz)),
            ]);

            Accounts = new("member_accounts",
            [
                new("member_id", (w, a) => w.Write(a.MemberId, NpgsqlDbType.Bigint)),
                new("program_id", (w, _) => w.Write(programId, NpgsqlDbType.Bigint)),
                new("balance", (w, a) => w.Write(a.Balance, NpgsqlDbType.Bigint)),
                new("debt", (w, _) => w.Write(0L, NpgsqlDbType.Bigint)),
                new("tier", (w, _) => WriteOrNull(w, entryTier, NpgsqlDbType.Varchar)),
                new("tier_since", (w, a) => w.Write(a.TierSince, NpgsqlDbType.TimestampTz)),
                new("cumulative_earned", (w, a) => w.Write(a.Earned, NpgsqlDbType.Bigint)),
                new("cumulative_spend", (w, a) => w.Write(a.Spend, NpgsqlDbType.Bigint)),
                new("largest_purchase", (w, a) => w.Write(a.Largest, NpgsqlDbType.Bigint)),
                new("largest_top_up", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
                new("spend_year", (w, a) => w.Write(a.SpendYear, NpgsqlDbType.Integer)),
                new("year_spend", (w, a) => w.Write(a.YearSpend, NpgsqlDbType.Bigint)),
                new("last_purchase_at", (w, a) => WriteOrNull(w, a.LastPurchaseAt, NpgsqlDbType.TimestampTz)),
                new("tier_base_earned", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
                new("tier_base_spend", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
                new("row_version", (w, a) => w.Write(a.RowVersion, NpgsqlDbType.Bigint)),
            ]);

            // The tier history starts with the entry tier at enrolment, as the server's first ledger change writes it.
            TierChanges = new("tier_changes",
            [
                new("id", (w, m) => w.Write(tierChangeBase + (m.Id - memberBase), NpgsqlDbType.Bigint)),
                new("member_id", (w, m) => w.Write(m.Id, NpgsqlDbType.Bigint)),
                new("to_tier", (w, _) => WriteOrNull(w, entryTier, NpgsqlDbType.Varchar)),
                new("reason", (w, _) => w.Write(0, NpgsqlDbType.Integer)),
                new("at", (w, m) => w.Write(m.EnrolledAt, NpgsqlDbType.TimestampTz)),
            ]);

            Sales = new("sales",
            [
                new("id", (w, s) => w.Write(s.Id, NpgsqlDbType.Bigint)),
                new("kind", (w, _) => w.Write((int)SaleKind.Sale, NpgsqlDbType.Integer)),
                new("program_id", (w, _) => w.Write(programId, NpgsqlDbType.Bigint)),
                new("store_id", (w, s) => w.Write(s.StoreId, NpgsqlDbType.Bigint)),
                new("member_id", (w, s) => w.Write(s.MemberId, NpgsqlDbType.Bigint)),
                new("order_number", (w, s) => w.Write(s.Order, NpgsqlDbType.Varchar)),
                new("at", (w, s) => w.Write(s.At, NpgsqlDbType.TimestampTz)),
                new("local_date", (w, s) => w.Write(s.LocalDate, NpgsqlDbType.Date)),
                new("amount", (w, s) => w.Write(s.Amount, NpgsqlDbType.Bigint)),
                new("discount", (w, s) => w.Write(s.Discount, NpgsqlDbType.Bigint)),
                new("paid", (w, s) => w.Write(s.Paid, NpgsqlDbType.Bigint)),
                new("points", (w, s) => w.Write(s.Points, NpgsqlDbType.Bigint)),
                new("points_used", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
                new("points_value", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
                new("returned_points_used", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
                new("returned_points_value", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
            ]);

            Lines = new("sale_lines",
            [
                new("id", (w, l) => w.Write(l.Id, NpgsqlDbType.Bigint)),
                new("sale_id", (w, l) => w.Write(l.SaleId, NpgsqlDbType.Bigint)),
                new("line_no", (w, l) => w.Write(l.LineNo, NpgsqlDbType.Integer)),
                new("sku", (w, l) => w.Write(l.Item.Sku, NpgsqlDbType.Varchar)),
                new("name", (w, l) => w.Write(l.Item.Name, NpgsqlDbType.Varchar)),
                new("category", (w, l) => w.Write(l.Item.Category, NpgsqlDbType.Varchar)),
                new("flags", (w, l) => w.Write(l.Item.Flag ?? "", NpgsqlDbType.Varchar)),
                new("quantity", (w, l) => w.Write(l.Quantity, NpgsqlDbType.Integer)),
                new("unit_price", (w, l) => w.Write(l.Item.Price, NpgsqlDbType.Bigint)),
                new("amount", (w, l) => w.Write(l.Amount, NpgsqlDbType.Bigint)),
                new("discount", (w, l) => w.Write(l.Discount, NpgsqlDbType.Bigint)),
                new("paid", (w, l) => w.Write(l.Paid, NpgsqlDbType.Bigint)),
                new("discount_rule", (w, l) => WriteOrNull(w, l.Rule, NpgsqlDbType.Varchar)),
                new("points", (w, l) => w.Write(l.Points, NpgsqlDbType.Bigint)),
                new("returned_quantity", (w, _) => w.Write(0, NpgsqlDbType.Integer)),
                new("returned_paid", (w, _) => w.Write(0L, NpgsqlDbType.Bigint)),
                new("returned_points", (w, _) => w.Write(0L, NpgsqlDbType.Bigint)),
                new("returned_amount", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
                new("returned_discount", (w, _) => w.Write(0L, NpgsqlDbType.Bigint), Optional: true),
            ]);

            Lots = new("points_lots",
            [
                new("id", (w, l) => w.Write(l.Id, NpgsqlDbType.Bigint)),
                new("member_id", (w, l) => w.Write(l.MemberId, NpgsqlDbType.Bigint)),
                new("earned_at", (w, l) => w.Write(l.EarnedAt, NpgsqlDbType.TimestampTz)),
                new("expires_at", (w, l) => WriteOrNull(w, l.ExpiresAt, NpgsqlDbType.TimestampTz)),
                new("points", (w, l) => w.Write(l.Points, NpgsqlDbType.Bigint)),
                new("remaining", (w, l) => w.Write(l.Remaining, NpgsqlDbType.Bigint)),
            ]);

            Entries = new("points_entries",
            [
                new("id", (w, e) => w.Write(e.Id, NpgsqlDbType.Bigint)),
                new("member_id", (w, e) => w.Write(e.MemberId, NpgsqlDbType.Bigint)),
                new("points", (w, e) => w.Write(e.Points, NpgsqlDbType.Bigint)),
                new("cause", (w, e) => w.Write((int)e.Cause, NpgsqlDbType.Integer)),
                new("at", (w, e) => w.Write(e.At, NpgsqlDbType.TimestampTz)),
                new("reference", (w, e) => WriteOrNull(w, e.Reference, NpgsqlDbType.Varchar)),
                new("lot_id", (w, e) => w.Write(e.LotId, NpgsqlDbType.Bigint)),
                new("debt_incurred", (w, _) => w.Write(0L, NpgsqlDbType.Bigint)),
                new("debt_repaid", (w, _) => w.Write(0L, NpgsqlDbType.Bigint)),
                new("sale_id", (w, e) => WriteOrNull(w, e.SaleId, NpgsqlDbType.Bigint)),
            ]);

            All = [Members, Cards, Accounts, TierChanges, Sales, Lines, Lots, Entries];
        }

        public CopyTable<MemberRow> Members { get; }

        public CopyTable<MemberRow> Cards { get; }

        public CopyTable<AccountRow> Accounts { get; }

        public CopyTable<MemberRow> TierChanges { get; }

        public CopyTable<SaleRow> Sales { get; }

        public CopyTable<LineRow> Lines { get; }

        public CopyTable<LotRow> Lots { get; }

        public CopyTable<EntryRow> Entries { get; }

        public IReadOnlyList<ICopyTable> All { get; }

        public static CopyTables For(Context ctx) => new(ctx);

        /// <summary>Copies one chunk, parents before children (the foreign keys are checked row by row).</summary>
        public async Task CopyAsync(NpgsqlConnection conn, Chunk chunk, CancellationToken ct)
        {
            await Members.CopyAsync(conn, chunk.Members, ct);
            await Cards.CopyAsync(conn, chunk.Members, ct);
            await Accounts.CopyAsync(conn, chunk.Accounts, ct);
            await TierChanges.CopyAsync(conn, chunk.Members, ct);
            await Sales.CopyAsync(conn, chunk.Sales, ct);
            await Lines.CopyAsync(conn, chunk.Lines, ct);
            await Lots.CopyAsync(conn, chunk.Lots, ct);
            await Entries.CopyAsync(conn, chunk.Entries, ct);
        }

        private static void WriteOrNull(NpgsqlBinaryImporter w, string? value, NpgsqlDbType type)
        {
            if (value is null)
            {
                w.WriteNull();
            }
            else
            {
                w.Write(value, type);
            }
        }

        private static void WriteOrNull<T>(NpgsqlBinaryImporter w, T? value, NpgsqlDbType type)
            where T : struct
        {
            if (value is { } v)
            {
                w.Write(v, type);
            }
            else
            {
                w.WriteNull();
            }
        }
    }

    private interface ICopyTable
    {
        Task PrepareAsync(NpgsqlConnection conn, CancellationToken ct);
    }

    /// <summary>A column the generator fills. An optional one is skipped when the table lacks it (its value is the zero a newer schema expects).</summary>
    private sealed record Column<T>(string Name, Action<NpgsqlBinaryImporter, T> Write, bool Optional = false);

    private sealed class CopyTable<T>(string name, IReadOnlyList<Column<T>> columns) : ICopyTable
    {
        private IReadOnlyList<Column<T>>? _present;

        /// <summary>Reads the table's columns and keeps the ones to write; fails on a mismatch that would lose or invent data.</summary>
        public async Task PrepareAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            var live = new Dictionary<string, bool>(StringComparer.Ordinal); // column → NOT NULL without default
            await using (var cmd = new NpgsqlCommand("""
                SELECT column_name, is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' AND is_generated = 'NEVER'
                FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @t
                """, conn))
            {
                cmd.Parameters.AddWithValue("t", name);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    live[r.GetString(0)] = r.GetBoolean(1);
                }
            }

            if (live.Count == 0)
            {
                throw new InvalidOperationException($"Table {name} does not exist: is the database migrated (patron migrate / seed-demo)?");
            }

            var missing = columns.Where(c => !c.Optional && !live.ContainsKey(c.Name)).Select(c => c.Name).ToList();
            var unfilled = live.Where(c => c.Value && columns.All(x => x.Name != c.Key)).Select(c => c.Key).ToList();
            if (missing.Count > 0 || unfilled.Count > 0)
            {
                throw new InvalidOperationException($"The schema of {name} differs from what the generator knows: "
                    + (missing.Count > 0 ? $"missing column(s) {string.Join(", ", missing)}; " : "")
                    + (unfilled.Count > 0 ? $"required column(s) it does not fill: {string.Join(", ", unfilled)}; " : "")
                    + "update bench/Patron.Bench/CopyTables.cs.");
            }

            _present = [.. columns.Where(c => live.ContainsKey(c.Name))];
        }

        public async Task CopyAsync(NpgsqlConnection conn, IReadOnlyList<T> rows, CancellationToken ct)
        {
            if (rows.Count == 0)
            {
                return;
            }

            var present = _present ?? throw new InvalidOperationException($"{name}: PrepareAsync first.");
            var sql = $"COPY {name} ({string.Join(", ", present.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)";
            await using var w = await conn.BeginBinaryImportAsync(sql, ct);
            foreach (var row in rows)
            {
                w.StartRow();
                foreach (var c in present)
                {
                    c.Write(w, row);
                }
            }

            await w.CompleteAsync(ct);
        }
    }
}
