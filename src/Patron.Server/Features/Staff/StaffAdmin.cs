using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Organisation;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;
using StaffMember = Patron.Domain.Organisation.Staff;

namespace Patron.Server.Features.Staff;

public sealed record CreateStaffRequest(string? Login, string? DisplayName, string? Role, long[]? StoreIds, string? Password);

/// <summary>A staff member's new name, role and stores.</summary>
public sealed record UpdateStaffRequest(string? DisplayName, string? Role, long[]? StoreIds);

/// <summary>A new password set by the admin or manager; none means one is made and shown once.</summary>
public sealed record ResetPasswordRequest(string? Password);

public sealed record PasswordReset(StaffView Staff, string? GeneratedPassword);

public sealed record StaffView(long Id, string Login, string DisplayName, string Role, bool IsActive, bool LockedOut, long[] StoreIds);

/// <summary>Filters of the staff list: store, role, active; sorted by login or name ("-" first for descending).</summary>
public sealed record StaffQuery(long? StoreId = null, string? Role = null, bool? Active = null, string? Sort = null, int Page = 1, int PageSize = StaffAdmin.DefaultPageSize);

public sealed record StaffPage(IReadOnlyList<StaffView> Items, int Page, int PageSize, int Total)
{
    public int Pages => Paging.Pages(Total, PageSize);
}

