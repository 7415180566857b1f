namespace Patron.Domain.Organisation;

public enum StaffRole
{
    Admin = 0,
    Marketing = 1,
    StoreManager = 2,
    Cashier = 3,
    Auditor = 4,
}

/// <summary>
/// A person who logs in to the console. Head-office roles (admin, marketing, auditor) see every
/// store; store managers and cashiers see only the stores listed for them.
/// </summary>
public sealed class Staff
{
    public const int MaxFailedLogins = 5;
    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    private readonly List<StaffStore> _stores = [];

    private Staff()
    {
        Login = "";
        DisplayName = "";
        PasswordHash = "";
        SecurityStamp = "";
    }

    public Staff(string login, string displayName, StaffRole role, IEnumerable<long> storeIds)
    {
        Login = login;
        DisplayName = displayName;
        Role = role;
        PasswordHash = "";
        IsActive = true;
        SecurityStamp = Guid.NewGuid().ToString("N");
        foreach (var id in storeIds.Distinct())
        {
            _stores.Add(new StaffStore(this, id));
        }

        if (!IsHeadOffice(role) && _stores.Count == 0)
        {
            throw new ArgumentException("Store staff need at least one store.", nameof(storeIds));
        }
    }

    public long Id { get; private set; }

    public string Login { get; private set; }

    public string DisplayName { get; private set; }

    public StaffRole Role { get; private set; }

    public string PasswordHash { get; private set; }

    public bool IsActive { get; private set; }

    public int FailedLogins { get; private set; }

    public DateTime? LockedUntil { get; private set; }

    /// <summary>Changes whenever password, role or stores change, so existing sessions end.</summary>
    public string SecurityStamp { get; private set; }

    public IReadOnlyList<StaffStore> Stores => _stores;

    public bool AllStores => IsHeadOffice(Role);

    public static bool IsHeadOffice(StaffRole role) => role is StaffRole.Admin or StaffRole.Marketing or StaffRole.Auditor;

    public void SetPasswordHash(string hash)
    {
        PasswordHash = hash;
        SecurityStamp = Guid.NewGuid().ToString("N");
    }

    public bool IsLockedOut(DateTime nowUtc) => LockedUntil is { } until && until > nowUtc;

    /// <summary>Counts a wrong password; the fifth in a row locks the account for a while.</summary>
    public void RecordFailedLogin(DateTime nowUtc)
    {
        FailedLogins++;
        if (FailedLogins >= MaxFailedLogins)
        {
            LockedUntil = nowUtc + LockoutDuration;
            FailedLogins = 0;
        }
    }

    public void RecordSuccessfulLogin()
    {
        FailedLogins = 0;
        LockedUntil = null;
    }

    /// <summary>Changes name, role and stores; a changed role or store list ends existing sessions.</summary>
    public void Update(string displayName, StaffRole role, IEnumerable<long> storeIds)
    {
        var wanted = IsHeadOffice(role) ? new HashSet<long>() : storeIds.ToHashSet();
        if (!IsHeadOffice(role) && wanted.Count == 0)
        {
            throw new ArgumentException("Store staff need at least one store.", nameof(storeIds));
        }

        var changed = role != Role || !wanted.SetEquals(_stores.Select(s => s.StoreId));
        DisplayName = displayName;
        Role = role;
        _stores.RemoveAll(s => !wanted.Contains(s.StoreId));
        foreach (var id in wanted.Where(id => !_stores.Exists(s => s.StoreId == id)).Order())
        {
            _stores.Add(new StaffStore(this, id));
        }

        if (changed)
        {
            SecurityStamp = Guid.NewGuid().ToString("N");
        }
    }

    /// <summary>Disables or enables the account; a disabled account cannot sign in and its sessions end.</summary>
    public void SetActive(bool active)
    {
        if (IsActive != active)
        {
            IsActive = active;
            SecurityStamp = Guid.NewGuid().ToString("N");
        }
    }

    /// <summary>Clears a lockout, as a password reset does.</summary>
    public void Unlock()
    {
        FailedLogins = 0;
        LockedUntil = null;
    }
}

public sealed class StaffStore
{
    private StaffStore()
    {
        Staff = null!;
    }

    internal StaffStore(Staff staff, long storeId)
    {
        Staff = staff;
        StoreId = storeId;
    }

    public long StaffId { get; private set; }

    public Staff Staff { get; private set; }

    public long StoreId { get; private set; }
}
