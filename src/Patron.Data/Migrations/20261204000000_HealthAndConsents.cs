using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Members' encrypted health profiles, their consent records, and pharmacists' follow-up tasks.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261204000000_HealthAndConsents")]
public sealed class HealthAndConsents : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable(
            name: "member_health",
            columns: t => new
            {
                member_id = t.Column<long>(nullable: false),
                cipher = t.Column<string>(nullable: false),
                updated_at = t.Column<DateTime>(nullable: false),
                updated_by = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_member_health", x => x.member_id);
                t.ForeignKey("FK_member_health_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "member_consents",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                kind = t.Column<string>(maxLength: 32, nullable: false),
                granted = t.Column<bool>(nullable: false),
                source = t.Column<string>(maxLength: 20, nullable: false),
                at = t.Column<DateTime>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
                store_id = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_member_consents", x => x.id);
                t.ForeignKey("FK_member_consents_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "care_tasks",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                kind = t.Column<int>(nullable: false),
                due_on = t.Column<DateOnly>(nullable: false),
                cipher = t.Column<string>(nullable: true),
                created_at = t.Column<DateTime>(nullable: false),
                created_by = t.Column<long>(nullable: true),
                done_at = t.Column<DateTime>(nullable: true),
                done_by = t.Column<long>(nullable: true),
                outcome = t.Column<string>(maxLength: 20, nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_care_tasks", x => x.id);
                t.ForeignKey("FK_care_tasks_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.AddColumn<DateTime>("anonymised_at", "members", nullable: true);
        m.CreateIndex("IX_member_consents_member_id_kind_at", "member_consents", ["member_id", "kind", "at"]);
        m.CreateIndex("IX_care_tasks_store_id_done_at_due_on", "care_tasks", ["store_id", "done_at", "due_on"]);
        m.CreateIndex("IX_care_tasks_member_id", "care_tasks", "member_id");
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropColumn("anonymised_at", "members");
        m.DropTable("care_tasks");
        m.DropTable("member_consents");
        m.DropTable("member_health");
    }
}
