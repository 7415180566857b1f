namespace Patron.Data;

/// <summary>
/// The first answer to a write a client keyed with <c>Idempotency-Key</c>, stored in the same
/// transaction as the write itself: a retry with the same key and body gets this answer back and
/// changes nothing; the same key with another body is refused.
/// </summary>
public sealed class IdempotencyRecord
{
    public const int KeyMaxLength = 100;

    private IdempotencyRecord()
    {
        Key = "";
        RequestHash = "";
        Response = "";
    }

    public IdempotencyRecord(int actorKind, long actorId, string key, string requestHash, string response, DateTime createdAtUtc)
    {
        ActorKind = actorKind;
        ActorId = actorId;
        Key = key;
        RequestHash = requestHash;
        Response = response;
        CreatedAt = createdAtUtc;
    }

    /// <summary>Keys are per caller (a terminal or a staff member): two POS may use the same key.</summary>
    public int ActorKind { get; private set; }

    public long ActorId { get; private set; }

    public string Key { get; private set; }

    public string RequestHash { get; private set; }

    /// <summary>The answer as JSON.</summary>
    public string Response { get; private set; }

    public DateTime CreatedAt { get; private set; }
}
