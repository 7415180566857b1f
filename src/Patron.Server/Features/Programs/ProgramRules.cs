using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Organisation;
using Patron.Domain.Programs;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs;

public sealed record ProgramVersionView(long Id, int Version, DateOnly EffectiveFrom, string Status, DateTime CreatedAt, DateTime UpdatedAt, DateTime? PublishedAt)
{
    public static ProgramVersionView From(ProgramVersion v) =>
        new(v.Id, v.Version, v.EffectiveFrom, v.Status == ProgramVersionStatus.Published ? "published" : "draft", v.CreatedAt, v.UpdatedAt, v.PublishedAt);
}

/// <summary>
/// A program's versions: drafts imported from program files (validated, never active while
/// invalid), published versions in force from their effective date, and the rules in force on
/// a given local date. Published versions never change, so they are cached per node; a
/// publish on another node is seen within <see cref="CacheFor"/>.
/// </summary>
public sealed class ProgramRules(PatronDb db, AuditLog audit, TimeProvider clock, ProgramRules.PublishedCache cache)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    /// <summary>The problem code of publishing a draft older than a published version without confirming.</summary>
    public const string DraftOutdated = "program.draft_outdated";

    private ConcurrentDictionary<long, (DateTime LoadedAt, ProgramVersion[] Published)> Cache => cache.Programs;

    /// <summary>The rules in force for a program on a local date; refused when none is published for that date.</summary>
    public async Task<ProgramDefinition> InForceAsync(long programId, DateOnly localDate, CancellationToken ct)
    {
        var version = (await PublishedAsync(programId, ct)).FirstOrDefault(v => v.EffectiveFrom <= localDate)
            ?? throw Problem.Conflict("program.not_in_force", $"The program has no published rules in force on {localDate:yyyy-MM-dd}.");
        return version.Rules;
    }

    /// <summary>The rules in force on a local date, or null when none is published for it.</summary>
    public async Task<ProgramDefinition?> TryInForceAsync(long programId, DateOnly localDate, CancellationToken ct) =>
        (await PublishedAsync(programId, ct)).FirstOrDefault(v => v.EffectiveFrom <= localDate)?.Rules;

    /// <summary>The program's time zone as its latest published version gives it (Asia/Shanghai before any).</summary>
    public async Task<TimeZoneInfo> ZoneAsync(long programId, CancellationToken ct)
    {
        var latest = (await PublishedAsync(programId, ct)).FirstOrDefault();
        return Zone(latest?.Rules.TimeZone ?? Domain.Organisation.Store.DefaultTimeZone);
    }

    private async Task<ProgramVersion[]> PublishedAsync(long programId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (!Cache.TryGetValue(programId, out var cached) || now - cached.LoadedAt > CacheFor || now < cached.LoadedAt)
        {
            var published = await db.ProgramVersions.AsNoTracking()
                .Where(v => v.ProgramId == programId && v.Status == ProgramVersionStatus.Published)
                .ToListAsync(ct);
            cached = (now, [.. published.OrderByDescending(v => v.EffectiveFrom).ThenByDescending(v => v.Version)]);
            Cache[programId] = cached;
        }

        return cached.Published;
    }

    public async Task<IReadOnlyList<ProgramVersionView>> ListAsync(long programId, CallerScope caller, CancellationToken ct)
    {
        await ProgramAsync(programId, caller, ct);
        var versions = await db.ProgramVersions.AsNoTracking().Where(v => v.ProgramId == programId).OrderByDescending(v => v.Version).ToListAsync(ct);
        return [.. versions.Select(ProgramVersionView.From)];
    }

    /// <summary>The program file of one version, exactly as stored.</summary>
    public async Task<string> ExportAsync(long programId, int version, CallerScope caller, CancellationToken ct)
    {
        await ProgramAsync(programId, caller, ct);
        var v = await db.ProgramVersions.AsNoTracking().FirstOrDefaultAsync(x => x.ProgramId == programId && x.Version == version, ct)
            ?? throw Problem.NotFound("program.version_not_found", "No such version of this program.");
        return v.Definition;
    }

    /// <summary>Imports a program file as a new draft version; every problem is reported with the field it concerns.</summary>
    public async Task<ProgramVersionView> ImportAsync(long programId, string json, CallerScope caller, CancellationToken ct)
    {
        var program = await ProgramAsync(programId, caller, ct);
        var definition = Parse(json, program);
        var now = clock.GetUtcNow().UtcDateTime;
        var next = (await db.ProgramVersions.Where(v => v.ProgramId == programId).MaxAsync(v => (int?)v.Version, ct) ?? 0) + 1;
        var version = new ProgramVersion(programId, next, definition, caller.StaffId, now, await LastPublishOrderAsync(programId, ct));
        db.ProgramVersions.Add(version);
        audit.Record(caller, "program.draft_imported", null, null, "program", programId, new { version = next, effectiveFrom = version.EffectiveFrom });
        await SaveUniqueAsync(ct);
        return ProgramVersionView.From(version);
    }

    /// <summary>Replaces the rules of a draft.</summary>
    public async Task<ProgramVersionView> ReplaceAsync(long programId, int versionNumber, string json, CallerScope caller, CancellationToken ct)
    {
        var program = await ProgramAsync(programId, caller, ct);
        var version = await VersionAsync(programId, versionNumber, ct);
        version.Replace(Parse(json, program), caller.StaffId, clock.GetUtcNow().UtcDateTime);
        audit.Record(caller, "program.draft_replaced", null, null, "program", programId, new { version = versionNumber, effectiveFrom = version.EffectiveFrom });
        await SaveVersionAsync(ct);
        return ProgramVersionView.From(version);
    }

    /// <summary>
    /// Publishes a draft: from its effective date it is the program's rules. Its date may not be in the past.
    /// A draft made before another version was published would replace
    /// newer rules with older ones: refused with 409 <c>program.draft_outdated</c> unless <paramref name="confirmOutdated"/>.
    /// </summary>
    public async Task<ProgramVersionView> PublishAsync(long programId, int versionNumber, CallerScope caller, CancellationToken ct, bool confirmOutdated = false)
    {
        await ProgramAsync(programId, caller, ct);
        var version = await VersionAsync(programId, versionNumber, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var newer = await NewerPublishedAsync(version, ct);
        if (newer is { } newest && !confirmOutdated)
        {
            throw new ProblemException(StatusCodes.Status409Conflict, DraftOutdated, $"Version {newest} was published after this draft was made: publishing it replaces newer rules with older ones. Confirm to publish it anyway.")
            {
                Extensions = new Dictionary<string, object?> { ["newerVersion"] = newest },
            };
        }

        var anyPublished = await db.ProgramVersions.AnyAsync(v => v.ProgramId == programId && v.Status == ProgramVersionStatus.Published, ct);

        // "Today" in the zone of the rules in force, not the draft's own (editable) zone.
        var zone = anyPublished ? await ZoneAsync(programId, ct) : Zone(version.Rules.TimeZone);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, zone));
        if (anyPublished && version.EffectiveFrom < today)
        {
            // Rules already applied to past sales are never rewritten.
            throw Problem.Invalid("program.effective_in_past", $"A new version takes effect today ({today:yyyy-MM-dd}) or later.", "effectiveFrom");
        }

        version.Publish(caller.StaffId, now, await LastPublishOrderAsync(programId, ct) + 1);
        audit.Record(caller, "program.published", null, null, "program", programId, newer is null
            ? new { version = versionNumber, effectiveFrom = version.EffectiveFrom }
            : (object)new { version = versionNumber, effectiveFrom = version.EffectiveFrom, publishedOverNewer = newer });
        await SaveVersionAsync(ct);

        Cache.TryRemove(programId, out _);
        return ProgramVersionView.From(version);
    }

    /// <summary>
    /// The last version published after <paramref name="draft"/> was made (whatever its number: two drafts
    /// copied from one version, the second published first), or null; such a draft lacks its changes.
    /// </summary>
    public async Task<int?> NewerPublishedAsync(ProgramVersion draft, CancellationToken ct) =>
        draft.Status != ProgramVersionStatus.Draft ? null : await db.ProgramVersions
            .Where(v => v.ProgramId == draft.ProgramId && v.PublishOrder > draft.PublishedBefore)
            .OrderByDescending(v => v.PublishOrder).Select(v => (int?)v.Version).FirstOrDefaultAsync(ct);

    /// <summary>The program's last <see cref="ProgramVersion.PublishOrder"/>, 0 before its first publish.</summary>
    internal async Task<int> LastPublishOrderAsync(long programId, CancellationToken ct) =>
        await db.ProgramVersions.Where(v => v.ProgramId == programId).MaxAsync(v => v.PublishOrder, ct) ?? 0;

    /// <summary>Saves a changed version; one saved or published by another request meanwhile answers 409 instead of being overwritten.</summary>
    internal async Task SaveVersionAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e is DbUpdateConcurrencyException || Transactions.IsUniqueViolation(e, "IX_program_versions_program_id_publish_order", "program_versions.publish_order"))
        {
            // The version's concurrency tokens (saved or published meanwhile), or the program's publish order (another version published at once).
            throw Problem.Conflict("program.version_changed", "Someone else saved or published this version, or published another, meanwhile; open it again.");
        }
    }

    public static TimeZoneInfo Zone(string id) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : throw new DomainException(new DomainError("program.time_zone_unknown", $"Unknown time zone {id}.", "timeZone"));

    private static ProgramDefinition Parse(string json, LoyaltyProgram program)
    {
        var definition = ProgramFile.Parse(json);
        if (definition.Code != program.Code)
        {
            throw Problem.Invalid("program.code_mismatch", $"The file is for program {definition.Code}, not {program.Code}.", "code");
        }

        return definition;
    }

    internal async Task<LoyaltyProgram> ProgramAsync(long programId, CallerScope caller, CancellationToken ct)
    {
        var program = await db.Programs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == programId, ct);
        return program is not null && caller.CanSeeProgram(programId)
            ? program
            : throw Problem.NotFound("program.not_found", "The program does not exist.");
    }

    internal async Task<ProgramVersion> VersionAsync(long programId, int version, CancellationToken ct) =>
        await db.ProgramVersions.FirstOrDefaultAsync(v => v.ProgramId == programId && v.Version == version, ct)
            ?? throw Problem.NotFound("program.version_not_found", "No such version of this program.");

    internal async Task SaveUniqueAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            throw Problem.Conflict("program.version_taken", "Another version was imported at the same moment; try again.");
        }
    }

    /// <summary>Published versions per program, one per host (a singleton).</summary>
    public sealed class PublishedCache
    {
        public ConcurrentDictionary<long, (DateTime LoadedAt, ProgramVersion[] Published)> Programs { get; } = new();
    }
}
