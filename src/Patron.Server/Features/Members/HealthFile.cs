using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Members;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Members;

public sealed record ConsentRequest(string? Kind, bool Granted, string? Source = null, long? StoreId = null);

public sealed record ConsentView(string Kind, bool Granted, DateTime? At, string? Source);

public sealed record ConsentsView(IReadOnlyList<ConsentView> Current, IReadOnlyList<ConsentView> History);

public sealed record HealthRequest(IReadOnlyList<string>? Conditions, IReadOnlyList<string>? Allergies, IReadOnlyList<LongTermMedicine>? Medicines);

/// <summary>The health file as everybody sees it by default: whether there is consent and how much is recorded, never what.</summary>
public sealed record HealthSummary(bool Consent, int Conditions, int Allergies, int Medicines, DateTime? UpdatedAt);

public sealed record UnmaskRequest(string? Field, string? Reason);

public sealed record AnonymiseRequest(string? Reason);

/// <summary>One field of one member in clear text, for a role allowed to see it, with the reason on record.</summary>
public sealed record UnmaskedView(long MemberId, string Field, string? Value, HealthProfile? Health, ContactsView? Contacts = null);

/// <summary>An allergy the basket hits: the line, the product and the member's allergies its tags match.</summary>
public sealed record AllergyWarning(int Line, string Sku, IReadOnlyList<string> Allergies);

/// <summary>
/// Consents (marketing per channel, health data) as an append-only record whose latest entry per
/// kind counts at once; the health profile, kept only with health consent and only encrypted,
/// erased when the consent is withdrawn; unmasking one member's ID number, phone or health file
/// by an allowed role, with the reason in the audit log; and the allergy check of a basket.
/// </summary>
public sealed class HealthFile(PatronDb db, PersonalDataProtector protector, MemberProfiles profiles, AuditLog audit, TimeProvider clock)
{
    public static readonly IReadOnlyList<string> Sources = ["store", "wechat", "online", "phone", "paper", "import", "request"];

