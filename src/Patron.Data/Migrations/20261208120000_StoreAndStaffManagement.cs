using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Store district and address; who revoked a terminal, and when and by whom its key was last replaced.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261208120000_StoreAndStaffManagement")]
public sealed class StoreAndStaffManagement : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<string>("district", "stores", maxLength: 50, nullable: false, defaultValue: "");
        m.AddColumn<string>("address", "stores", maxLength: 200, nullable: false, defaultValue: "");
        m.AddColumn<long>("revoked_by_staff_id", "terminals", nullable: true);
        m.AddColumn<DateTime>("key_rotated_at", "terminals", nullable: true);
        m.AddColumn<long>("key_rotated_by_staff_id", "terminals", nullable: true);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropColumn("key_rotated_by_staff_id", "terminals");
        m.DropColumn("key_rotated_at", "terminals");
        m.DropColumn("revoked_by_staff_id", "terminals");
        m.DropColumn("address", "stores");
        m.DropColumn("district", "stores");
    }
}
