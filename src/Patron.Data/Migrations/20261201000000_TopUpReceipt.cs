using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>
/// The receipt of a top-up: the balance after it (principal, bonus) and the member's tier before
/// and after it, so a retried top-up answers as the first one did. Null on earlier top-ups.
/// </summary>
[DbContext(typeof(PatronDb))]
[Migration("20261201000000_TopUpReceipt")]
public sealed class TopUpReceipt : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<long>("principal_after", "top_ups", nullable: true);
        m.AddColumn<long>("bonus_after", "top_ups", nullable: true);
        m.AddColumn<string>("tier_before", "top_ups", maxLength: 32, nullable: true);
        m.AddColumn<string>("tier_after", "top_ups", maxLength: 32, nullable: true);
    }

    protected override void Down(MigrationBuilder m)
    {
        foreach (var column in new[] { "principal_after", "bonus_after", "tier_before", "tier_after" })
        {
            m.DropColumn(column, "top_ups");
        }
    }
}
