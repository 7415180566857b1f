using System.Text.Json;
using Patron.Data;
using Patron.Domain.Audit;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Audit;

/// <summary>
/// Adds audit entries to the current unit of work, so an action and its record are saved in
/// the same transaction or not at all. Details must not contain personal data in clear.
/// </summary>
public sealed class AuditLog(PatronDb db, TimeProvider clock)
{
    /// <summary>Details keep Chinese text readable in the audit log (no \uXXXX escapes).</summary>
    private static readonly JsonSerializerOptions DetailJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.All) };

    public void Record(CallerScope? caller, string action, long? storeId = null, long? memberId = null, string? entityType = null, long? entityId = null, object? detail = null)
    {
        db.AuditLog.Add(new AuditEntry(
            clock.GetUtcNow().UtcDateTime,
            caller?.Kind ?? ActorKind.System,
            caller?.ActorId,
            action,
            storeId,
            memberId,
            entityType,
            entityId,
            detail is null ? null : JsonSerializer.Serialize(detail, DetailJson)));
    }
}
