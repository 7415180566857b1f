using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Card life (status time, sub-card tier, holder, anonymous, replacement link, events with fees) and stored value (lots, entries, top-ups).</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261125000000_CardsAndStoredValue")]
public sealed class CardsAndStoredValue : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<DateTime>("status_at", "cards", nullable: true);
        m.AddColumn<string>("tier", "cards", maxLength: 32, nullable: true);
        m.AddColumn<string>("holder", "cards", maxLength: 50, nullable: true);
        m.AddColumn<bool>("anonymous", "cards", nullable: false, defaultValue: false);
        m.AddColumn<long>("replaces_card_id", "cards", nullable: true);
        m.CreateIndex("IX_cards_status_valid_until", "cards", ["status", "valid_until"]);

        foreach (var column in new[] { "annual_fee_paid", "stored_principal", "stored_bonus" })
        {
            m.AddColumn<long>(column, "member_accounts", nullable: false, defaultValue: 0L);
        }

        foreach (var column in new[] { "stored_principal", "stored_bonus", "returned_stored_principal", "returned_stored_bonus" })
        {
            m.AddColumn<long>(column, "sales", nullable: false, defaultValue: 0L);
        }

        m.AddColumn<long>("store_id", "points_lots", nullable: true);

        m.CreateTable(
            name: "card_events",
            columns: t => new
            {
                id = Schema.Id(t),
                card_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: false),
                program_id = t.Column<long>(nullable: false),
                kind = t.Column<int>(nullable: false),
                fee = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                at = t.Column<DateTime>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
                note = t.Column<string>(maxLength: 200, nullable: true),
                other_card_id = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_card_events", x => x.id);
                t.ForeignKey("FK_card_events_cards_card_id", x => x.card_id, "cards", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "stored_value_lots",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                program_id = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                issued_at = t.Column<DateTime>(nullable: false),
                principal = t.Column<long>(nullable: false),
                bonus = t.Column<long>(nullable: false),
                principal_left = t.Column<long>(nullable: false),
                bonus_left = t.Column<long>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_stored_value_lots", x => x.id);
                t.ForeignKey("FK_stored_value_lots_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_stored_value_lots_stores_store_id", x => x.store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "stored_value_entries",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                program_id = t.Column<long>(nullable: false),
                lot_id = t.Column<long>(nullable: false),
                cause = t.Column<int>(nullable: false),
                principal = t.Column<long>(nullable: false),
                bonus = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                at = t.Column<DateTime>(nullable: false),
                reference = t.Column<string>(maxLength: 200, nullable: true),
                sale_id = t.Column<long>(nullable: true),
                top_up_id = t.Column<long>(nullable: true),
                staff_id = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_stored_value_entries", x => x.id);
                t.ForeignKey("FK_stored_value_entries_stored_value_lots_lot_id", x => x.lot_id, "stored_value_lots", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "top_ups",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: false),
                order_number = t.Column<string>(maxLength: 64, nullable: false),
                at = t.Column<DateTime>(nullable: false),
                amount = t.Column<long>(nullable: false),
                bonus = t.Column<long>(nullable: false),
                gifts = t.Column<string>(maxLength: 500, nullable: false),
                sub_cards = t.Column<int>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
                terminal_id = t.Column<long>(nullable: true),
                request_hash = t.Column<string>(maxLength: 64, nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_top_ups", x => x.id);
                t.ForeignKey("FK_top_ups_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_top_ups_stores_store_id", x => x.store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateIndex("IX_card_events_card_id_at", "card_events", ["card_id", "at"]);
        m.CreateIndex("IX_card_events_member_id_at", "card_events", ["member_id", "at"]);
        m.CreateIndex("IX_card_events_program_id_at", "card_events", ["program_id", "at"]);
        m.CreateIndex("IX_stored_value_lots_member_id", "stored_value_lots", "member_id");
        m.CreateIndex("IX_stored_value_lots_store_id", "stored_value_lots", "store_id");
        m.CreateIndex("IX_stored_value_lots_program_id_store_id_issued_at", "stored_value_lots", ["program_id", "store_id", "issued_at"]);
        m.CreateIndex("IX_stored_value_entries_member_id_at", "stored_value_entries", ["member_id", "at"]);
        m.CreateIndex("IX_stored_value_entries_lot_id", "stored_value_entries", "lot_id");
        m.CreateIndex("IX_stored_value_entries_sale_id", "stored_value_entries", "sale_id");
        m.CreateIndex("IX_top_ups_store_id_order_number", "top_ups", ["store_id", "order_number"], unique: true);
        m.CreateIndex("IX_top_ups_member_id_at", "top_ups", ["member_id", "at"]);
    }

    protected override void Down(MigrationBuilder m)
    {
        foreach (var table in new[] { "top_ups", "stored_value_entries", "stored_value_lots", "card_events" })
        {
            m.DropTable(table);
        }

        m.DropIndex("IX_cards_status_valid_until", "cards");
        foreach (var column in new[] { "status_at", "tier", "holder", "anonymous", "replaces_card_id" })
        {
            m.DropColumn(column, "cards");
        }

        foreach (var column in new[] { "annual_fee_paid", "stored_principal", "stored_bonus" })
        {
            m.DropColumn(column, "member_accounts");
        }

        foreach (var column in new[] { "stored_principal", "stored_bonus", "returned_stored_principal", "returned_stored_bonus" })
        {
            m.DropColumn(column, "sales");
        }

        m.DropColumn("store_id", "points_lots");
    }
}
