using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>Coupons from templates (bearer coupons, uses, validity start, the template as issued), coupon uses, coupon line discounts, catalogue pickup and cancellation, gift stock per store.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261202000000_CouponsAndCatalogue")]
public sealed class CouponsAndCatalogue : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        if (m.ActiveProvider == "Microsoft.EntityFrameworkCore.Sqlite")
        {
            // SQLite cannot drop a NOT NULL: rebuild the table with the new columns.
            m.DropIndex("IX_coupons_code", "coupons");
            m.DropIndex("IX_coupons_member_id_status", "coupons");
            m.RenameTable("coupons", newName: "coupons_before_templates");
            CreateCoupons(m);
            m.Sql("""
                INSERT INTO coupons (id, program_id, member_id, code, name, value, terms, source, source_ref, status, issued_at, expires_at, used_at)
                SELECT id, program_id, member_id, code, name, value, terms, source, source_ref, status, issued_at, expires_at, used_at FROM coupons_before_templates
                """);
            m.DropTable("coupons_before_templates");
            m.CreateIndex("IX_coupons_code", "coupons", "code", unique: true);
            m.CreateIndex("IX_coupons_member_id_status", "coupons", ["member_id", "status"]);
        }
        else
        {
            m.AlterColumn<long>("member_id", "coupons", nullable: true, oldClrType: typeof(long), oldNullable: false);
            m.AddColumn<string>("template_code", "coupons", maxLength: 32, nullable: false, defaultValue: "");
            m.AddColumn<int>("kind", "coupons", nullable: false, defaultValue: 0);
            m.AddColumn<string>("rules", "coupons", nullable: false, defaultValue: "{}");
            m.AddColumn<int>("uses_left", "coupons", nullable: false, defaultValue: 1);
            m.AddColumn<long>("store_id", "coupons", nullable: true);
            m.AddColumn<long>("issued_by_staff_id", "coupons", nullable: true);
            m.AddColumn<DateTime>("starts_at", "coupons", nullable: true);
        }

        m.CreateIndex("IX_coupons_program_id_template_code", "coupons", ["program_id", "template_code"]);

        m.AddColumn<long>("coupon_discount", "sale_lines", nullable: false, defaultValue: 0L);

        m.AddColumn<int>("kind", "redemptions", nullable: false, defaultValue: 0);
        m.AddColumn<string>("pickup_code", "redemptions", maxLength: 16, nullable: true);
        m.AddColumn<DateTime>("picked_up_at", "redemptions", nullable: true);
        m.AddColumn<long>("picked_up_store_id", "redemptions", nullable: true);
        m.AddColumn<long>("picked_up_by_staff_id", "redemptions", nullable: true);
        m.AddColumn<DateTime>("cancelled_at", "redemptions", nullable: true);
        m.AddColumn<long>("cancelled_by_staff_id", "redemptions", nullable: true);
        m.AddColumn<long>("entitlement_id", "redemptions", nullable: true);
        m.AddColumn<bool>("took_stock", "redemptions", nullable: false, defaultValue: false);
        m.CreateIndex("IX_redemptions_program_id_pickup_code", "redemptions", ["program_id", "pickup_code"], unique: true);
        m.CreateIndex("IX_redemptions_store_id_status", "redemptions", ["store_id", "status"]);

        m.AddColumn<long>("redemption_id", "entitlements", nullable: true);
        m.DropIndex("IX_entitlements_member_id_code_year", "entitlements");
        m.CreateIndex("IX_entitlements_member_id_code_year", "entitlements", ["member_id", "code", "year"]);

        m.CreateTable(
            name: "coupon_uses",
            columns: t => new
            {
                id = Schema.Id(t),
                coupon_id = t.Column<long>(nullable: false),
                program_id = t.Column<long>(nullable: false),
                sale_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: true),
                store_id = t.Column<long>(nullable: false),
                at = t.Column<DateTime>(nullable: false),
                discount = t.Column<long>(nullable: false),
                cost = t.Column<long>(nullable: false),
                returned_at = t.Column<DateTime>(nullable: true),
                restored = t.Column<bool>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_coupon_uses", x => x.id);
                t.ForeignKey("FK_coupon_uses_coupons_coupon_id", x => x.coupon_id, "coupons", "id", onDelete: ReferentialAction.Restrict);
                t.ForeignKey("FK_coupon_uses_sales_sale_id", x => x.sale_id, "sales", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "gift_stocks",
            columns: t => new
            {
                program_id = t.Column<long>(nullable: false),
                item_code = t.Column<string>(maxLength: 32, nullable: false),
                store_id = t.Column<long>(nullable: false),
                quantity = t.Column<int>(nullable: false),
                updated_at = t.Column<DateTime>(nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_gift_stocks", x => new { x.program_id, x.item_code, x.store_id });
                t.ForeignKey("FK_gift_stocks_stores_store_id", x => x.store_id, "stores", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateIndex("IX_coupon_uses_coupon_id", "coupon_uses", "coupon_id");
        m.CreateIndex("IX_coupon_uses_sale_id", "coupon_uses", "sale_id");
        m.CreateIndex("IX_coupon_uses_program_id_at", "coupon_uses", ["program_id", "at"]);
        m.CreateIndex("IX_gift_stocks_store_id", "gift_stocks", "store_id");
    }

    private static void CreateCoupons(MigrationBuilder m) =>
        m.CreateTable(
            name: "coupons",
            columns: t => new
            {
                id = Schema.Id(t),
                program_id = t.Column<long>(nullable: false),
                member_id = t.Column<long>(nullable: true),
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
                template_code = t.Column<string>(maxLength: 32, nullable: false, defaultValue: ""),
                kind = t.Column<int>(nullable: false, defaultValue: 0),
                rules = t.Column<string>(nullable: false, defaultValue: "{}"),
                uses_left = t.Column<int>(nullable: false, defaultValue: 1),
                store_id = t.Column<long>(nullable: true),
                issued_by_staff_id = t.Column<long>(nullable: true),
                starts_at = t.Column<DateTime>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_coupons", x => x.id);
                t.ForeignKey("FK_coupons_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("gift_stocks");
        m.DropTable("coupon_uses");
        m.DropIndex("IX_entitlements_member_id_code_year", "entitlements");
        m.CreateIndex("IX_entitlements_member_id_code_year", "entitlements", ["member_id", "code", "year"], unique: true);
        m.DropColumn("redemption_id", "entitlements");
        m.DropIndex("IX_redemptions_program_id_pickup_code", "redemptions");
        m.DropIndex("IX_redemptions_store_id_status", "redemptions");
        foreach (var column in new[] { "kind", "pickup_code", "picked_up_at", "picked_up_store_id", "picked_up_by_staff_id", "cancelled_at", "cancelled_by_staff_id", "entitlement_id", "took_stock" })
        {
            m.DropColumn(column, "redemptions");
        }

        m.DropColumn("coupon_discount", "sale_lines");
        m.DropIndex("IX_coupons_program_id_template_code", "coupons");
        foreach (var column in new[] { "template_code", "kind", "rules", "uses_left", "store_id", "issued_by_staff_id", "starts_at" })
        {
            m.DropColumn(column, "coupons");
        }

        if (m.ActiveProvider != "Microsoft.EntityFrameworkCore.Sqlite")
        {
            m.AlterColumn<long>("member_id", "coupons", nullable: false, oldClrType: typeof(long), oldNullable: true);
        }
    }
}
