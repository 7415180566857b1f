using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Patron.Data.Migrations;

/// <summary>
/// The audit log sorts by action, by who and by store, newest first within each, and filters by
/// who. Without these, each sort read every matching entry and sorted them (and the filter by
/// who read the whole log): at 100,000 members the log holds millions of entries. Each index
/// holds its column and the id newest first, so a page reads 50 entries in order. The store index
/// replaces the store-only one (same first column).
/// </summary>
[DbContext(typeof(PatronDb))]
[Migration("20261210100000_AuditSortIndexes")]
public sealed class AuditSortIndexes : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.DropIndex("IX_audit_log_store_id", "audit_log");
        m.CreateIndex("IX_audit_log_store_id_id", "audit_log", ["store_id", "id"], descending: [false, true]);
        m.CreateIndex("IX_audit_log_action_id", "audit_log", ["action", "id"], descending: [false, true]);
        m.CreateIndex("IX_audit_log_actor_kind_actor_id_id", "audit_log", ["actor_kind", "actor_id", "id"], descending: [false, false, true]);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropIndex("IX_audit_log_actor_kind_actor_id_id", "audit_log");
        m.DropIndex("IX_audit_log_action_id", "audit_log");
        m.DropIndex("IX_audit_log_store_id_id", "audit_log");
        m.CreateIndex("IX_audit_log_store_id", "audit_log", "store_id");
    }
}
