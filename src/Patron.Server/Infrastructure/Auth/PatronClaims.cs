using System.Security.Claims;
using Patron.Domain.Organisation;

namespace Patron.Server.Infrastructure.Auth;

/// <summary>Claim types and role names; the only place that spells them.</summary>
public static class PatronClaims
{
    public const string Actor = "patron:actor";
    public const string Store = "patron:store";
    public const string Program = "patron:program";
    public const string AllStores = "patron:all_stores";
    public const string Stamp = "patron:stamp";

    public const string StaffActor = "staff";
    public const string TerminalActor = "terminal";

    public static class Roles
    {
        public const string Admin = "admin";
        public const string Marketing = "marketing";
        public const string StoreManager = "store_manager";
        public const string Cashier = "cashier";
        public const string Auditor = "auditor";
        public const string Terminal = "terminal";
    }

    public static string RoleName(StaffRole role) => role switch
    {
        StaffRole.Admin => Roles.Admin,
        StaffRole.Marketing => Roles.Marketing,
        StaffRole.StoreManager => Roles.StoreManager,
        StaffRole.Cashier => Roles.Cashier,
        StaffRole.Auditor => Roles.Auditor,
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParseRole(string? name, out StaffRole role)
    {
        foreach (var r in Enum.GetValues<StaffRole>())
        {
            if (RoleName(r) == name)
            {
                role = r;
                return true;
            }
        }

        role = default;
        return false;
    }

    /// <summary>The identity of a staff member with their scope, as the cookie carries it.</summary>
    public static ClaimsIdentity ForStaff(Staff staff, IEnumerable<long> storeIds, IEnumerable<long> programIds, string authenticationType)
    {
        var id = new ClaimsIdentity(authenticationType, ClaimTypes.Name, ClaimTypes.Role);
        id.AddClaim(new Claim(ClaimTypes.NameIdentifier, staff.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        id.AddClaim(new Claim(ClaimTypes.Name, staff.DisplayName));
        id.AddClaim(new Claim(ClaimTypes.Role, RoleName(staff.Role)));
        id.AddClaim(new Claim(Actor, StaffActor));
        id.AddClaim(new Claim(Stamp, staff.SecurityStamp));
        if (staff.AllStores)
        {
            id.AddClaim(new Claim(AllStores, "true"));
        }

        AddIds(id, Store, storeIds);
        AddIds(id, Program, programIds);
        return id;
    }

    public static ClaimsIdentity ForTerminal(Terminal terminal, long programId, string authenticationType)
    {
        var id = new ClaimsIdentity(authenticationType, ClaimTypes.Name, ClaimTypes.Role);
        id.AddClaim(new Claim(ClaimTypes.NameIdentifier, terminal.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        id.AddClaim(new Claim(ClaimTypes.Name, terminal.Name));
        id.AddClaim(new Claim(ClaimTypes.Role, Roles.Terminal));
        id.AddClaim(new Claim(Actor, TerminalActor));
        AddIds(id, Store, [terminal.StoreId]);
        AddIds(id, Program, [programId]);
        return id;
    }

    private static void AddIds(ClaimsIdentity id, string type, IEnumerable<long> values)
    {
        foreach (var v in values.Distinct())
        {
            id.AddClaim(new Claim(type, v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }
}
