using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Organisation;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Stores;

public sealed record StoreView(long Id, string Code, string Name, string City, long RegionId, string RegionName, long ProgramId, string ProgramName, string TimeZone, bool IsActive);

public sealed record CreateProgramRequest(string? Code, string? Name, string? CardPrefix);

public sealed record ProgramView(long Id, string Code, string Name, string CardPrefix);

public sealed record CreateRegionRequest(string? Code, string? Name);

public sealed record RegionView(long Id, string Code, string Name);

public sealed record CreateStoreRequest(string? Code, string? Name, long? RegionId, string? City, long? ProgramId, string? TimeZone);

/// <summary>Programs, regions and stores: who may see which, and creating them (admin).</summary>
public sealed class StoreDirectory(PatronDb db, AuditLog audit)
{
    public Task<List<StoreView>> ListAsync(CallerScope caller, CancellationToken ct)
    {
        var ids = caller.StoreIds.ToList();
        var stores = caller.AllStores ? db.Stores : db.Stores.Where(s => ids.Contains(s.Id));
        return stores.AsNoTracking()
            .Join(db.Regions, s => s.RegionId, r => r.Id, (s, r) => new { s, r })
            .Join(db.Programs, x => x.s.ProgramId, p => p.Id, (x, p) => new { x.s, x.r, p })
            .OrderBy(x => x.s.Code)
            .Select(x => new StoreView(x.s.Id, x.s.Code, x.s.Name, x.s.City, x.r.Id, x.r.Name, x.p.Id, x.p.Name, x.s.TimeZone, x.s.IsActive))
            .ToListAsync(ct);
    }

    public Task<List<ProgramView>> ListProgramsAsync(CallerScope caller, CancellationToken ct)
    {
        var ids = caller.ProgramIds.ToList();
        var programs = caller.AllStores ? db.Programs : db.Programs.Where(p => ids.Contains(p.Id));
        return programs.AsNoTracking().OrderBy(p => p.Code).Select(p => new ProgramView(p.Id, p.Code, p.Name, p.CardPrefix)).ToListAsync(ct);
    }

    public async Task<ProgramView> CreateProgramAsync(CreateProgramRequest r, CallerScope caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var code = Code(r.Code, errors);
        var name = Name(r.Name, errors);
        var prefix = (r.CardPrefix ?? "").Trim();
        if (prefix.Length is < 1 or > 8 || !prefix.All(char.IsAsciiDigit))
        {
            errors.Add("cardPrefix", "program.card_prefix_invalid", "A card prefix is one to eight digits.");
        }

        errors.ThrowIfAny();
        if (await db.Programs.AnyAsync(p => p.Code == code, ct))
        {
            throw Problem.Conflict("program.code_taken", "A program with this code exists.", "code");
        }

        var program = new LoyaltyProgram(code, name, prefix);
        await SaveWithAuditAsync(program, caller, "program.created", "program", () => program.Id, ct);
        return new ProgramView(program.Id, program.Code, program.Name, program.CardPrefix);
    }

    public async Task<RegionView> CreateRegionAsync(CreateRegionRequest r, CallerScope caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var code = Code(r.Code, errors);
        var name = Name(r.Name, errors);
        errors.ThrowIfAny();
        if (await db.Regions.AnyAsync(x => x.Code == code, ct))
        {
            throw Problem.Conflict("region.code_taken", "A region with this code exists.", "code");
        }

        var region = new Region(code, name);
        await SaveWithAuditAsync(region, caller, "region.created", "region", () => region.Id, ct);
        return new RegionView(region.Id, region.Code, region.Name);
    }

    public async Task<StoreView> CreateStoreAsync(CreateStoreRequest r, CallerScope caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var code = Code(r.Code, errors);
        var name = Name(r.Name, errors);
        var city = (r.City ?? "").Trim();
        if (city.Length is < 1 or > 50)
        {
            errors.Add("city", "store.city_invalid", "A city is 1–50 characters.");
        }

        var timeZone = string.IsNullOrWhiteSpace(r.TimeZone) ? Store.DefaultTimeZone : r.TimeZone.Trim();
        if (timeZone.Length > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out _))
        {
            errors.Add("timeZone", "store.time_zone_invalid", "The time zone is not a known IANA zone such as Asia/Shanghai.");
        }

        var region = r.RegionId is { } rid ? await db.Regions.FindAsync([rid], ct) : null;
        if (region is null)
        {
            errors.Add("regionId", "region.not_found", "The region does not exist.");
        }

        var program = r.ProgramId is { } pid ? await db.Programs.FindAsync([pid], ct) : null;
        if (program is null)
        {
            errors.Add("programId", "program.not_found", "The program does not exist.");
        }

        errors.ThrowIfAny();
        if (await db.Stores.AnyAsync(s => s.Code == code, ct))
        {
            throw Problem.Conflict("store.code_taken", "A store with this code exists.", "code");
        }

        var store = new Store(code, name, region!.Id, city, program!.Id, timeZone);
        await SaveWithAuditAsync(store, caller, "store.created", "store", () => store.Id, ct);
        return new StoreView(store.Id, store.Code, store.Name, store.City, region.Id, region.Name, program.Id, program.Name, store.TimeZone, store.IsActive);
    }

    private async Task SaveWithAuditAsync(object entity, CallerScope caller, string action, string entityType, Func<long> id, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Add(entity);
        await db.SaveChangesAsync(ct);
        audit.Record(caller, action, entityType: entityType, entityId: id());
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private static string Code(string? input, FieldErrors errors)
    {
        var code = (input ?? "").Trim();
        if (code.Length is < 1 or > 32 || !code.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add("code", "code_invalid", "A code is 1–32 letters, digits, dashes or underscores.");
        }

        return code;
    }

    private static string Name(string? input, FieldErrors errors)
    {
        var name = (input ?? "").Trim();
        if (name.Length is < 1 or > 100)
        {
            errors.Add("name", "name_invalid", "A name is 1–100 characters.");
        }

        return name;
    }
}