/// <summary>
/// Staff accounts. Administrators manage everyone; a store manager manages only the cashiers
/// whose stores are all among their own (create, rename, move between their stores, disable,
/// reset the password) and nobody else, themselves included. Anyone else is "not found".
/// An administrator cannot disable themselves or remove the last active administrator (by
/// disabling or demoting them). Every change is audited with the old and new role and stores.
/// </summary>
public sealed class StaffAdmin(PatronDb db, AuditLog audit, TimeProvider clock)
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 128;
    public const int DefaultPageSize = 20;
    private const string PasswordAlphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    public async Task<StaffView> CreateAsync(CreateStaffRequest r, CallerScope caller, CancellationToken ct)
    {
        EnsureManager(caller);
        var errors = new FieldErrors();
        var login = (r.Login ?? "").Trim().ToLowerInvariant();
        if (login.Length is < 2 or > 64 || !login.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            errors.Add("login", "staff.login_invalid", "A login is 2–64 letters, digits, dots, dashes or underscores.");
        }

        var displayName = DisplayName(r.DisplayName, errors);
        ValidatePassword(r.Password, errors);
        var (role, storeIds) = await RoleAndStoresAsync(r.Role, r.StoreIds, errors, ct);
        errors.ThrowIfAny();
        EnsureMayAssign(caller, role, storeIds);
        if (await db.Staff.AnyAsync(s => s.Login == login, ct))
        {
            throw Problem.Conflict("staff.login_taken", "This login is already in use.", "login");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var staff = new StaffMember(login, displayName, role, StaffMember.IsHeadOffice(role) ? [] : storeIds);
        staff.SetPasswordHash(StaffSignIn.HashPassword(staff, r.Password!));
        db.Staff.Add(staff);
        await db.SaveChangesAsync(ct);
        audit.Record(caller, "staff.created", AuditStore(staff), entityType: "staff", entityId: staff.Id, detail: new { login, displayName, role = PatronClaims.RoleName(role), storeIds = StoreIds(staff) });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return View(staff);
    }

    /// <summary>The staff list of an administrator (everyone) or a store manager (their cashiers), filtered, sorted and paged in the database.</summary>
    public async Task<StaffPage> ListAsync(StaffQuery q, CallerScope caller, CancellationToken ct)
    {
        EnsureManager(caller);
        var errors = new FieldErrors();
        StaffRole? role = null;
        if (!string.IsNullOrEmpty(q.Role))
        {
            if (PatronClaims.TryParseRole(q.Role, out var parsed))
            {
                role = parsed;
            }
            else
            {
                errors.Add("role", "staff.role_invalid", "The role must be admin, marketing, store_manager, cashier or auditor.");
            }
        }

        var sort = (q.Sort ?? "login").Trim();
        if (sort is not ("login" or "-login" or "name" or "-name"))
        {
            errors.Add("sort", "staff.sort_invalid", "Sort by login or name.");
        }

        errors.ThrowIfAny();
        if (q.StoreId is { } storeId && !caller.CanBrowseStore(storeId))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not act as this store.");
        }

        var query = Manageable(caller);
        if (q.StoreId is { } store)
        {
            query = query.Where(s => s.Stores.Any(x => x.StoreId == store));
        }

        if (role is { } r)
        {
            query = query.Where(s => s.Role == r);
        }

        if (q.Active is { } active)
        {
            query = query.Where(s => s.IsActive == active);
        }

        var total = await query.CountAsync(ct);
        var pageSize = Math.Clamp(q.PageSize, 1, 100);
        var pageNumber = Paging.Clamp(q.Page, total, pageSize);
        query = sort switch
        {
            "-login" => query.OrderByDescending(s => s.Login),
            "name" => query.OrderBy(s => s.DisplayName).ThenBy(s => s.Login),
            "-name" => query.OrderByDescending(s => s.DisplayName).ThenBy(s => s.Login),
            _ => query.OrderBy(s => s.Login),
        };
        var rows = await query.Include(s => s.Stores).Skip((pageNumber - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new StaffPage(rows.ConvertAll(View), pageNumber, pageSize, total);
    }

    /// <summary>Everyone attached to a store the caller covers, for the store's page.</summary>
    public async Task<List<StaffView>> ListForStoreAsync(long storeId, CallerScope caller, CancellationToken ct)
    {
        EnsureManager(caller);
        if (!caller.CanBrowseStore(storeId) || !await db.Stores.AnyAsync(s => s.Id == storeId, ct))
        {
            throw Problem.NotFound("store.not_found", "The store does not exist.");
        }

        var rows = await db.Staff.AsNoTracking().Include(s => s.Stores)
            .Where(s => s.Stores.Any(x => x.StoreId == storeId))
            .OrderBy(s => s.Role).ThenBy(s => s.Login).ToListAsync(ct);
        return rows.ConvertAll(View);
    }

    /// <summary>Whether the caller manages this staff member (for links and buttons; the service checks again).</summary>
    public static bool Manages(CallerScope caller, StaffView staff) =>
        caller.Role == PatronClaims.Roles.Admin
        || (caller.Role == PatronClaims.Roles.StoreManager && staff.Role == PatronClaims.Roles.Cashier
            && staff.StoreIds.Length > 0 && staff.StoreIds.All(caller.StoreIds.Contains));

    public async Task<StaffView> GetAsync(long id, CallerScope caller, CancellationToken ct) => View(await FindAsync(id, caller, tracked: false, ct));

    public async Task<StaffView> UpdateAsync(long id, UpdateStaffRequest r, CallerScope caller, CancellationToken ct)
    {
        var staff = await FindAsync(id, caller, tracked: true, ct);
        var errors = new FieldErrors();
        var displayName = DisplayName(r.DisplayName, errors);
        var (role, storeIds) = await RoleAndStoresAsync(r.Role, r.StoreIds, errors, ct);
        errors.ThrowIfAny();
        EnsureMayAssign(caller, role, storeIds);
        await using var tx = staff.Role == StaffRole.Admin && role != StaffRole.Admin && staff.IsActive ? await EnsureAnotherAdminAsync(staff.Id, "role", ct) : null;
        var before = Snapshot(staff);
        staff.Update(displayName, role, storeIds);
        var after = Snapshot(staff);
        if (before != after)
        {
            audit.Record(caller, "staff.updated", AuditStore(staff), entityType: "staff", entityId: staff.Id, detail: new { login = staff.Login, before, after });
            await db.SaveChangesAsync(ct);
        }

        if (tx is not null)
        {
            await tx.CommitAsync(ct);
        }

        return View(staff);
    }

    /// <summary>Disables (sign-in refused, sessions end at their next request) or enables an account.</summary>
    public async Task<StaffView> SetActiveAsync(long id, bool active, CallerScope caller, CancellationToken ct)
    {
        var staff = await FindAsync(id, caller, tracked: true, ct);
        if (staff.IsActive == active)
        {
            return View(staff);
        }

        if (!active)
        {
            if (staff.Id == caller.StaffId)
            {
                throw Refused("staff.self_disable", "You cannot disable your own account.");
            }

        }

        await using var tx = !active && staff.Role == StaffRole.Admin ? await EnsureAnotherAdminAsync(staff.Id, null, ct) : null;
        staff.SetActive(active);
        audit.Record(caller, active ? "staff.enabled" : "staff.disabled", AuditStore(staff), entityType: "staff", entityId: staff.Id,
            detail: new { login = staff.Login, role = PatronClaims.RoleName(staff.Role), storeIds = StoreIds(staff) });
        await db.SaveChangesAsync(ct);
        if (tx is not null)
        {
            await tx.CommitAsync(ct);
        }

        return View(staff);
    }

    /// <summary>Sets a new password (or makes one, returned this once), clears a lockout and ends the account's sessions.</summary>
    public async Task<PasswordReset> ResetPasswordAsync(long id, ResetPasswordRequest r, CallerScope caller, CancellationToken ct)
    {
        var staff = await FindAsync(id, caller, tracked: true, ct);
        var generated = string.IsNullOrEmpty(r.Password);
        var password = generated ? RandomNumberGenerator.GetString(PasswordAlphabet, 12) : r.Password!;
        if (!generated)
        {
            var errors = new FieldErrors();
            ValidatePassword(password, errors);
            errors.ThrowIfAny();
        }

        staff.SetPasswordHash(StaffSignIn.HashPassword(staff, password));
        staff.Unlock();
        audit.Record(caller, "staff.password_reset", AuditStore(staff), entityType: "staff", entityId: staff.Id, detail: new { login = staff.Login, generated });
        await db.SaveChangesAsync(ct);
        return new PasswordReset(View(staff), generated ? password : null);
    }

    private IQueryable<StaffMember> Manageable(CallerScope caller)
    {
        if (caller.Role == PatronClaims.Roles.Admin)
        {
            return db.Staff;
        }

        var mine = caller.StoreIds.ToList();
        return db.Staff.Where(s => s.Role == StaffRole.Cashier && s.Stores.Any() && s.Stores.All(x => mine.Contains(x.StoreId)));
    }

    private async Task<StaffMember> FindAsync(long id, CallerScope caller, bool tracked, CancellationToken ct)
    {
        EnsureManager(caller);
        var query = Manageable(caller).Include(s => s.Stores).Where(s => s.Id == id);
        var staff = await (tracked ? query : query.AsNoTracking()).FirstOrDefaultAsync(ct);
        return staff ?? throw Problem.NotFound("staff.not_found", "The staff member does not exist.");
    }

    private static void EnsureManager(CallerScope caller)
    {
        if (!caller.RunsStores)
        {
            throw Problem.Forbidden("auth.forbidden", "You do not have permission for this.");
        }
    }

    /// <summary>A store manager gives only the cashier role, and only their own stores.</summary>
    private static void EnsureMayAssign(CallerScope caller, StaffRole role, long[] storeIds)
    {
        if (caller.Role == PatronClaims.Roles.Admin)
        {
            return;
        }

        if (role != StaffRole.Cashier)
        {
            throw Problem.Forbidden("staff.role_forbidden", "Store managers manage cashiers only.");
        }

        foreach (var store in storeIds)
        {
            caller.EnsureCanActAs(store);
        }
    }

    /// <summary>
    /// Opens the transaction that takes an administrator away, with every active administrator's
    /// row locked (the write lock on SQLite), and refuses when none other would be left: two
    /// administrators disabling or demoting each other at once cannot leave the chain without one.
    /// The caller saves and commits.
    /// </summary>
    private async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> EnsureAnotherAdminAsync(long staffId, string? field, CancellationToken ct)
    {
        var tx = await db.Database.BeginTransactionAsync(ct);
        try
        {
            await db.Database.ExecuteSqlAsync($"UPDATE staff SET role = role WHERE role = {(int)StaffRole.Admin} AND is_active = {true}", ct);
            if (!await db.Staff.AnyAsync(s => s.Id != staffId && s.Role == StaffRole.Admin && s.IsActive, ct))
            {
                throw Refused("staff.last_admin", "This is the last active administrator.", field);
            }

            return tx;
        }
        catch
        {
            await tx.DisposeAsync();
            throw;
        }
    }

    private async Task<(StaffRole Role, long[] StoreIds)> RoleAndStoresAsync(string? roleName, long[]? ids, FieldErrors errors, CancellationToken ct)
    {
        if (!PatronClaims.TryParseRole(roleName, out var role))
        {
            errors.Add("role", "staff.role_invalid", "The role must be admin, marketing, store_manager, cashier or auditor.");
        }

        var storeIds = (ids ?? []).Distinct().Order().ToArray();
        if (!errors.Has("role") && !StaffMember.IsHeadOffice(role) && storeIds.Length == 0)
        {
            errors.Add("storeIds", "staff.stores_required", "Store managers and cashiers need at least one store.");
        }

        if (storeIds.Length > 0 && await db.Stores.CountAsync(s => storeIds.Contains(s.Id), ct) != storeIds.Length)
        {
            errors.Add("storeIds", "store.not_found", "One of the stores does not exist.");
        }

        return (role, StaffMember.IsHeadOffice(role) ? [] : storeIds);
    }

    private static string DisplayName(string? input, FieldErrors errors)
    {
        var displayName = (input ?? "").Trim();
        if (displayName.Length is < 1 or > 100)
        {
            errors.Add("displayName", "staff.display_name_invalid", "A display name is 1–100 characters.");
        }

        return displayName;
    }

    private static void ValidatePassword(string? password, FieldErrors errors)
    {
        if ((password ?? "").Length is < MinPasswordLength or > MaxPasswordLength)
        {
            errors.Add("password", "staff.password_too_short", $"A password has at least {MinPasswordLength} characters.");
        }
    }

    private static ProblemException Refused(string code, string message, string? field = null) =>
        new(StatusCodes.Status422UnprocessableEntity, code, message, field is null ? null : [new Domain.Common.DomainError(code, message, field)]);

    private static long[] StoreIds(StaffMember s) => [.. s.Stores.Select(x => x.StoreId).Order()];

    /// <summary>The store an audit row is filed under, so a store's manager finds the changes to its cashiers.</summary>
    private static long? AuditStore(StaffMember s) => s.Stores.Count > 0 ? s.Stores.Min(x => x.StoreId) : null;

    private static StaffSnapshot Snapshot(StaffMember s) => new(s.DisplayName, PatronClaims.RoleName(s.Role), string.Join(",", StoreIds(s)));

    private StaffView View(StaffMember s) =>
        new(s.Id, s.Login, s.DisplayName, PatronClaims.RoleName(s.Role), s.IsActive, s.IsLockedOut(clock.GetUtcNow().UtcDateTime), StoreIds(s));

    private sealed record StaffSnapshot(string DisplayName, string Role, string StoreIds);
}
