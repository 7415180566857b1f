using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>
/// The order in which a program's versions were published, and for each version the last publish
/// it had seen when it was made: a draft made before another version was published is known by
/// that, whatever the version numbers or the clock. Versions published before are ordered by their
/// publishing time; a draft that exists now counts as made after the publishes of the versions
/// numbered below it (the rule before this one: a version numbered above a draft is newer).
/// </summary>
[DbContext(typeof(PatronDb))]
[Migration("20261210300000_ProgramPublishOrder")]
public sealed class ProgramPublishOrder : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<int>("publish_order", "program_versions", nullable: true);
        m.AddColumn<int>("published_before", "program_versions", nullable: false, defaultValue: 0);
        m.Sql("""
            UPDATE program_versions SET publish_order = (
                SELECT COUNT(*) FROM program_versions p
                WHERE p.program_id = program_versions.program_id AND p.status = 1
                  AND (p.published_at < program_versions.published_at OR (p.published_at = program_versions.published_at AND p.id <= program_versions.id)))
            WHERE status = 1;
            """);
        m.Sql("""
            UPDATE program_versions SET published_before = COALESCE((
                SELECT MAX(p.publish_order) FROM program_versions p
                WHERE p.program_id = program_versions.program_id AND p.version < program_versions.version), 0)
            WHERE status = 0;
            """);
        m.CreateIndex("IX_program_versions_program_id_publish_order", "program_versions", ["program_id", "publish_order"], unique: true);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropIndex("IX_program_versions_program_id_publish_order", "program_versions");
        m.DropColumn("published_before", "program_versions");
        m.DropColumn("publish_order", "program_versions");
    }
}
