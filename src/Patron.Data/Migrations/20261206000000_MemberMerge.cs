using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>A member merged into another (a duplicate enrolment): which one, and when.</summary>
[DbContext(typeof(PatronDb))]
[Migration("20261206000000_MemberMerge")]
public sealed class MemberMerge : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<long>("merged_into_id", "members", nullable: true);
        m.AddColumn<DateTime>("merged_at", "members", nullable: true);
        m.CreateIndex("IX_members_merged_into_id", "members", "merged_into_id");
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropIndex("IX_members_merged_into_id", "members");
        m.DropColumn("merged_at", "members");
        m.DropColumn("merged_into_id", "members");
    }
}
