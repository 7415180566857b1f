using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>The member file beyond the counter's needs (address, contacts, insurance, interests, tags, notes) and organisation members' purchasers.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261205000000_MemberProfile")]
public sealed class MemberProfiles : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable(
            name: "member_profiles",
            columns: t => new
            {
                member_id = t.Column<long>(nullable: false),
                kind = t.Column<int>(nullable: false),
                lunar_birthday = t.Column<bool>(nullable: false),
                phone2 = t.Column<string>(maxLength: 11, nullable: true),
                district = t.Column<string>(maxLength: 50, nullable: true),
                community = t.Column<string>(maxLength: 50, nullable: true),
                address_cipher = t.Column<string>(maxLength: 2000, nullable: true),
                we_chat = t.Column<string>(maxLength: 64, nullable: true),
                email = t.Column<string>(maxLength: 254, nullable: true),
                insured = t.Column<bool>(nullable: true),
                insurance_type = t.Column<string>(maxLength: 20, nullable: true),
                interests = t.Column<string>(maxLength: 500, nullable: false),
                tags = t.Column<string>(maxLength: 500, nullable: false),
                notes = t.Column<string>(maxLength: 500, nullable: true),
                updated_at = t.Column<DateTime>(nullable: false),
                updated_by = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_member_profiles", x => x.member_id);
                t.ForeignKey("FK_member_profiles_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateTable(
            name: "member_purchasers",
            columns: t => new
            {
                id = Schema.Id(t),
                member_id = t.Column<long>(nullable: false),
                name = t.Column<string>(maxLength: 50, nullable: false),
                mobile = t.Column<string>(maxLength: 11, nullable: false),
                role = t.Column<string>(maxLength: 50, nullable: true),
                added_at = t.Column<DateTime>(nullable: false),
                added_by = t.Column<long>(nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("PK_member_purchasers", x => x.id);
                t.ForeignKey("FK_member_purchasers_members_member_id", x => x.member_id, "members", "id", onDelete: ReferentialAction.Restrict);
            });

        m.CreateIndex("IX_member_profiles_phone2", "member_profiles", "phone2");
        m.CreateIndex("IX_member_purchasers_mobile", "member_purchasers", "mobile");
        m.CreateIndex("IX_member_purchasers_member_id", "member_purchasers", "member_id");
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("member_purchasers");
        m.DropTable("member_profiles");
    }
}
