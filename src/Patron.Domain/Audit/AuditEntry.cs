namespace Patron.Domain.Audit;

public enum ActorKind
{
    System = 0,
    Staff = 1,
    Terminal = 2,
}

/// <summary>
/// One manual or machine action worth answering for later: who, what, where, on whom, when.
/// <see cref="Detail"/> is a small JSON object without personal data in clear.
/// </summary>
public sealed class AuditEntry
{
    private AuditEntry()
    {
        Action = "";
    }

    public AuditEntry(DateTime atUtc, ActorKind actorKind, long? actorId, string action, long? storeId, long? memberId, string? entityType, long? entityId, string? detail)
    {
        At = atUtc;
        ActorKind = actorKind;
        ActorId = actorId;
        Action = action;
        StoreId = storeId;
        MemberId = memberId;
        EntityType = entityType;
        EntityId = entityId;
        Detail = detail;
    }

    public long Id { get; private set; }

    public DateTime At { get; private set; }

    public ActorKind ActorKind { get; private set; }

    public long? ActorId { get; private set; }

    public string Action { get; private set; }

    public long? StoreId { get; private set; }

    public long? MemberId { get; private set; }

    public string? EntityType { get; private set; }

    public long? EntityId { get; private set; }

    public string? Detail { get; private set; }
}
