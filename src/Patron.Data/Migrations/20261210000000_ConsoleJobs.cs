using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Long console jobs (program simulations, member exports) run in the background, and the files they produce.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261210000000_ConsoleJobs")]
public sealed class ConsoleJobs : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable(
            name: "console_jobs",
            columns: t => new
            {
                id = Schema.Id(t),
                kind = t.Column<int>(nullable: false),
                staff_id = t.Column<long>(nullable: false),
                parameters = t.Column<string>(nullable: false),
                status = t.Column<int>(nullable: false),
                fraction = t.Column<double>(nullable: false),
                heartbeat_at = t.Column<DateTime>(nullable: true),
                attempts = t.Column<int>(nullable: false),
                created_at = t.Column<DateTime>(nullable: false),
                started_at = t.Column<DateTime>(nullable: true),
                finished_at = t.Column<DateTime>(nullable: true),
                error_code = t.Column<string>(maxLength: 60, nullable: true),
                error_message = t.Column<string>(maxLength: 500, nullable: true),
                result = t.Column<string>(nullable: true),
                file_name = t.Column<string>(maxLength: 100, nullable: true),
                file_size = t.Column<long>(nullable: true),
            },
            constraints: t => t.PrimaryKey("PK_console_jobs", x => x.id));

        m.CreateTable(
            name: "console_job_files",
            columns: t => new
            {
                job_id = t.Column<long>(nullable: false),
                content_type = t.Column<string>(maxLength: 100, nullable: false),
                content = t.Column<byte[]>(nullable: false),
                created_at = t.Column<DateTime>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_console_job_files", x => x.job_id);
                t.ForeignKey("FK_console_job_files_console_jobs_job_id", x => x.job_id, "console_jobs", "id", onDelete: ReferentialAction.Cascade);
            });

        m.CreateIndex("IX_console_jobs_status_id", "console_jobs", ["status", "id"]);
        m.CreateIndex("IX_console_jobs_staff_id_id", "console_jobs", ["staff_id", "id"]);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("console_job_files");
        m.DropTable("console_jobs");
    }
}
