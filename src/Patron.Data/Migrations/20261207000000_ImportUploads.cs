using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Member files uploaded for import in the console or through the API: their runs' state, and the refused rows of check-only runs.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261207000000_ImportUploads")]
public sealed class ImportUploads : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable(
            name: "import_uploads",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                store_code = t.Column<string>(maxLength: 32, nullable: true),
                check_only = t.Column<bool>(nullable: false),
                file_name = t.Column<string>(maxLength: 200, nullable: false),
                file_size = t.Column<long>(nullable: false),
                file_hash = t.Column<string>(maxLength: 64, nullable: false),
                stored_name = t.Column<string>(maxLength: 64, nullable: true),
                status = t.Column<int>(nullable: false),
                attempts = t.Column<int>(nullable: false),
                rows = t.Column<int>(nullable: false),
                imported = t.Column<int>(nullable: false),
                rejected = t.Column<int>(nullable: false),
                fraction = t.Column<double>(nullable: false),
                rows_per_second = t.Column<double>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
                queued_at = t.Column<DateTime>(nullable: false),
                started_at = t.Column<DateTime>(nullable: true),
                finished_at = t.Column<DateTime>(nullable: true),
                heartbeat_at = t.Column<DateTime>(nullable: true),
                import_job_id = t.Column<long>(nullable: true),
                checked_upload_id = t.Column<long>(nullable: true),
                imported_as_id = t.Column<long>(nullable: true),
                error_code = t.Column<string>(maxLength: 60, nullable: true),
                message = t.Column<string>(maxLength: 500, nullable: true),
            },
            constraints: t => t.PrimaryKey("PK_import_uploads", x => x.id));

        m.CreateTable(
            name: "import_upload_errors",
            columns: t => new
            {
                id = Schema.Id(t),
                upload_id = t.Column<long>(nullable: false),
                row = t.Column<int>(nullable: false),
                column = t.Column<string>(maxLength: 40, nullable: true),
                code = t.Column<string>(maxLength: 60, nullable: false),
                message = t.Column<string>(maxLength: 300, nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_import_upload_errors", x => x.id);
                t.ForeignKey("FK_import_upload_errors_import_uploads_upload_id", x => x.upload_id, "import_uploads", "id", onDelete: ReferentialAction.Cascade);
            });

        m.CreateIndex("IX_import_uploads_status_id", "import_uploads", ["status", "id"]);
        m.CreateIndex("IX_import_uploads_program_id_file_hash", "import_uploads", ["program_id", "file_hash"]);
        m.CreateIndex("IX_import_upload_errors_upload_id_row", "import_upload_errors", ["upload_id", "row"]);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("import_upload_errors");
        m.DropTable("import_uploads");
    }
}
