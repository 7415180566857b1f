using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>
/// The bonus each stored-value lot forfeited to refunds, so that what it can refund (principal
/// left less bonus spent) tells spent bonus from forfeited bonus; filled from the ledger.
/// </summary>
[DbContext(typeof(PatronDb))]
[Migration("20261130000000_StoredValueBonusForfeited")]
public sealed class StoredValueBonusForfeited : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<long>("bonus_forfeited", "stored_value_lots", nullable: false, defaultValue: 0L);

        // BonusForfeit entries (cause 4) carry the forfeited bonus, negative.
        m.Sql("""
            UPDATE stored_value_lots
            SET bonus_forfeited = COALESCE((SELECT -SUM(e.bonus) FROM stored_value_entries e WHERE e.lot_id = stored_value_lots.id AND e.cause = 4), 0)
            """);
    }

    protected override void Down(MigrationBuilder m) => m.DropColumn("bonus_forfeited", "stored_value_lots");
}
