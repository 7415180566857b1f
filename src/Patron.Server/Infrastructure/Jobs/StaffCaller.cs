using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Infrastructure.Jobs;

/// <summary>A staff member as they are now (active, role, stores), as a caller; null when they no longer hold the policy.</summary>
public static class StaffCaller
{
    public static async Task<CallerScope?> LoadAsync(PatronDb db, IAuthorizationService authorization, long staffId, string policy, string authenticationType, CancellationToken ct)
    {
        var staff = await db.Staff.AsNoTracking().Include(s => s.Stores).FirstOrDefaultAsync(s => s.Id == staffId, ct);
        if (staff is null || !staff.IsActive)
        {
            return null;
        }

        var (stores, programs) = await AuthSetup.StaffScopeAsync(db, staff);
        var user = new ClaimsPrincipal(PatronClaims.ForStaff(staff, stores, programs, authenticationType));
        return (await authorization.AuthorizeAsync(user, policy)).Succeeded ? CallerScope.From(user) : null;
    }
}
