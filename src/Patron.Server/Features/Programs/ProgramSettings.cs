using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Programs;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs;

/// <summary>One version as the settings editor shows it, with the version in force today beside it.</summary>
public sealed record ProgramSettingsView(
    long ProgramId,
    string ProgramCode,
    string ProgramName,
    ProgramVersionView Version,
    ProgramDefinition Rules,
    int? InForceVersion,
    DateOnly Today)
{
    public bool IsDraft => Version.Status == "draft";

    /// <summary>For a draft: the newest version published after it was made (publishing it then needs a confirmation).</summary>
    public int? NewerPublished { get; init; }

    /// <summary>The stored file's <see cref="ProgramSettings.Stamp"/>, carried by the editor's form.</summary>
    public string Stamp { get; init; } = "";
}

/// <summary>
/// Head office's program settings: a new draft copied from the version in force, a draft's rules
/// changed field by field and validated as an imported file is (nothing is saved while anything
/// is wrong; errors name the form field), and published versions read only. Only administrators
/// and marketing change anything; every change is audited with who and when.
/// </summary>
public sealed class ProgramSettings(PatronDb db, ProgramRules rules, AuditLog audit, TimeProvider clock)
{
    public static bool CanEdit(CallerScope caller) =>
        caller.StaffId is not null && caller.Role is PatronClaims.Roles.Admin or PatronClaims.Roles.Marketing;

    public async Task<ProgramSettingsView> GetAsync(long programId, int versionNumber, CallerScope caller, CancellationToken ct)
    {
        var program = await rules.ProgramAsync(programId, caller, ct);
        var version = await db.ProgramVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ProgramId == programId && v.Version == versionNumber, ct)
            ?? throw Problem.NotFound("program.version_not_found", "No such version of this program.");
        var today = await TodayAsync(programId, ct);
        var inForce = await rules.TryInForceAsync(programId, today, ct);
        return new ProgramSettingsView(program.Id, program.Code, program.Name, ProgramVersionView.From(version), version.Rules, inForce?.Version, today)
        {
            Stamp = Stamp(version.Definition),
            NewerPublished = await rules.NewerPublishedAsync(version, ct),
        };
    }

    /// <summary>A new draft whose rules are a copy of the version in force today, effective from today.</summary>
    public async Task<ProgramVersionView> NewDraftFromInForceAsync(long programId, CallerScope caller, CancellationToken ct)
    {
        EnsureCanEdit(caller);
        await rules.ProgramAsync(programId, caller, ct);
        var today = await TodayAsync(programId, ct);
        var inForce = await rules.TryInForceAsync(programId, today, ct)
            ?? throw Problem.Conflict("program.not_in_force", $"The program has no published rules in force on {today:yyyy-MM-dd}.");
        var next = (await db.ProgramVersions.Where(v => v.ProgramId == programId).MaxAsync(v => (int?)v.Version, ct) ?? 0) + 1;
        var version = new ProgramVersion(programId, next, inForce with { EffectiveFrom = today }, caller.StaffId, clock.GetUtcNow().UtcDateTime, await rules.LastPublishOrderAsync(programId, ct));
        db.ProgramVersions.Add(version);
        audit.Record(caller, "program.draft_created", null, null, "program", programId, new { version = next, copiedFrom = inForce.Version, effectiveFrom = version.EffectiveFrom });
        await rules.SaveUniqueAsync(ct);
        return ProgramVersionView.From(version);
    }

    /// <summary>
    /// Saves the editor's fields into a draft. Every problem (the fields' own and the program
    /// file's rules) is reported as a 400 naming the form field; nothing is saved then.
    /// </summary>
    /// <param name="stamp">The draft's <see cref="Stamp"/> when the editor was opened: a save over someone else's later save answers 409.</param>
    public async Task<ProgramVersionView> SaveAsync(long programId, int versionNumber, ProgramSettingsForm form, CallerScope caller, CancellationToken ct, string? stamp = null)
    {
        EnsureCanEdit(caller);
        var program = await rules.ProgramAsync(programId, caller, ct);
        var version = await rules.VersionAsync(programId, versionNumber, ct);
        if (version.Status == ProgramVersionStatus.Published)
        {
            throw Problem.Conflict("program.version_published", "A published version cannot change; make a new draft.");
        }

        if (stamp is { } opened && opened != Stamp(version.Definition))
        {
            throw Problem.Conflict("program.version_changed", "Someone else saved or published this version meanwhile; open it again.");
        }

        var built = form.Build(version.Definition);
        if (built.Errors.Count > 0)
        {
            throw Problem.Invalid(built.Errors);
        }

        ProgramDefinition definition;
        try
        {
            definition = ProgramFile.Parse(built.Json);
        }
        catch (DomainException e)
        {
            throw Problem.Invalid([.. e.Errors.Select(x => new DomainError(
                x.Code,
                x.Field is { } f && x.Message.StartsWith(f + ": ", StringComparison.Ordinal) ? x.Message[(f.Length + 2)..] : x.Message,
                ProgramSettingsForm.FieldFor(x.Field, built.Rows)))]);
        }

        if (definition.Code != program.Code)
        {
            throw Problem.Invalid("program.code_mismatch", $"The file is for program {definition.Code}, not {program.Code}.");
        }

        var before = JsonNode.Parse(version.Definition)!.AsObject();
        version.Replace(definition, caller.StaffId, clock.GetUtcNow().UtcDateTime);
        var after = JsonNode.Parse(version.Definition)!.AsObject();
        var changed = after.Select(p => p.Key).Where(k => !JsonNode.DeepEquals(before[k], after[k])).ToList();
        audit.Record(caller, "program.draft_saved", null, null, "program", programId, new { version = versionNumber, effectiveFrom = version.EffectiveFrom, changed });
        await rules.SaveVersionAsync(ct);

        return ProgramVersionView.From(version);
    }

    /// <summary>A digest of a version's stored file: what an editor saw when it opened the draft.</summary>
    public static string Stamp(string definition) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(definition)))[..24];

    /// <summary>Today in the program's time zone: the day a new draft starts and the version in force is read for.</summary>
    public async Task<DateOnly> TodayAsync(long programId, CancellationToken ct)
    {
        var zone = await rules.ZoneAsync(programId, ct);
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, zone));
    }

    private static void EnsureCanEdit(CallerScope caller)
    {
        if (!CanEdit(caller))
        {
            throw Problem.Forbidden("program.edit_forbidden", "Only administrators and marketing change program settings.");
        }
    }
}
