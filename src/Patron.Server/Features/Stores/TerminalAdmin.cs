using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Organisation;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Stores;

public sealed record CreateTerminalRequest(string? Name);

public sealed record TerminalView(
    long Id,
    long StoreId,
    string Name,
    string KeyId,
    DateTime CreatedAt,
    DateTime? RevokedAt,
    string? CreatedBy = null,
    string? RevokedBy = null,
    DateTime? KeyRotatedAt = null,
    string? KeyRotatedBy = null);

/// <summary>The created terminal and its key; the key is shown this once and never again.</summary>
public sealed record CreatedTerminal(TerminalView Terminal, string ApiKey);

/// <summary>POS terminals of a store: create (key shown once), list, rotate the key, revoke. Admins and the store's managers.</summary>
public sealed class TerminalAdmin(PatronDb db, AuditLog audit, TimeProvider clock)
{
    public async Task<CreatedTerminal> CreateAsync(long storeId, CreateTerminalRequest r, CallerScope caller, CancellationToken ct)
    {
        await EnsureStoreAsync(storeId, caller, ct);
        EnsureRunsStores(caller);
        var name = (r.Name ?? "").Trim();
        if (name.Length is < 1 or > 100)
        {
            throw Problem.Invalid("terminal.name_invalid", "A terminal name is 1–100 characters.", "name");
        }

        var (key, keyId, hash) = TerminalKeys.Create();
        var terminal = new Terminal(storeId, name, keyId, hash, caller.StaffId, clock.GetUtcNow().UtcDateTime);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Terminals.Add(terminal);
        await db.SaveChangesAsync(ct);
        audit.Record(caller, "terminal.created", storeId, entityType: "terminal", entityId: terminal.Id, detail: new { name, keyId });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new CreatedTerminal(View(terminal), key);
    }

    public async Task<List<TerminalView>> ListAsync(long storeId, CallerScope caller, CancellationToken ct)
    {
        await EnsureStoreAsync(storeId, caller, ct);
        var terminals = await db.Terminals.AsNoTracking().Where(t => t.StoreId == storeId).OrderBy(t => t.Id).ToListAsync(ct);
        var staffIds = terminals.SelectMany(t => new[] { t.CreatedByStaffId, t.RevokedByStaffId, t.KeyRotatedByStaffId }).OfType<long>().Distinct().ToList();
        var names = await db.Staff.AsNoTracking().Where(s => staffIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.DisplayName, ct);
        string? Name(long? id) => id is { } i ? names.GetValueOrDefault(i) : null;
        return terminals.ConvertAll(t => View(t) with { CreatedBy = Name(t.CreatedByStaffId), RevokedBy = Name(t.RevokedByStaffId), KeyRotatedBy = Name(t.KeyRotatedByStaffId) });
    }

    /// <summary>
    /// Gives a terminal a new key, shown this once; the old key is refused from the next request
    /// (its id no longer finds the terminal). A revoked terminal gets no new key.
    /// </summary>
    public async Task<CreatedTerminal> RotateAsync(long terminalId, CallerScope caller, CancellationToken ct)
    {
        var terminal = await FindAsync(terminalId, caller, ct);
        if (terminal.IsRevoked)
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "terminal.revoked", "The terminal is revoked: create a new one.");
        }

        var oldKeyId = terminal.KeyId;
        var (key, keyId, hash) = TerminalKeys.Create();
        terminal.RotateKey(keyId, hash, caller.StaffId, clock.GetUtcNow().UtcDateTime);
        audit.Record(caller, "terminal.key_rotated", terminal.StoreId, entityType: "terminal", entityId: terminal.Id, detail: new { oldKeyId, keyId });
        await db.SaveChangesAsync(ct);
        return new CreatedTerminal(View(terminal), key);
    }

    public async Task<TerminalView> RevokeAsync(long terminalId, CallerScope caller, CancellationToken ct)
    {
        var terminal = await FindAsync(terminalId, caller, ct);
        if (!terminal.IsRevoked)
        {
            terminal.Revoke(clock.GetUtcNow().UtcDateTime, caller.StaffId);
            audit.Record(caller, "terminal.revoked", terminal.StoreId, entityType: "terminal", entityId: terminal.Id, detail: new { terminal.KeyId });
            await db.SaveChangesAsync(ct);
        }

        return View(terminal);
    }

    /// <summary>A terminal of a store the caller acts as; another store's terminal is "not found".</summary>
    private async Task<Terminal> FindAsync(long terminalId, CallerScope caller, CancellationToken ct)
    {
        var terminal = await db.Terminals.FindAsync([terminalId], ct);
        if (terminal is null || !caller.CanActAs(terminal.StoreId))
        {
            throw Problem.NotFound("terminal.not_found", "The terminal does not exist.");
        }

        EnsureRunsStores(caller);
        return terminal;
    }

    /// <summary>A store outside the caller's stores is "not found", like one that does not exist.</summary>
    private async Task EnsureStoreAsync(long storeId, CallerScope caller, CancellationToken ct)
    {
        if (!caller.CanActAs(storeId) || !await db.Stores.AnyAsync(s => s.Id == storeId, ct))
        {
            throw Problem.NotFound("store.not_found", "The store does not exist.");
        }
    }

    /// <summary>Keys are made, replaced and revoked by administrators and the store's managers only, whatever the page or API in front.</summary>
    private static void EnsureRunsStores(CallerScope caller)
    {
        if (!caller.RunsStores)
        {
            throw Problem.Forbidden("auth.forbidden", "Only administrators and store managers manage terminals.");
        }
    }

    private static TerminalView View(Terminal t) => new(t.Id, t.StoreId, t.Name, t.KeyId, t.CreatedAt, t.RevokedAt, KeyRotatedAt: t.KeyRotatedAt);
}
