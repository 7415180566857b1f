using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Audit;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using StaffMember = Patron.Domain.Organisation.Staff;

namespace Patron.Server.Features.Staff;

public enum SignInOutcome
{
    Success,
    Invalid,
    LockedOut,
}

/// <summary>Password sign-in for the console, with lockout after repeated failures.</summary>
public sealed class StaffSignIn(PatronDb db, TimeProvider clock, AuditLog audit)
{
    private static readonly PasswordHasher<StaffMember> Hasher = new();
    private static readonly string DummyHash = Hasher.HashPassword(null!, "not-a-password");

    public static string HashPassword(StaffMember staff, string password) => Hasher.HashPassword(staff, password);

    public async Task<(SignInOutcome Outcome, ClaimsPrincipal? Principal)> SignInAsync(string? login, string? password, CancellationToken ct)
    {
        var name = (login ?? "").Trim().ToLowerInvariant();
        var now = clock.GetUtcNow().UtcDateTime;
        var staff = name.Length is 0 or > 64 ? null : await db.Staff.Include(s => s.Stores).FirstOrDefaultAsync(s => s.Login == name, ct);
        if (staff is null || !staff.IsActive)
        {
            // Same work as a real check, so timing does not reveal which logins exist.
            Hasher.VerifyHashedPassword(null!, DummyHash, password ?? "");
            return (SignInOutcome.Invalid, null);
        }

        if (staff.IsLockedOut(now))
        {
            return (SignInOutcome.LockedOut, null);
        }

        var result = Hasher.VerifyHashedPassword(staff, staff.PasswordHash, password ?? "");
        if (result == PasswordVerificationResult.Failed)
        {
            staff.RecordFailedLogin(now);
            var locked = staff.IsLockedOut(now);
            audit.Record(null, locked ? "staff.locked_out" : "staff.login_failed", entityType: "staff", entityId: staff.Id);
            await db.SaveChangesAsync(ct);
            return (locked ? SignInOutcome.LockedOut : SignInOutcome.Invalid, null);
        }

        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            staff.SetPasswordHash(HashPassword(staff, password!));
        }

        staff.RecordSuccessfulLogin();
        await db.SaveChangesAsync(ct);
        var (stores, programs) = await AuthSetup.StaffScopeAsync(db, staff);
        return (SignInOutcome.Success, new ClaimsPrincipal(PatronClaims.ForStaff(staff, stores, programs, AuthSetup.ConsoleCookie)));
    }
}
