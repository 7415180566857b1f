using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Organisation;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Stores;

public sealed record CreateTerminalRequest(string? Name);

public sealed record TerminalView(long Id, long StoreId, string Name, string KeyId, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary>The created terminal and its key; the key is shown this once and never again.</summary>
public sealed record CreatedTerminal(TerminalView Terminal, string ApiKey);

/// <summary>POS terminals of a store: create (key shown once), list, revoke. Admins and the store's managers.</summary>
public sealed class TerminalAdmin(PatronDb db, AuditLog audit, TimeProvider clock)
{
    public async Task<CreatedTerminal> CreateAsync(long storeId, CreateTerminalRequest r, CallerScope caller, CancellationToken ct)
    {
        await EnsureStoreAsync(storeId, caller, ct);
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
        return terminals.ConvertAll(View);
    }

    public async Task<TerminalView> RevokeAsync(long terminalId, CallerScope caller, CancellationToken ct)
    {
        var terminal = await db.Terminals.FindAsync([terminalId], ct) ?? throw Problem.NotFound("terminal.not_found", "The terminal does not exist.");
        await EnsureStoreAsync(terminal.StoreId, caller, ct);
        if (!terminal.IsRevoked)
        {
            terminal.Revoke(clock.GetUtcNow().UtcDateTime);
            audit.Record(caller, "terminal.revoked", terminal.StoreId, entityType: "terminal", entityId: terminal.Id);
            await db.SaveChangesAsync(ct);
        }

        return View(terminal);
    }

    private async Task EnsureStoreAsync(long storeId, CallerScope caller, CancellationToken ct)
    {
        if (!await db.Stores.AnyAsync(s => s.Id == storeId, ct))
        {
            throw Problem.NotFound("store.not_found", "The store does not exist.");
        }

        caller.EnsureCanActAs(storeId);
    }

    private static TerminalView View(Terminal t) => new(t.Id, t.StoreId, t.Name, t.KeyId, t.CreatedAt, t.RevokedAt);
}
