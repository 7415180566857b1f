using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Program versions, member accounts, the points ledger, sales, rewards, tier history, adjustments and job claims.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261123000000_ProgramEngine")]
public sealed class ProgramEngine : Migration
{
    private static readonly string[] Tables =
    [
        "idempotency_keys", "job_runs", "points_adjustments", "tier_changes", "milestone_progress", "entitlements", "redemptions", "coupons",
        "sale_lines", "sales", "points_entries", "points_lots", "member_accounts", "program_versions",
    ];

    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable(
            name: "program_versions",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                version = t.Column<int>(nullable: false),
                effective_from = t.Column<DateOnly>(nullable: false),
                status = t.Column<int>(nullable: false),
                definition = t.Column<string>(nullable: false),
                created_at = t.Column<DateTime>(nullable: false),
                created_by = t.Column<long>(nullable: true),
                updated_at = t.Column<DateTime>(nullable: false),
                published_at = t.Column<DateTime>(nullable: true),
                published_by = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_program_versions", x => x.id);
                t.ForeignKey("FK_program_versions_programs_program_id", x => x.program_id, "programs", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "member_accounts",
            columns: t => new
            {
                member_id = t.Column<long>(nullable: false),
                program_id = t.Column<long>(nullable: false),
                balance = t.Column<long>(nullable: false),
                debt = t.Column<long>(nullable: false),
                tier = t.Column<string>(maxLength: 32, nullable: true),
                tier_since = t.Column<DateTime>(nullable: false),
                cumulative_earned = t.Column<long>(nullable: false),
                cumulative_spend = t.Column<long>(nullable: false),
                largest_purchase = t.Column<long>(nullable: false),
                largest_top_up = t.Column<long>(nullable: false),
                spend_year = t.Column<int>(nullable: false),
                year_spend = t.Column<long>(nullable: false),
                last_purchase_at = t.Column<DateTime>(nullable: true),
                tier_base_earned = t.Column<long>(nullable: false),
                tier_base_spend = t.Column<long>(nullable: false),
                row_version = t.Column<long>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_member_accounts", x => x.member_id);
                t.ForeignKey("FK_member_accounts_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_member_accounts_programs_program_id", x => x.program_id, "programs", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "points_lots",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                earned_at = t.Column<DateTime>(nullable: false),
                expires_at = t.Column<DateTime>(nullable: true),
                points = t.Column<long>(nullable: false),
                remaining = t.Column<long>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_points_lots", x => x.id);
                t.ForeignKey("FK_points_lots_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "points_entries",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                points = t.Column<long>(nullable: false),
                cause = t.Column<int>(nullable: false),
                at = t.Column<DateTime>(nullable: false),
                reference = t.Column<string>(maxLength: 200, nullable: true),
                lot_id = t.Column<long>(nullable: true),
                debt_incurred = t.Column<long>(nullable: false),
                debt_repaid = t.Column<long>(nullable: false),
                sale_id = t.Column<long>(nullable: true),
                staff_id = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_points_entries", x => x.id);
                t.ForeignKey("FK_points_entries_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_points_entries_points_lots_lot_id", x => x.lot_id, "points_lots", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "sales",
            columns: t => new
            {
                id = Schema.Id(t),
                kind = t.Column<int>(nullable: false),
                program_id = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: true),
                order_number = t.Column<string>(maxLength: 64, nullable: false),
                at = t.Column<DateTime>(nullable: false),
                local_date = t.Column<DateOnly>(nullable: false),
                original_sale_id = t.Column<long>(nullable: true),
                amount = t.Column<long>(nullable: false),
                discount = t.Column<long>(nullable: false),
                paid = t.Column<long>(nullable: false),
                points = t.Column<long>(nullable: false),
                points_used = t.Column<long>(nullable: false),
                points_value = t.Column<long>(nullable: false),
                returned_points_used = t.Column<long>(nullable: false),
                returned_points_value = t.Column<long>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
                terminal_id = t.Column<long>(nullable: true),
                request_hash = t.Column<string>(maxLength: 64, nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_sales", x => x.id);
                t.ForeignKey("FK_sales_stores_store_id", x => x.store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "sale_lines",
            columns: t => new
            {
                id = Schema.Id(t),
                sale_id = t.Column<long>(nullable: false),
                line_no = t.Column<int>(nullable: false),
                sku = t.Column<string>(maxLength: 64, nullable: false),
                name = t.Column<string>(maxLength: 200, nullable: true),
                category = t.Column<string>(maxLength: 64, nullable: true),
                brand = t.Column<string>(maxLength: 64, nullable: true),
                flags = t.Column<string>(maxLength: 200, nullable: false),
                quantity = t.Column<int>(nullable: false),
                unit_price = t.Column<long>(nullable: false),
                amount = t.Column<long>(nullable: false),
                discount = t.Column<long>(nullable: false),
                paid = t.Column<long>(nullable: false),
                discount_rule = t.Column<string>(maxLength: 200, nullable: true),
                points = t.Column<long>(nullable: false),
                returned_quantity = t.Column<int>(nullable: false),
                returned_paid = t.Column<long>(nullable: false),
                returned_points = t.Column<long>(nullable: false),
                returned_amount = t.Column<long>(nullable: false),
                returned_discount = t.Column<long>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_sale_lines", x => x.id);
                t.ForeignKey("FK_sale_lines_sales_sale_id", x => x.sale_id, "sales", "id", onDelete: ReferentialAction.Cascade);
            });

        m.CreateTable(
            name: "coupons",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: false),
                code = t.Column<string>(maxLength: 32, nullable: false),
                name = t.Column<string>(maxLength: 100, nullable: false),
                value = t.Column<long>(nullable: false),
                terms = t.Column<string>(maxLength: 500, nullable: true),
                source = t.Column<int>(nullable: false),
                source_ref = t.Column<string>(maxLength: 100, nullable: true),
                status = t.Column<int>(nullable: false),
                issued_at = t.Column<DateTime>(nullable: false),
                expires_at = t.Column<DateTime>(nullable: true),
                used_at = t.Column<DateTime>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_coupons", x => x.id);
                t.ForeignKey("FK_coupons_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "redemptions",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                item_code = t.Column<string>(maxLength: 32, nullable: false),
                item_name = t.Column<string>(maxLength: 100, nullable: false),
                points = t.Column<long>(nullable: false),
                value = t.Column<long>(nullable: false),
                coupon_id = t.Column<long>(nullable: true),
                status = t.Column<int>(nullable: false),
                at = t.Column<DateTime>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_redemptions", x => x.id);
                t.ForeignKey("FK_redemptions_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "entitlements",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: false),
                code = t.Column<string>(maxLength: 32, nullable: false),
                name = t.Column<string>(maxLength: 100, nullable: false),
                year = t.Column<int>(nullable: false),
                granted_at = t.Column<DateTime>(nullable: false),
                expires_at = t.Column<DateTime>(nullable: false),
                used_at = t.Column<DateTime>(nullable: true),
                used_store_id = t.Column<long>(nullable: true),
                used_by_staff_id = t.Column<long>(nullable: true),
                revoked_at = t.Column<DateTime>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_entitlements", x => x.id);
                t.ForeignKey("FK_entitlements_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "milestone_progress",
            columns: t => new
            {
                member_id = t.Column<long>(nullable: false),
                rule_id = t.Column<string>(maxLength: 32, nullable: false),
                counter = t.Column<long>(nullable: false),
                next_step = t.Column<int>(nullable: false),
                resets_year = t.Column<int>(nullable: false),
                resets = t.Column<int>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_milestone_progress", x => new { x.member_id, x.rule_id });
                t.ForeignKey("FK_milestone_progress_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "tier_changes",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                from_tier = t.Column<string>(maxLength: 32, nullable: true),
                to_tier = t.Column<string>(maxLength: 32, nullable: true),
                reason = t.Column<int>(nullable: false),
                at = t.Column<DateTime>(nullable: false),
                staff_id = t.Column<long>(nullable: true),
                note = t.Column<string>(maxLength: 200, nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_tier_changes", x => x.id);
                t.ForeignKey("FK_tier_changes_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "points_adjustments",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: false),
                store_id = t.Column<long>(nullable: false),
                points = t.Column<long>(nullable: false),
                reason = t.Column<string>(maxLength: 200, nullable: false),
                requested_by = t.Column<long>(nullable: false),
                requested_role = t.Column<string>(maxLength: 32, nullable: false),
                requested_at = t.Column<DateTime>(nullable: false),
                status = t.Column<int>(nullable: false),
                decided_by = t.Column<long>(nullable: true),
                decided_at = t.Column<DateTime>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_points_adjustments", x => x.id);
                t.ForeignKey("FK_points_adjustments_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "job_runs",
            columns: t => new
            {
                job = t.Column<string>(maxLength: 64, nullable: false),
                period = t.Column<string>(maxLength: 32, nullable: false),
                started_at = t.Column<DateTime>(nullable: false),
                finished_at = t.Column<DateTime>(nullable: true),
                outcome = t.Column<string>(maxLength: 500, nullable: true),
            },
            constraints: t => t.PrimaryKey("PK_job_runs", x => new { x.job, x.period }));

        m.CreateTable(
            name: "idempotency_keys",
            columns: t => new
            {
                actor_kind = t.Column<int>(nullable: false),
                actor_id = t.Column<long>(nullable: false),
                key = t.Column<string>(maxLength: 100, nullable: false),
                request_hash = t.Column<string>(maxLength: 64, nullable: false),
                response = t.Column<string>(nullable: false),
                created_at = t.Column<DateTime>(nullable: false),
            },
            constraints: t => t.PrimaryKey("PK_idempotency_keys", x => new { x.actor_kind, x.actor_id, x.key }));

        m.CreateIndex("IX_idempotency_keys_created_at", "idempotency_keys", "created_at");
        m.CreateIndex("IX_program_versions_program_id_version", "program_versions", ["program_id", "version"], unique: true);
        m.CreateIndex("IX_member_accounts_program_id_tier", "member_accounts", ["program_id", "tier"]);
        m.CreateIndex("IX_points_lots_member_id_remaining", "points_lots", ["member_id", "remaining"]);
        m.CreateIndex("IX_points_lots_expires_at_remaining", "points_lots", ["expires_at", "remaining"]);
        m.CreateIndex("IX_points_entries_member_id_at", "points_entries", ["member_id", "at"]);
        m.CreateIndex("IX_points_entries_sale_id", "points_entries", "sale_id");
        m.CreateIndex("IX_points_entries_lot_id", "points_entries", "lot_id");
        m.CreateIndex("IX_sales_store_id_kind_order_number", "sales", ["store_id", "kind", "order_number"], unique: true);
        m.CreateIndex("IX_sales_member_id_at", "sales", ["member_id", "at"]);
        m.CreateIndex("IX_sales_original_sale_id", "sales", "original_sale_id");
        m.CreateIndex("IX_sales_program_id_local_date", "sales", ["program_id", "local_date"]);
        m.CreateIndex("IX_sale_lines_sale_id_line_no", "sale_lines", ["sale_id", "line_no"], unique: true);
        m.CreateIndex("IX_coupons_code", "coupons", "code", unique: true);
        m.CreateIndex("IX_coupons_member_id_status", "coupons", ["member_id", "status"]);
        m.CreateIndex("IX_redemptions_member_id_at", "redemptions", ["member_id", "at"]);
        m.CreateIndex("IX_redemptions_program_id_at", "redemptions", ["program_id", "at"]);
        m.CreateIndex("IX_entitlements_member_id_code_year", "entitlements", ["member_id", "code", "year"], unique: true);
        m.CreateIndex("IX_tier_changes_member_id_at", "tier_changes", ["member_id", "at"]);
        m.CreateIndex("IX_points_adjustments_member_id_requested_at", "points_adjustments", ["member_id", "requested_at"]);
        m.CreateIndex("IX_points_adjustments_program_id_status", "points_adjustments", ["program_id", "status"]);
    }

    protected override void Down(MigrationBuilder m)
    {
        foreach (var table in Tables)
        {
            m.DropTable(table);
        }
    }
}