    public async Task<ConsentsView> ConsentsAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        await EnsureVisibleAsync(memberId, caller, ct);
        var all = await db.MemberConsents.AsNoTracking().Where(c => c.MemberId == memberId).OrderByDescending(c => c.At).ThenByDescending(c => c.Id).ToListAsync(ct);
        var current = ConsentKinds.All.Select(k => all.FirstOrDefault(c => c.Kind == k) is { } c ? new ConsentView(k, c.Granted, c.At, c.Source) : new ConsentView(k, false, null, null)).ToList();
        return new ConsentsView(current, [.. all.Take(100).Select(c => new ConsentView(c.Kind, c.Granted, c.At, c.Source))]);
    }

    public async Task<ConsentsView> RecordConsentAsync(long memberId, ConsentRequest r, CallerScope caller, CancellationToken ct)
    {
        var kind = (r.Kind ?? "").Trim();
        var source = (r.Source ?? "store").Trim();
        var errors = new FieldErrors();
        if (!ConsentKinds.All.Contains(kind))
        {
            errors.Add("kind", "consent.kind_unknown", $"The consent is one of {string.Join(", ", ConsentKinds.All)}.");
        }

        if (!Sources.Contains(source))
        {
            errors.Add("source", "consent.source_unknown", $"The source is one of {string.Join(", ", Sources)}.");
        }

        errors.ThrowIfAny();
        await EnsureVisibleAsync(memberId, caller, ct);
        var storeId = r.StoreId ?? caller.DefaultStoreId;
        if (storeId is { } s)
        {
            caller.EnsureCanActAs(s);
        }

        await Transactions.RunAsync(db, async ct =>
        {
            await db.LockMemberAsync(memberId, ct);
            await EnsureNotMergedAsync(memberId, ct);
            var now = clock.GetUtcNow().UtcDateTime;
            db.MemberConsents.Add(new MemberConsent(memberId, kind, r.Granted, source, now, caller.StaffId, storeId));
            if (kind == ConsentKinds.Health && !r.Granted)
            {
                // Withdrawn: the health data goes at once, follow-up readings and notes too (the consent history stays).
                await db.MemberHealth.Where(h => h.MemberId == memberId).ExecuteDeleteAsync(ct);
                await db.Database.ExecuteSqlAsync($"UPDATE care_tasks SET cipher = NULL WHERE member_id = {memberId}", ct);
            }

            audit.Record(caller, "consent.changed", storeId, memberId, "member", memberId, new { kind, granted = r.Granted, source });
            await db.SaveChangesAsync(ct);
            return 0;
        }, ct);
        return await ConsentsAsync(memberId, caller, ct);
    }

    public async Task<HealthSummary> SummaryAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        await EnsureVisibleAsync(memberId, caller, ct);
        var consent = await HasHealthConsentAsync(memberId, ct);
        var row = consent ? await db.MemberHealth.AsNoTracking().FirstOrDefaultAsync(h => h.MemberId == memberId, ct) : null;
        var profile = row is null ? null : protector.UnprotectHealth(row.Cipher);
        return new HealthSummary(consent, profile?.Conditions.Count ?? 0, profile?.Allergies.Count ?? 0, profile?.Medicines.Count ?? 0, row?.UpdatedAt);
    }

    public async Task<HealthSummary> SaveAsync(long memberId, HealthRequest r, CallerScope caller, CancellationToken ct)
    {
        var (profile, errors) = HealthProfile.Normalize(r.Conditions, r.Allergies, r.Medicines);
        if (profile is null)
        {
            throw Problem.Invalid(errors);
        }

        await EnsureVisibleAsync(memberId, caller, ct);
        if (caller.Role == PatronClaims.Roles.Auditor)
        {
            throw Problem.Forbidden("scope.read_only", "Auditors read; they do not change member files.");
        }

        await Transactions.RunAsync(db, async ct =>
        {
            await db.LockMemberAsync(memberId, ct);
            await EnsureNotMergedAsync(memberId, ct);
            if (!await HasHealthConsentAsync(memberId, ct))
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "consent.health_required", "Record the member's consent to keep health data first.");
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var cipher = protector.ProtectHealth(profile);
            var row = await db.MemberHealth.FirstOrDefaultAsync(h => h.MemberId == memberId, ct);

            // A file on record is replaced only by those who may read it (after unmasking): nobody overwrites allergies they cannot see.
            if (row is not null && caller.Role is not (PatronClaims.Roles.Admin or PatronClaims.Roles.StoreManager)
                && protector.UnprotectHealth(row.Cipher) is { } existing && (existing.Conditions.Count + existing.Allergies.Count + existing.Medicines.Count) > 0)
            {
                throw Problem.Forbidden("health.replace_forbidden", "A health file on record is changed by a store manager or head office, after unmasking it.");
            }

            if (row is null)
            {
                db.MemberHealth.Add(new MemberHealth(memberId, cipher, now, caller.StaffId));
            }
            else
            {
                row.Replace(cipher, now, caller.StaffId);
            }

            audit.Record(caller, "health.updated", caller.DefaultStoreId, memberId, "member", memberId, new { conditions = profile.Conditions.Count, allergies = profile.Allergies.Count, medicines = profile.Medicines.Count });
            await db.SaveChangesAsync(ct);
            return 0;
        }, ct);
        return await SummaryAsync(memberId, caller, ct);
    }

    /// <summary>One field in clear text, for admins and store managers, with a reason that goes to the audit log.</summary>
    public async Task<UnmaskedView> UnmaskAsync(long memberId, UnmaskRequest r, CallerScope caller, CancellationToken ct)
    {
        var field = (r.Field ?? "").Trim();
        var reason = r.Reason?.Trim();
        var errors = new FieldErrors();
        if (field is not ("id_number" or "mobile" or "health" or "contacts"))
        {
            errors.Add("field", "unmask.field_unknown", "Unmask id_number, mobile, contacts or health.");
        }

        if (string.IsNullOrEmpty(reason) || reason.Length > 200)
        {
            errors.Add("reason", "unmask.reason_required", "Give the reason (at most 200 characters); it is kept in the audit log.");
        }

        errors.ThrowIfAny();
        await EnsureVisibleAsync(memberId, caller, ct);
        var member = await db.Members.AsNoTracking().FirstAsync(m => m.Id == memberId, ct);
        if (!caller.AllStores && !caller.CanActAs(member.EnrolStoreId))
        {
            throw Problem.Forbidden("scope.store_forbidden", "Only head office or the member's enrolment store may unmask this member.");
        }

        UnmaskedView view = field switch
        {
            "id_number" => new(memberId, field, member.IdNumberCipher is { } c ? protector.UnprotectIdNumber(c) : null, null),
            "mobile" => new(memberId, field, member.Mobile, null),
            "contacts" => new(memberId, field, null, null, await profiles.ContactsAsync(member, ct)),
            _ => new(memberId, field, null, await HasHealthConsentAsync(memberId, ct) && await db.MemberHealth.AsNoTracking().FirstOrDefaultAsync(h => h.MemberId == memberId, ct) is { } h
                ? protector.UnprotectHealth(h.Cipher) : new HealthProfile()),
        };
        audit.Record(caller, "personal_data.unmasked", caller.DefaultStoreId, memberId, "member", memberId, new { field, reason });
        await db.SaveChangesAsync(ct);
        return view;
    }

    /// <summary>
    /// Whether allergies are on file (with consent), for identify: one primary-key lookup for the
    /// many members without a health file, the consent and the decryption only for those with one.
    /// </summary>
    public async Task<bool> AllergiesOnFileAsync(long memberId, CancellationToken ct) =>
        await db.MemberHealth.AsNoTracking().FirstOrDefaultAsync(h => h.MemberId == memberId, ct) is { } row
        && await HasHealthConsentAsync(memberId, ct)
        && protector.UnprotectHealth(row.Cipher).Allergies.Count > 0;

    /// <summary>The member's allergies each basket line's tags hit; empty without health consent or allergies on file.</summary>
    public async Task<List<AllergyWarning>> AllergiesAsync(long memberId, IReadOnlyList<(string Sku, IReadOnlyList<string>? Tags)> lines, CancellationToken ct)
    {
        if (lines.All(l => l.Tags is null || l.Tags.Count == 0) || !await HasHealthConsentAsync(memberId, ct))
        {
            return [];
        }

        var row = await db.MemberHealth.AsNoTracking().FirstOrDefaultAsync(h => h.MemberId == memberId, ct);
        if (row is null)
        {
            return [];
        }

        var profile = protector.UnprotectHealth(row.Cipher);
        var warnings = new List<AllergyWarning>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (profile.AllergiesIn(lines[i].Tags) is { Count: > 0 } hit)
            {
                warnings.Add(new AllergyWarning(i + 1, lines[i].Sku, hit));
            }
        }

        return warnings;
    }

    /// <summary>
    /// Erases a member's personal data at their request, keeping the ledgers under the member id:
    /// the profile, health file, follow-up notes and sub-card holders go; marketing and health
    /// consents are recorded as withdrawn. Administrators only, with the reason audited.
    /// </summary>
    public async Task<MemberView> AnonymiseAsync(long memberId, string? reason, CallerScope caller, CancellationToken ct)
    {
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 200)
        {
            throw Problem.Invalid("anonymise.reason_required", "Give the request's reference or reason (at most 200 characters).", "reason");
        }

        await EnsureVisibleAsync(memberId, caller, ct);
        return await Transactions.RunAsync(db, async ct =>
        {
            await db.LockMemberAsync(memberId, ct);
            var now = clock.GetUtcNow().UtcDateTime;
            var member = await db.Members.FirstAsync(m => m.Id == memberId, ct);
            if (member.AnonymisedAt is not null)
            {
                throw Problem.Conflict("anonymise.done", "This member's personal data was erased at their request.");
            }

            // The person may have been enrolled twice and merged: the duplicates they were merged from are erased with them.
            var merged = await db.Members.Where(m => m.MergedIntoId == memberId && m.AnonymisedAt == null).ToListAsync(ct);
            foreach (var one in merged.Prepend(member))
            {
                await db.LockMemberAsync(one.Id, ct);
                one.Anonymise(now);
                await profiles.EraseAsync(one.Id, now, ct);
                await db.MemberHealth.Where(h => h.MemberId == one.Id).ExecuteDeleteAsync(ct);
                await db.Database.ExecuteSqlAsync($"UPDATE care_tasks SET cipher = NULL WHERE member_id = {one.Id}", ct);
                await db.Database.ExecuteSqlAsync($"UPDATE cards SET holder = NULL, status = {(int)Domain.Cards.CardStatus.Inactive}, status_at = {now} WHERE member_id = {one.Id}", ct);
                foreach (var kind in ConsentKinds.All)
                {
                    db.MemberConsents.Add(new MemberConsent(one.Id, kind, false, "request", now, caller.StaffId, null));
                }
            }

            audit.Record(caller, "member.anonymised", member.EnrolStoreId, memberId, "member", memberId, new { reason, merged = merged.Select(m => m.Id).ToList() });
            await db.SaveChangesAsync(ct);
            var store = await db.Stores.Where(s => s.Id == member.EnrolStoreId).Select(s => s.Name).FirstAsync(ct);
            return MemberView.From(member, store);
        }, ct);
    }


    /// <summary>A merged member's file lives on the survivor: consent and health changes go there (409 with the survivor's id).</summary>
    private async Task EnsureNotMergedAsync(long memberId, CancellationToken ct)
    {
        if (await db.Members.Where(m => m.Id == memberId).Select(m => m.MergedIntoId).FirstAsync(ct) is { } survivor)
        {
            throw MergeMembers.MergedProblem(memberId, survivor);
        }
    }

    private async Task<bool> HasHealthConsentAsync(long memberId, CancellationToken ct) =>
        await db.MemberConsents.Where(c => c.MemberId == memberId && c.Kind == ConsentKinds.Health).OrderByDescending(c => c.At).ThenByDescending(c => c.Id)
            .Select(c => (bool?)c.Granted).FirstOrDefaultAsync(ct) == true;

    private async Task<long> EnsureVisibleAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var programId = await db.Members.Where(m => m.Id == memberId).Select(m => (long?)m.ProgramId).FirstOrDefaultAsync(ct);
        return programId is { } p && caller.CanSeeProgram(p) ? p : throw Problem.NotFound("member.not_found", "The member does not exist.");
    }
}
