using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Member imports from CSV: jobs with their progress, and the refused rows.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261203000000_MemberImport")]
public sealed class MemberImport : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable(
            name: "import_jobs",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                file_name = t.Column<string>(maxLength: 200, nullable: false),
                file_hash = t.Column<string>(maxLength: 64, nullable: false),
                status = t.Column<int>(nullable: false),
                total_rows = t.Column<int>(nullable: false),
                done_rows = t.Column<int>(nullable: false),
                imported = t.Column<int>(nullable: false),
                rejected = t.Column<int>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
                started_at = t.Column<DateTime>(nullable: false),
                updated_at = t.Column<DateTime>(nullable: false),
                finished_at = t.Column<DateTime>(nullable: true),
                message = t.Column<string>(maxLength: 500, nullable: true),
            },
            constraints: t => t.PrimaryKey("PK_import_jobs", x => x.id));

        m.CreateTable(
            name: "import_errors",
            columns: t => new
            {
                id = Schema.Id(t),
                job_id = t.Column<long>(nullable: false),
                row = t.Column<int>(nullable: false),
                column = t.Column<string>(maxLength: 40, nullable: true),
                code = t.Column<string>(maxLength: 60, nullable: false),
                message = t.Column<string>(maxLength: 300, nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_import_errors", x => x.id);
                t.ForeignKey("FK_import_errors_import_jobs_job_id", x => x.job_id, "import_jobs", "id", onDelete: ReferentialAction.Cascade);
            });

        m.CreateIndex("IX_import_jobs_program_id_file_hash", "import_jobs", ["program_id", "file_hash"]);
        m.CreateIndex("IX_import_errors_job_id_row", "import_errors", ["job_id", "row"]);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("import_errors");
        m.DropTable("import_jobs");
    }
}
