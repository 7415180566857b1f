using Microsoft.AspNetCore.Authorization;
using R = Patron.Server.Infrastructure.Auth.PatronClaims.Roles;

namespace Patron.Server.Infrastructure.Auth;

/// <summary>Authorization policies by capability; each names the roles that hold it.</summary>
public static class Permissions
{
    public const string Console = "console";
    public const string MembersRead = "members.read";
    public const string MembersEnrol = "members.enrol";
    public const string StoresRead = "stores.read";
    public const string TerminalsManage = "terminals.manage";
    public const string StaffManage = "staff.manage";
    public const string ProgramsRead = "programs.read";
    public const string ProgramsManage = "programs.manage";
    public const string Checkout = "checkout";
    public const string PointsAdjust = "points.adjust";
    public const string TiersAssign = "tiers.assign";
    public const string CardsManage = "cards.manage";
    public const string CardsFreeze = "cards.freeze";
    public const string StoredValueRefund = "stored_value.refund";
    public const string FinanceRead = "finance.read";
    public const string CouponsIssue = "coupons.issue";
    public const string CatalogueStock = "catalogue.stock";
    public const string PersonalDataUnmask = "personal_data.unmask";
    public const string MembersMerge = "members.merge";
    public const string CareRead = "care.read";
    public const string MembersImport = "members.import";
    public const string AuditRead = "audit.read";
    public const string StaffTeam = "staff.team";

    private static readonly string[] AllStaff = [R.Admin, R.Marketing, R.StoreManager, R.Cashier, R.Auditor];

    public static void Add(AuthorizationOptions o)
    {
        o.AddPolicy(Console, p => p.RequireRole(AllStaff));
        o.AddPolicy(MembersRead, p => p.RequireRole([.. AllStaff, R.Terminal]));
        o.AddPolicy(MembersEnrol, p => p.RequireRole(R.Admin, R.Marketing, R.StoreManager, R.Cashier, R.Terminal));
        o.AddPolicy(StoresRead, p => p.RequireRole([.. AllStaff, R.Terminal]));
        o.AddPolicy(TerminalsManage, p => p.RequireRole(R.Admin, R.StoreManager));
        o.AddPolicy(StaffManage, p => p.RequireRole(R.Admin));
        o.AddPolicy(ProgramsRead, p => p.RequireRole(AllStaff));
        o.AddPolicy(ProgramsManage, p => p.RequireRole(R.Admin, R.Marketing));
        o.AddPolicy(Checkout, p => p.RequireRole(R.Admin, R.StoreManager, R.Cashier, R.Terminal));
        o.AddPolicy(PointsAdjust, p => p.RequireRole(R.Admin, R.Marketing, R.StoreManager, R.Cashier));
        o.AddPolicy(TiersAssign, p => p.RequireRole(R.Admin, R.Marketing));
        o.AddPolicy(CardsManage, p => p.RequireRole(R.Admin, R.StoreManager, R.Cashier, R.Terminal));
        o.AddPolicy(CardsFreeze, p => p.RequireRole(R.Admin, R.StoreManager));
        o.AddPolicy(StoredValueRefund, p => p.RequireRole(R.Admin, R.StoreManager));
        o.AddPolicy(FinanceRead, p => p.RequireRole(R.Admin, R.Auditor, R.StoreManager));
        o.AddPolicy(CouponsIssue, p => p.RequireRole(R.Admin, R.Marketing, R.StoreManager));
        o.AddPolicy(CatalogueStock, p => p.RequireRole(R.Admin, R.StoreManager));
        o.AddPolicy(PersonalDataUnmask, p => p.RequireRole(R.Admin, R.StoreManager));
        o.AddPolicy(MembersMerge, p => p.RequireRole(R.Admin, R.StoreManager));
        o.AddPolicy(CareRead, p => p.RequireRole(R.Admin, R.StoreManager, R.Cashier));
        o.AddPolicy(MembersImport, p => p.RequireRole(R.Admin));
        o.AddPolicy(AuditRead, p => p.RequireRole(R.Admin, R.Auditor, R.StoreManager));
        o.AddPolicy(StaffTeam, p => p.RequireRole(R.Admin, R.StoreManager));
    }
}
