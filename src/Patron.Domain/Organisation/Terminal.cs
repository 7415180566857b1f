namespace Patron.Domain.Organisation;

/// <summary>
/// A POS terminal bound to one store. Its API key is shown once at creation; only a hash is
/// kept. The key's public id (the part before the secret) finds the row without a scan.
/// </summary>
public sealed class Terminal
{
    private Terminal()
    {
        Name = "";
        KeyId = "";
        KeyHash = "";
    }

    public Terminal(long storeId, string name, string keyId, string keyHash, long? createdByStaffId, DateTime createdAtUtc)
    {
        StoreId = storeId;
        Name = name;
        KeyId = keyId;
        KeyHash = keyHash;
        CreatedByStaffId = createdByStaffId;
        CreatedAt = createdAtUtc;
    }

    public long Id { get; private set; }

    public long StoreId { get; private set; }

    public string Name { get; private set; }

    public string KeyId { get; private set; }

    public string KeyHash { get; private set; }

    public long? CreatedByStaffId { get; private set; }

    public DateTime CreatedAt { get; private set; }

    public DateTime? RevokedAt { get; private set; }

    public long? RevokedByStaffId { get; private set; }

    /// <summary>When the key was last replaced; the replaced key is refused from then on.</summary>
    public DateTime? KeyRotatedAt { get; private set; }

    public long? KeyRotatedByStaffId { get; private set; }

    public bool IsRevoked => RevokedAt is not null;

    public void Revoke(DateTime nowUtc, long? staffId = null)
    {
        if (RevokedAt is null)
        {
            RevokedAt = nowUtc;
            RevokedByStaffId = staffId;
        }
    }

    /// <summary>Replaces the key (its id and hash): the old key no longer finds this terminal.</summary>
    public void RotateKey(string keyId, string keyHash, long? staffId, DateTime nowUtc)
    {
        if (IsRevoked)
        {
            throw new InvalidOperationException("A revoked terminal keeps no key.");
        }

        KeyId = keyId;
        KeyHash = keyHash;
        KeyRotatedAt = nowUtc;
        KeyRotatedByStaffId = staffId;
    }
}
