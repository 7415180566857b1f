using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;
using StaffMember = Patron.Domain.Organisation.Staff;

namespace Patron.Server.Features.Staff;

public sealed record CreateStaffRequest(string? Login, string? DisplayName, string? Role, long[]? StoreIds, string? Password);

public sealed record StaffView(long Id, string Login, string DisplayName, string Role, bool IsActive, bool LockedOut, long[] StoreIds);

/// <summary>Creating and listing staff accounts; admin only.</summary>
public sealed class StaffAdmin(PatronDb db, AuditLog audit, TimeProvider clock)
{
    public const int MinPasswordLength = 8;

    public async Task<StaffView> CreateAsync(CreateStaffRequest r, CallerScope caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var login = (r.Login ?? "").Trim().ToLowerInvariant();
        if (login.Length is < 2 or > 64 || !login.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            errors.Add("login", "staff.login_invalid", "A login is 2–64 letters, digits, dots, dashes or underscores.");
        }

        var displayName = (r.DisplayName ?? "").Trim();
        if (displayName.Length is < 1 or > 100)
        {
            errors.Add("displayName", "staff.display_name_invalid", "A display name is 1–100 characters.");
        }

        if (!PatronClaims.TryParseRole(r.Role, out var role))
        {
            errors.Add("role", "staff.role_invalid", "The role must be admin, marketing, store_manager, cashier or auditor.");
        }

        if ((r.Password ?? "").Length is < MinPasswordLength or > 128)
        {
            errors.Add("password", "staff.password_too_short", $"A password has at least {MinPasswordLength} characters.");
        }

        var storeIds = (r.StoreIds ?? []).Distinct().ToArray();
        if (!errors.Has("role") && !StaffMember.IsHeadOffice(role) && storeIds.Length == 0)
        {
            errors.Add("storeIds", "staff.stores_required", "Store managers and cashiers need at least one store.");
        }

        if (storeIds.Length > 0 && await db.Stores.CountAsync(s => storeIds.Contains(s.Id), ct) != storeIds.Length)
        {
            errors.Add("storeIds", "store.not_found", "One of the stores does not exist.");
        }

        errors.ThrowIfAny();
        if (await db.Staff.AnyAsync(s => s.Login == login, ct))
        {
            throw Problem.Conflict("staff.login_taken", "This login is already in use.", "login");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var staff = new StaffMember(login, displayName, role, StaffMember.IsHeadOffice(role) ? [] : storeIds);
        staff.SetPasswordHash(StaffSignIn.HashPassword(staff, r.Password!));
        db.Staff.Add(staff);
        await db.SaveChangesAsync(ct);
        audit.Record(caller, "staff.created", entityType: "staff", entityId: staff.Id, detail: new { login, role = PatronClaims.RoleName(role), storeIds });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return View(staff);
    }

    public async Task<List<StaffView>> ListAsync(CancellationToken ct)
    {
        var all = await db.Staff.AsNoTracking().Include(s => s.Stores).OrderBy(s => s.Login).ToListAsync(ct);
        return all.ConvertAll(View);
    }

    private StaffView View(StaffMember s) =>
        new(s.Id, s.Login, s.DisplayName, PatronClaims.RoleName(s.Role), s.IsActive, s.IsLockedOut(clock.GetUtcNow().UtcDateTime), [.. s.Stores.Select(x => x.StoreId)]);
}
