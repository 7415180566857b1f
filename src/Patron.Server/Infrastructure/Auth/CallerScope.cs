using System.Globalization;
using System.Security.Claims;
using Patron.Domain.Audit;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Infrastructure.Auth;

/// <summary>
/// Who is calling and where they may look and act. Head office sees every store and program;
/// store staff and terminals see the members of their stores' programs by exact identifier,
/// may browse only the members enrolled at their own stores, and may act only as their stores.
/// </summary>
public sealed class CallerScope
{
    private readonly HashSet<long> _stores;
    private readonly HashSet<long> _programs;

    private CallerScope(ActorKind kind, long actorId, string role, bool allStores, HashSet<long> stores, HashSet<long> programs)
    {
        Kind = kind;
        ActorId = actorId;
        Role = role;
        AllStores = allStores;
        _stores = stores;
        _programs = programs;
    }

    public ActorKind Kind { get; }

    public long ActorId { get; }

    public string Role { get; }

    public bool AllStores { get; }

    public IReadOnlyCollection<long> StoreIds => _stores;

    /// <summary>Programs visible to the caller; empty with <see cref="AllStores"/> means every program.</summary>
    public IReadOnlyCollection<long> ProgramIds => _programs;

    public long? StaffId => Kind == ActorKind.Staff ? ActorId : null;

    public long? TerminalId => Kind == ActorKind.Terminal ? ActorId : null;

    /// <summary>The store a caller acts as when none is named: a terminal's store, or a staff member's only store.</summary>
    public long? DefaultStoreId => !AllStores && _stores.Count == 1 ? _stores.First() : null;

    public static CallerScope From(ClaimsPrincipal user)
    {
        var actor = user.FindFirstValue(PatronClaims.Actor);
        var idText = user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (actor is null || !long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            throw Problem.Unauthorized();
        }

        var kind = actor == PatronClaims.TerminalActor ? ActorKind.Terminal : ActorKind.Staff;
        return new CallerScope(
            kind,
            id,
            user.FindFirstValue(ClaimTypes.Role) ?? "",
            kind == ActorKind.Staff && user.HasClaim(PatronClaims.AllStores, "true"),
            Ids(user, PatronClaims.Store),
            Ids(user, PatronClaims.Program));
    }

    public bool CanSeeProgram(long programId) => AllStores || _programs.Contains(programId);

    /// <summary>Listing, browsing and exporting the members enrolled at a store.</summary>
    public bool CanBrowseStore(long storeId) => AllStores || _stores.Contains(storeId);

    /// <summary>Enrolling, selling, adjusting as a store. Auditors never act.</summary>
    /// <summary>Staff who run stores: administrators and store managers (terminals, their stores' cashiers).</summary>
    public bool RunsStores => Kind == ActorKind.Staff && Role is PatronClaims.Roles.Admin or PatronClaims.Roles.StoreManager;

    public bool CanActAs(long storeId) => Role != PatronClaims.Roles.Auditor && (AllStores || _stores.Contains(storeId));

    public void EnsureCanActAs(long storeId)
    {
        if (!CanActAs(storeId))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not act as this store.");
        }
    }

    private static HashSet<long> Ids(ClaimsPrincipal user, string type) =>
        [.. user.FindAll(type).Select(c => long.Parse(c.Value, CultureInfo.InvariantCulture))];
}
