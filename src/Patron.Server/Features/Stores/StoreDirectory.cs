using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Organisation;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Stores;

public sealed record StoreView(long Id, string Code, string Name, string City, long RegionId, string RegionName, long ProgramId, string ProgramName, string TimeZone, bool IsActive, string District = "", string Address = "");

public sealed record CreateProgramRequest(string? Code, string? Name, string? CardPrefix);

public sealed record ProgramView(long Id, string Code, string Name, string CardPrefix);

public sealed record CreateRegionRequest(string? Code, string? Name);

public sealed record RegionView(long Id, string Code, string Name);

public sealed record CreateStoreRequest(string? Code, string? Name, long? RegionId, string? City, long? ProgramId, string? TimeZone, string? District = null, string? Address = null);

/// <summary>A store's new particulars; <see cref="IsActive"/> opens or closes it.</summary>
public sealed record UpdateStoreRequest(string? Code, string? Name, long? RegionId, string? City, string? District, string? Address, long? ProgramId, string? TimeZone, bool? IsActive);

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
            .Select(x => new StoreView(x.s.Id, x.s.Code, x.s.Name, x.s.City, x.r.Id, x.r.Name, x.p.Id, x.p.Name, x.s.TimeZone, x.s.IsActive, x.s.District, x.s.Address))
            .ToListAsync(ct);
    }

    /// <summary>One store, if the caller may see it; another store is "not found", so its existence is not revealed.</summary>
    public async Task<StoreView> GetAsync(long id, CallerScope caller, CancellationToken ct)
    {
        if (!caller.CanBrowseStore(id))
        {
            throw NotFound();
        }

        return await db.Stores.AsNoTracking().Where(s => s.Id == id)
            .Join(db.Regions, s => s.RegionId, r => r.Id, (s, r) => new { s, r })
            .Join(db.Programs, x => x.s.ProgramId, p => p.Id, (x, p) => new { x.s, x.r, p })
            .Select(x => new StoreView(x.s.Id, x.s.Code, x.s.Name, x.s.City, x.r.Id, x.r.Name, x.p.Id, x.p.Name, x.s.TimeZone, x.s.IsActive, x.s.District, x.s.Address))
            .FirstOrDefaultAsync(ct) ?? throw NotFound();
    }

    public Task<List<RegionView>> ListRegionsAsync(CancellationToken ct) =>
        db.Regions.AsNoTracking().OrderBy(r => r.Code).Select(r => new RegionView(r.Id, r.Code, r.Name)).ToListAsync(ct);

    /// <summary>
    /// Changes a store (admin): code, name, region, city, district, address, program and open or
    /// closed. A store keeps its program once members enrolled or bought there, since their
    /// cards and points belong to it. Audited with the old and new values.
    /// </summary>
    public async Task<StoreView> UpdateStoreAsync(long id, UpdateStoreRequest r, CallerScope caller, CancellationToken ct)
    {
        EnsureAdmin(caller);
        var store = await db.Stores.FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw NotFound();
        var errors = new FieldErrors();
        var (code, name, city, district, address, timeZone) = Particulars(r.Code, r.Name, r.City, r.District, r.Address, r.TimeZone, errors);
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
        else if (program.Id != store.ProgramId
            && (await db.Members.AnyAsync(m => m.EnrolStoreId == id, ct) || await db.Sales.AnyAsync(s => s.StoreId == id, ct)))
        {
            errors.Add("programId", "store.program_locked", "Members enrolled or bought at this store: it keeps its program.");
        }

        errors.ThrowIfAny();
        if (await db.Stores.AnyAsync(s => s.Code == code && s.Id != id, ct))
        {
            throw Problem.Conflict("store.code_taken", "A store with this code exists.", "code");
        }

        var before = new { store.Code, store.Name, store.RegionId, store.City, store.District, store.Address, store.ProgramId, store.TimeZone, store.IsActive };
        store.Update(code, name, region!.Id, city, district, address, program!.Id, timeZone);
        var open = r.IsActive ?? store.IsActive;
        store.SetOpen(open);
        var after = new { store.Code, store.Name, store.RegionId, store.City, store.District, store.Address, store.ProgramId, store.TimeZone, store.IsActive };
        if (!before.Equals(after))
        {
            var action = before.IsActive == after.IsActive ? "store.updated" : after.IsActive ? "store.opened" : "store.closed";
            audit.Record(caller, action, store.Id, entityType: "store", entityId: store.Id, detail: new { before, after });
            await db.SaveChangesAsync(ct);
        }

        return await GetAsync(id, caller, ct);
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
        EnsureAdmin(caller);
        var errors = new FieldErrors();
        var (code, name, city, district, address, timeZone) = Particulars(r.Code, r.Name, r.City, r.District, r.Address, r.TimeZone, errors);
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

        var store = new Store(code, name, region!.Id, city, program!.Id, timeZone, district, address);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Add(store);
        await db.SaveChangesAsync(ct);
        audit.Record(caller, "store.created", store.Id, entityType: "store", entityId: store.Id, detail: new { code, name, regionId = region.Id, city, district, address, programId = program.Id, timeZone });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new StoreView(store.Id, store.Code, store.Name, store.City, region.Id, region.Name, program.Id, program.Name, store.TimeZone, store.IsActive, store.District, store.Address);
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

    private static (string Code, string Name, string City, string District, string Address, string TimeZone) Particulars(
        string? codeInput, string? nameInput, string? cityInput, string? districtInput, string? addressInput, string? timeZoneInput, FieldErrors errors)
    {
        var code = Code(codeInput, errors);
        var name = Name(nameInput, errors);
        var city = (cityInput ?? "").Trim();
        if (city.Length is < 1 or > 50)
        {
            errors.Add("city", "store.city_invalid", "A city is 1–50 characters.");
        }

        var district = (districtInput ?? "").Trim();
        if (district.Length > 50)
        {
            errors.Add("district", "store.district_invalid", "A district is at most 50 characters.");
        }

        var address = (addressInput ?? "").Trim();
        if (address.Length > 200)
        {
            errors.Add("address", "store.address_invalid", "An address is at most 200 characters.");
        }

        var timeZone = string.IsNullOrWhiteSpace(timeZoneInput) ? Store.DefaultTimeZone : timeZoneInput.Trim();
        if (timeZone.Length > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out _))
        {
            errors.Add("timeZone", "store.time_zone_invalid", "The time zone is not a known IANA zone such as Asia/Shanghai.");
        }

        return (code, name, city, district, address, timeZone);
    }

    /// <summary>Only administrators create and change stores (the API's policy says so too; the console's forms are checked here).</summary>
    private static void EnsureAdmin(CallerScope caller)
    {
        if (caller.Role != PatronClaims.Roles.Admin)
        {
            throw Problem.Forbidden("auth.forbidden", "You do not have permission for this.");
        }
    }

    private static ProblemException NotFound() => Problem.NotFound("store.not_found", "The store does not exist.");

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
