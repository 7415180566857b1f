using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Migrations.Operations.Builders;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace Patron.Data.Migrations;

/// <summary>Organisation, staff, terminals, members, cards and the audit log.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261122000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable(
            name: "programs",
            columns: t => new
            {
                id = Schema.Id(t),
                code = t.Column<string>(maxLength: 32, nullable: false),
                name = t.Column<string>(maxLength: 100, nullable: false),
                card_prefix = t.Column<string>(maxLength: 8, nullable: false),
                card_sequence = t.Column<long>(nullable: false),
            },
            constraints: t => t.PrimaryKey("PK_programs", x => x.id));

        m.CreateTable(
            name: "regions",
            columns: t => new
            {
                id = Schema.Id(t),
                code = t.Column<string>(maxLength: 32, nullable: false),
                name = t.Column<string>(maxLength: 100, nullable: false),
            },
            constraints: t => t.PrimaryKey("PK_regions", x => x.id));

        m.CreateTable(
            name: "stores",
            columns: t => new
            {
                id = Schema.Id(t),
                code = t.Column<string>(maxLength: 32, nullable: false),
                name = t.Column<string>(maxLength: 100, nullable: false),
                region_id = t.Column<long>(nullable: false),
                city = t.Column<string>(maxLength: 50, nullable: false),
                program_id = t.Column<long>(nullable: false),
                time_zone = t.Column<string>(maxLength: 64, nullable: false),
                is_active = t.Column<bool>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_stores", x => x.id);
                t.ForeignKey("FK_stores_programs_program_id", x => x.program_id, "programs", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_stores_regions_region_id", x => x.region_id, "regions", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "staff",
            columns: t => new
            {
                id = Schema.Id(t),
                login = t.Column<string>(maxLength: 64, nullable: false),
                display_name = t.Column<string>(maxLength: 100, nullable: false),
                role = t.Column<int>(nullable: false),
                password_hash = t.Column<string>(maxLength: 200, nullable: false),
                is_active = t.Column<bool>(nullable: false),
                failed_logins = t.Column<int>(nullable: false),
                locked_until = t.Column<DateTime>(nullable: true),
                security_stamp = t.Column<string>(maxLength: 64, nullable: false),
            },
            constraints: t => t.PrimaryKey("PK_staff", x => x.id));

        m.CreateTable(
            name: "staff_stores",
            columns: t => new
            {
                staff_id = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_staff_stores", x => new { x.staff_id, x.store_id });
                t.ForeignKey("FK_staff_stores_staff_staff_id", x => x.staff_id, "staff", "id", onDelete: ReferentialAction.Cascade);
                t.ForeignKey("FK_staff_stores_stores_store_id", x => x.store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "terminals",
            columns: t => new
            {
                id = Schema.Id(t),
                store_id = t.Column<long>(nullable: false),
                name = t.Column<string>(maxLength: 100, nullable: false),
                key_id = t.Column<string>(maxLength: 32, nullable: false),
                key_hash = t.Column<string>(maxLength: 64, nullable: false),
                created_by_staff_id = t.Column<long>(nullable: true),
                created_at = t.Column<DateTime>(nullable: false),
                revoked_at = t.Column<DateTime>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_terminals", x => x.id);
                t.ForeignKey("FK_terminals_staff_created_by_staff_id", x => x.created_by_staff_id, "staff", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_terminals_stores_store_id", x => x.store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "members",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                name = t.Column<string>(maxLength: 50, nullable: false),
                mobile = t.Column<string>(maxLength: 11, nullable: false),
                mobile_tail = t.Column<string>(maxLength: 4, nullable: false),
                gender = t.Column<int>(nullable: false),
                birthday = t.Column<DateOnly>(nullable: true),
                id_number_hash = t.Column<string>(maxLength: 64, nullable: true),
                id_number_cipher = t.Column<string>(maxLength: 1000, nullable: true),
                id_number_tail = t.Column<string>(maxLength: 4, nullable: true),
                enrol_store_id = t.Column<long>(nullable: false),
                enrol_staff_id = t.Column<long>(nullable: true),
                enrol_terminal_id = t.Column<long>(nullable: true),
                channel = t.Column<string>(maxLength: 20, nullable: false),
                enrolled_at = t.Column<DateTime>(nullable: false),
                status = t.Column<int>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_members", x => x.id);
                t.ForeignKey("FK_members_programs_program_id", x => x.program_id, "programs", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_members_staff_enrol_staff_id", x => x.enrol_staff_id, "staff", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_members_stores_enrol_store_id", x => x.enrol_store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_members_terminals_enrol_terminal_id", x => x.enrol_terminal_id, "terminals", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "cards",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: false),
                number = t.Column<string>(maxLength: 24, nullable: false),
                kind = t.Column<int>(nullable: false),
                status = t.Column<int>(nullable: false),
                issued_store_id = t.Column<long>(nullable: false),
                issued_at = t.Column<DateTime>(nullable: false),
                valid_until = t.Column<DateTime>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_cards", x => x.id);
                t.ForeignKey("FK_cards_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_cards_programs_program_id", x => x.program_id, "programs", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_cards_stores_issued_store_id", x => x.issued_store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "audit_log",
            columns: t => new
            {
                id = Schema.Id(t),
                at = t.Column<DateTime>(nullable: false),
                actor_kind = t.Column<int>(nullable: false),
                actor_id = t.Column<long>(nullable: true),
                action = t.Column<string>(maxLength: 64, nullable: false),
                store_id = t.Column<long>(nullable: true),
                member_id = t.Column<long>(nullable: true),
                entity_type = t.Column<string>(maxLength: 32, nullable: true),
                entity_id = t.Column<long>(nullable: true),
                detail = t.Column<string>(maxLength: 4000, nullable: true),
            },
            constraints: t => t.PrimaryKey("PK_audit_log", x => x.id));

        m.CreateTable(
            name: "app_secrets",
            columns: t => new
            {
                name = t.Column<string>(maxLength: 64, nullable: false),
                protected_value = t.Column<string>(maxLength: 2000, nullable: false),
                created_at = t.Column<DateTime>(nullable: false),
            },
            constraints: t => t.PrimaryKey("PK_app_secrets", x => x.name));

        m.CreateTable(
            name: "data_protection_keys",
            columns: t => new
            {
                id = t.Column<int>(nullable: false)
                    .Annotation("Sqlite:Autoincrement", true)
                    .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                friendly_name = t.Column<string>(nullable: true),
                xml = t.Column<string>(nullable: true),
            },
            constraints: t => t.PrimaryKey("PK_data_protection_keys", x => x.id));

        m.CreateIndex("IX_programs_code", "programs", "code", unique: true);
        m.CreateIndex("IX_regions_code", "regions", "code", unique: true);
        m.CreateIndex("IX_stores_code", "stores", "code", unique: true);
        m.CreateIndex("IX_stores_program_id", "stores", "program_id");
        m.CreateIndex("IX_stores_region_id", "stores", "region_id");
        m.CreateIndex("IX_staff_login", "staff", "login", unique: true);
        m.CreateIndex("IX_staff_stores_store_id", "staff_stores", "store_id");
        m.CreateIndex("IX_terminals_key_id", "terminals", "key_id", unique: true);
        m.CreateIndex("IX_terminals_store_id", "terminals", "store_id");
        m.CreateIndex("IX_terminals_created_by_staff_id", "terminals", "created_by_staff_id");
        m.CreateIndex("IX_members_program_id_mobile", "members", ["program_id", "mobile"], unique: true);
        m.CreateIndex("IX_members_program_id_id_number_hash", "members", ["program_id", "id_number_hash"], unique: true);
        m.CreateIndex("IX_members_program_id_name", "members", ["program_id", "name"]);
        m.CreateIndex("IX_members_enrol_store_id_id", "members", ["enrol_store_id", "id"]);
        m.CreateIndex("IX_members_enrol_staff_id", "members", "enrol_staff_id");
        m.CreateIndex("IX_members_enrol_terminal_id", "members", "enrol_terminal_id");
        m.CreateIndex("IX_cards_number", "cards", "number", unique: true);
        m.CreateIndex("IX_cards_member_id", "cards", "member_id");
        m.CreateIndex("IX_cards_program_id", "cards", "program_id");
        m.CreateIndex("IX_cards_issued_store_id", "cards", "issued_store_id");
        m.CreateIndex("IX_audit_log_at", "audit_log", "at");
        m.CreateIndex("IX_audit_log_member_id", "audit_log", "member_id");
        m.CreateIndex("IX_audit_log_store_id", "audit_log", "store_id");
    }

    protected override void Down(MigrationBuilder m)
    {
        foreach (var table in new[] { "data_protection_keys", "app_secrets", "audit_log", "cards", "members", "terminals", "staff_stores", "staff", "stores", "regions", "programs" })
        {
            m.DropTable(table);
        }
    }
}

/// <summary>Column shapes shared by hand-written migrations, one definition for both providers.</summary>
internal static class Schema
{
    /// <summary>A bigint identity key: AUTOINCREMENT on SQLite, GENERATED BY DEFAULT AS IDENTITY on PostgreSQL.</summary>
    public static OperationBuilder<AddColumnOperation> Id(ColumnsBuilder t) =>
        t.Column<long>(nullable: false)
            .Annotation("Sqlite:Autoincrement", true)
            .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn);
}
