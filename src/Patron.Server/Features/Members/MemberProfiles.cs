using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Calendars;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Domain.Programs;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Members;

/// <summary>
/// The member file as edited: the profile part is replaced as a whole; the core fields (name,
/// phone, gender, birthday, ID number) change only when given.
/// </summary>
public sealed record ProfileRequest(
    string? Kind = null,
    bool LunarBirthday = false,
    string? Phone2 = null,
    string? District = null,
    string? Community = null,
    string? Address = null,
    string? WeChat = null,
    string? Email = null,
    bool? Insured = null,
    string? InsuranceType = null,
    IReadOnlyList<string>? Interests = null,
    IReadOnlyList<string>? Tags = null,
    string? Notes = null,
    string? Reason = null,
    string? Name = null,
    string? Mobile = null,
    string? Gender = null,
    string? Birthday = null,
    string? IdNumber = null);

public sealed record PurchaserRequest(string? Name, string? Mobile, string? Role = null);

public sealed record PurchaserView(long Id, string Name, string Mobile, string? Role, DateTime AddedAt);

/// <summary>
/// The profile as every page and answer shows it: district and community in clear (trade-area
/// reports), second phone, street address, WeChat and e-mail masked; the completeness score with
/// what is missing.
/// </summary>
public sealed record ProfileView(
    long MemberId,
    string Kind,
    bool LunarBirthday,
    string? LunarBirthdayText,
    DateOnly? NextLunarBirthday,
    string? Phone2,
    string? District,
    string? Community,
    string? Address,
    string? WeChat,
    string? Email,
    bool? Insured,
    string? InsuranceType,
    IReadOnlyList<string> Interests,
    IReadOnlyList<string> Tags,
    string? Notes,
    int Completeness,
    bool Complete,
    IReadOnlyList<string> Missing,
    IReadOnlyList<PurchaserView> Purchasers,
    IReadOnlyList<InterestDefinition> InterestOptions,
    DateTime? UpdatedAt);

/// <summary>Contact fields in clear, for a role allowed to unmask, with the reason on record.</summary>
public sealed record ContactsView(string Mobile, string? Phone2, string? Address, string? WeChat, string? Email, IReadOnlyList<PurchaserContact> Purchasers);

public sealed record PurchaserContact(long Id, string Name, string Mobile);

/// <summary>How complete the files of the members one staff member enrolled are, for rewarding staff.</summary>
public sealed record CompletenessRow(long? StaffId, string StaffName, long StoreId, string StoreName, int Enrolled, int Complete, int AverageScore);

public sealed record CompletenessReport(DateOnly From, DateOnly To, int CompleteAt, IReadOnlyList<CompletenessRow> Rows);

/// <summary>
/// The member file beyond the counter's needs: profile, organisation purchasers, completeness,
/// and corrections of the core fields. Everyone who may see a member sees the masked profile;
/// staff who may enrol edit it; every change is audited without the values.
/// </summary>
public sealed class MemberProfiles(PatronDb db, PersonalDataProtector protector, Programs.ProgramRules programs, AuditLog audit, TimeProvider clock)
{
    public const int MaxReportDays = 366;

    public async Task<ProfileView> GetAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await db.VisibleMemberAsync(memberId, caller, ct);
        var policy = await PolicyAsync(member.ProgramId, ct);
        var profile = await db.MemberProfiles.AsNoTracking().FirstOrDefaultAsync(p => p.MemberId == memberId, ct);
        var purchasers = await db.MemberPurchasers.AsNoTracking().Where(p => p.MemberId == memberId).OrderBy(p => p.Id).ToListAsync(ct);
        return View(member, profile, purchasers, policy, LocalToday(policy.Zone));
    }

    public async Task<ProfileView> SaveAsync(long memberId, ProfileRequest r, CallerScope caller, CancellationToken ct)
    {
        EnsureMayEdit(caller);
        var member = await db.VisibleMemberAsync(memberId, caller, ct);
        if (member.AnonymisedAt is not null)
        {
            throw Erased();
        }

        var policy = await PolicyAsync(member.ProgramId, ct);
        var errors = new FieldErrors();

        // Contacts are shown masked: left out they keep what is on file, "" removes them, and a mask sent back is refused.
        var onFile = await db.MemberProfiles.AsNoTracking().FirstOrDefaultAsync(p => p.MemberId == memberId, ct);
        string? Contact(string? given, string? current, string field)
        {
            if (given is not null && given.Contains('*', StringComparison.Ordinal))
            {
                errors.Add(field, "profile.masked_value", "This is the masked value: send the value itself, leave the field out to keep it, or send an empty value to remove it.");
            }

            return given ?? current;
        }

        var phone2 = Contact(r.Phone2, onFile?.Phone2, "phone2");
        var address = Contact(r.Address, r.Address is null && onFile?.AddressCipher is { } c ? protector.UnprotectAddress(c) : null, "address"); // decrypted only to keep it
        var weChat = Contact(r.WeChat, onFile?.WeChat, "weChat");
        var email = Contact(r.Email, onFile?.Email, "email");
        var (fields, profileErrors) = ProfileFields.Normalize(
            r.Kind, r.LunarBirthday, phone2, r.District, r.Community, address, weChat, email, r.Insured, r.InsuranceType, r.Interests, r.Tags, r.Notes,
            [.. policy.Rules.Profile.Interests.Select(i => i.Code)]);
        foreach (var e in profileErrors.Where(e => !errors.Has(e.Field ?? "")))
        {
            errors.Add(e.Field ?? "", e.Code, e.Message);
        }

        var today = LocalToday(policy.Zone);
        var coreGiven = r.Name is not null || r.Mobile is not null || r.Gender is not null || r.Birthday is not null || r.IdNumber is not null;
        var core = EnrollMember.ParseCore(
            r.Name ?? member.Name,
            r.Mobile ?? member.Mobile,
            r.Gender ?? (r.IdNumber is null ? member.Gender.ToString() : null),
            r.Birthday ?? (r.IdNumber is null ? member.Birthday?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null),
            r.IdNumber,
            today,
            errors);
        if (fields is { Kind: MemberKind.Organisation } && core.IdNumber is not null)
        {
            errors.Add("idNumber", "profile.organisation_id_number", "An organisation member has no personal ID number.");
        }

        // A new phone, or an ID number in place of another, re-points identification at the counter: staff only, with a reason.
        var idNumber = core.IdNumber is null ? null : await protector.ProtectIdNumberAsync(core.IdNumber, ct);
        var identityChange = core.Mobile != member.Mobile || (idNumber is not null && member.IdNumberHash is not null && idNumber.Hash != member.IdNumberHash);
        var reason = r.Reason?.Trim();
        if (identityChange)
        {
            if (caller.StaffId is null || caller.Role == PatronClaims.Roles.Marketing)
            {
                throw Problem.Forbidden("profile.identity_change_forbidden", "Only counter staff, store managers and head office change a member's phone or ID number.");
            }

            if (string.IsNullOrEmpty(reason) || reason.Length > 200)
            {
                errors.Add("reason", "profile.reason_required", "Say why the phone or ID number changes (at most 200 characters); it is kept in the audit log.");
            }
        }

        errors.ThrowIfAny();
        var addressCipher = fields!.Address is null ? null : protector.ProtectAddress(fields.Address);
        try
        {
            await Transactions.RunAsync(db, async ct =>
            {
                await db.LockMemberAsync(memberId, ct);
                var now = clock.GetUtcNow().UtcDateTime;
                var tracked = await db.Members.FirstAsync(m => m.Id == memberId, ct);
                if (tracked.MergedIntoId is { } survivor)
                {
                    throw MergeMembers.MergedProblem(memberId, survivor);
                }

                if (tracked.AnonymisedAt is not null)
                {
                    throw Erased(); // erased while this request was on its way
                }

                var changed = new List<string>();
                object? identity = null;
                if (coreGiven)
                {
                    if (core.Mobile != tracked.Mobile)
                    {
                        if (await db.Members.AnyAsync(m => m.ProgramId == tracked.ProgramId && m.Mobile == core.Mobile && m.Id != memberId, ct))
                        {
                            throw Problem.Conflict("member.phone_taken", "A member with this mobile number already exists in this program.", "mobile");
                        }

                        changed.Add("mobile");
                    }

                    if (idNumber is not null && idNumber.Hash != tracked.IdNumberHash)
                    {
                        if (await db.Members.AnyAsync(m => m.ProgramId == tracked.ProgramId && m.IdNumberHash == idNumber.Hash && m.Id != memberId, ct))
                        {
                            throw Problem.Conflict("member.id_number_taken", "A member with this ID number already exists in this program.", "idNumber");
                        }

                        changed.Add("idNumber");
                    }

                    if (changed.Count > 0)
                    {
                        // Old and new as everybody sees them (masked), with the reason.
                        identity = new
                        {
                            mobile = changed.Contains("mobile") ? new { from = tracked.MaskedMobile, to = Masking.Phone(core.Mobile) } : null,
                            idNumber = changed.Contains("idNumber") ? new { from = tracked.IdNumberTail is null ? null : tracked.MaskedIdNumber, to = Masking.IdNumberFromTail(idNumber!.Tail) } : null,
                            reason,
                        };
                    }

                    changed.AddRange(new[] { ("name", core.Name != tracked.Name), ("gender", core.Gender != tracked.Gender), ("birthday", core.Birthday != tracked.Birthday) }.Where(x => x.Item2).Select(x => x.Item1));
                    tracked.Correct(core.Name, core.Mobile, core.Gender, core.Birthday, idNumber);
                }

                var row = await db.MemberProfiles.FirstOrDefaultAsync(p => p.MemberId == memberId, ct);
                if (row is null)
                {
                    row = new MemberProfile(memberId);
                    db.MemberProfiles.Add(row);
                }

                row.Replace(fields, addressCipher, now, caller.StaffId);
                if (fields.Kind == MemberKind.Person)
                {
                    // A person has no purchasers: their phones stop finding this member at once.
                    await db.MemberPurchasers.Where(p => p.MemberId == memberId).ExecuteDeleteAsync(ct);
                }

                // The fields that changed are named; their values are not (the audit log is read by more people than the file).
                audit.Record(caller, "member.profile_updated", caller.DefaultStoreId, memberId, "member", memberId, new { core = changed, identity, kind = fields.Kind.ToString(), interests = fields.Interests.Count, tags = fields.Tags.Count });
                await db.SaveChangesAsync(ct);
                return 0;
            }, ct);
        }
        catch (DbUpdateException e) when (EnrollMember.UniqueConflict(e) is { } conflict)
        {
            throw conflict;
        }

        return await GetAsync(memberId, caller, ct);
    }

    private static ProblemException Erased() =>
        new(StatusCodes.Status422UnprocessableEntity, "member.anonymised", "This member's personal data was erased at their request; the file cannot be filled again.");

    public async Task<ProfileView> AddPurchaserAsync(long memberId, PurchaserRequest r, CallerScope caller, CancellationToken ct)
    {
        EnsureMayEdit(caller);
        var errors = new FieldErrors();
        var name = (r.Name ?? "").Trim();
        if (name.Length is 0 or > Member.NameMaxLength || name.Any(char.IsControl))
        {
            errors.Add("name", "member.name_invalid", $"A name is at most {Member.NameMaxLength} characters, without control characters.");
        }

        if (!ChineseMobile.TryNormalize(r.Mobile, out var mobile))
        {
            errors.Add("mobile", "member.phone_invalid", "This is not a mainland China mobile number (11 digits starting 13–19).");
        }

        var role = string.IsNullOrWhiteSpace(r.Role) ? null : r.Role.Trim();
        if (role is { Length: > 50 })
        {
            errors.Add("role", "profile.purchaser_role_invalid", "A purchaser's role is at most 50 characters.");
        }

        errors.ThrowIfAny();
        var member = await db.VisibleMemberAsync(memberId, caller, ct);
        await Transactions.RunAsync(db, async ct =>
        {
            await db.LockMemberAsync(memberId, ct);
            var state = await db.Members.Where(m => m.Id == memberId).Select(m => new { m.MergedIntoId, m.AnonymisedAt }).FirstAsync(ct);
            if (state.MergedIntoId is { } survivor)
            {
                throw MergeMembers.MergedProblem(memberId, survivor);
            }

            if (state.AnonymisedAt is not null)
            {
                throw Erased();
            }

            var kind = await db.MemberProfiles.Where(p => p.MemberId == memberId).Select(p => (MemberKind?)p.Kind).FirstOrDefaultAsync(ct);
            if (kind != MemberKind.Organisation)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "profile.not_organisation", "Purchasers belong to organisation members; mark the member as an organisation first.");
            }

            var existing = await db.MemberPurchasers.Where(p => p.MemberId == memberId).Select(p => p.Mobile).ToListAsync(ct);
            if (existing.Contains(mobile))
            {
                throw Problem.Conflict("profile.purchaser_exists", "This purchaser is already listed.", "mobile");
            }

            if (existing.Count >= MemberPurchaser.MaxPerMember)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "profile.purchasers_full", $"An organisation lists at most {MemberPurchaser.MaxPerMember} purchasers.");
            }

            db.MemberPurchasers.Add(new MemberPurchaser(memberId, name, mobile, role, clock.GetUtcNow().UtcDateTime, caller.StaffId));
            audit.Record(caller, "member.purchaser_added", caller.DefaultStoreId, memberId, "member", memberId, new { mobile = Masking.Phone(mobile) });
            await db.SaveChangesAsync(ct);
            return 0;
        }, ct);
        return await GetAsync(member.Id, caller, ct);
    }

    public async Task<ProfileView> RemovePurchaserAsync(long memberId, long purchaserId, CallerScope caller, CancellationToken ct)
    {
        EnsureMayEdit(caller);
        await db.VisibleMemberAsync(memberId, caller, ct);
        var row = await db.MemberPurchasers.FirstOrDefaultAsync(p => p.Id == purchaserId && p.MemberId == memberId, ct)
            ?? throw Problem.NotFound("profile.purchaser_not_found", "No such purchaser on this member.");
        db.MemberPurchasers.Remove(row);
        audit.Record(caller, "member.purchaser_removed", caller.DefaultStoreId, memberId, "member", memberId, new { mobile = Masking.Phone(row.Mobile) });
        await db.SaveChangesAsync(ct);
        return await GetAsync(memberId, caller, ct);
    }

    /// <summary>The member's contacts in clear (phones, address, WeChat, e-mail, purchasers); the caller has checked role, scope and reason.</summary>
    public async Task<ContactsView> ContactsAsync(Member member, CancellationToken ct)
    {
        var profile = await db.MemberProfiles.AsNoTracking().FirstOrDefaultAsync(p => p.MemberId == member.Id, ct);
        var purchasers = await db.MemberPurchasers.AsNoTracking().Where(p => p.MemberId == member.Id).OrderBy(p => p.Id)
            .Select(p => new PurchaserContact(p.Id, p.Name, p.Mobile)).ToListAsync(ct);
        return new ContactsView(
            member.Mobile,
            profile?.Phone2,
            profile?.AddressCipher is { } c ? protector.UnprotectAddress(c) : null,
            profile?.WeChat,
            profile?.Email,
            purchasers);
    }

    /// <summary>
    /// Members enrolled in a period at the caller's stores, by enrolling staff: how many, how many
    /// with a complete file (the program's threshold), and the average score.
    /// </summary>
    public async Task<CompletenessReport> ReportAsync(long programId, long? storeId, DateOnly from, DateOnly to, CallerScope caller, CancellationToken ct)
    {
        if (to < from || to.DayNumber - from.DayNumber >= MaxReportDays)
        {
            throw Problem.Invalid("report.period_invalid", $"The period runs forward and is at most {MaxReportDays} days.", "to");
        }

        if (!caller.CanSeeProgram(programId))
        {
            throw Problem.NotFound("program.not_found", "No such program.");
        }

        if (storeId is { } s && !caller.CanBrowseStore(s))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not see the members of this store.");
        }

        var policy = await PolicyAsync(programId, ct);
        var start = TimeZoneInfo.ConvertTimeToUtc(from.ToDateTime(TimeOnly.MinValue), policy.Zone);
        var end = TimeZoneInfo.ConvertTimeToUtc(to.AddDays(1).ToDateTime(TimeOnly.MinValue), policy.Zone);
        var members = db.Members.AsNoTracking().Where(m => m.ProgramId == programId && m.EnrolledAt >= start && m.EnrolledAt < end && m.AnonymisedAt == null);
        if (storeId is { } one)
        {
            members = members.Where(m => m.EnrolStoreId == one);
        }
        else if (!caller.AllStores)
        {
            var stores = caller.StoreIds.ToList();
            members = members.Where(m => stores.Contains(m.EnrolStoreId));
        }

        var rows = await (
            from m in members
            join p in db.MemberProfiles on m.Id equals p.MemberId into ps
            from p in ps.DefaultIfEmpty()
            select new
            {
                m.EnrolStaffId,
                m.EnrolStoreId,
                Gender = m.Gender != Gender.Unknown,
                Birthday = m.Birthday != null,
                IdNumber = m.IdNumberHash != null,
                Kind = p == null ? MemberKind.Person : p.Kind,
                District = p != null && p.District != null,
                Community = p != null && p.Community != null,
                Address = p != null && p.AddressCipher != null,
                WeChat = p != null && p.WeChat != null,
                Email = p != null && p.Email != null,
                Insurance = p != null && p.Insured != null,
                Interests = p != null && p.Interests != "",
                Purchasers = db.MemberPurchasers.Any(x => x.MemberId == m.Id),
            }).ToListAsync(ct);

        var scored = rows.Select(x => (x.EnrolStaffId, x.EnrolStoreId, Score: ProfileCompleteness.Of(new(x.Kind, x.Gender, x.Birthday, x.IdNumber, x.District, x.Community, x.Address, x.WeChat, x.Email, x.Insurance, x.Interests, x.Purchasers)).Score)).ToList();
        var staffIds = scored.Where(x => x.EnrolStaffId is not null).Select(x => x.EnrolStaffId!.Value).Distinct().ToList();
        var storeIds = scored.Select(x => x.EnrolStoreId).Distinct().ToList();
        var staffNames = await db.Staff.AsNoTracking().Where(x => staffIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.DisplayName, ct);
        var storeNames = await db.Stores.AsNoTracking().Where(x => storeIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.Name, ct);
        var threshold = policy.Rules.Profile.CompleteAt;
        var report = scored
            .GroupBy(x => (x.EnrolStaffId, x.EnrolStoreId))
            .Select(g => new CompletenessRow(
                g.Key.EnrolStaffId,
                g.Key.EnrolStaffId is { } id && staffNames.TryGetValue(id, out var n) ? n : "",
                g.Key.EnrolStoreId,
                storeNames[g.Key.EnrolStoreId],
                g.Count(),
                g.Count(x => x.Score >= threshold),
                (int)Math.Round(g.Average(x => x.Score), MidpointRounding.AwayFromZero)))
            .OrderBy(r => r.StoreName, StringComparer.Ordinal).ThenByDescending(r => r.Complete).ThenBy(r => r.StaffName, StringComparer.Ordinal)
            .ToList();
        return new CompletenessReport(from, to, threshold, report);
    }

    /// <summary>Erasure at the member's request: the profile's personal fields and the purchasers go.</summary>
    public async Task EraseAsync(long memberId, DateTime atUtc, CancellationToken ct)
    {
        if (await db.MemberProfiles.FirstOrDefaultAsync(p => p.MemberId == memberId, ct) is { } row)
        {
            row.Erase(atUtc);
        }

        await db.MemberPurchasers.Where(p => p.MemberId == memberId).ExecuteDeleteAsync(ct);
    }

    private static ProfileView View(Member m, MemberProfile? p, List<MemberPurchaser> purchasers, (ProgramDefinition Rules, TimeZoneInfo Zone) policy, DateOnly today)
    {
        var kind = p?.Kind ?? MemberKind.Person;
        var (score, missing) = ProfileCompleteness.Of(new(
            kind,
            m.Gender != Gender.Unknown,
            m.Birthday is not null,
            m.IdNumberHash is not null,
            p?.District is not null,
            p?.Community is not null,
            p?.AddressCipher is not null,
            p?.WeChat is not null,
            p?.Email is not null,
            p?.Insured is not null,
            p is { Interests.Length: > 0 },
            purchasers.Count > 0));
        var lunar = p is { LunarBirthday: true } && m.Birthday is { } b ? LunarDate.Of(b) : null;
        return new ProfileView(
            m.Id,
            kind == MemberKind.Organisation ? "organisation" : "person",
            p?.LunarBirthday ?? false,
            lunar?.ToString(),
            lunar?.NextOnOrAfter(today),
            p?.Phone2 is { } phone ? Masking.Phone(phone) : null,
            p?.District,
            p?.Community,
            p?.AddressCipher is null ? null : "****",
            p?.WeChat is { } w ? Masking.Lead(w) : null,
            p?.Email is { } e ? Masking.Email(e) : null,
            p?.Insured,
            p?.InsuranceType,
            p?.InterestList ?? [],
            p?.TagList ?? [],
            p?.Notes,
            score,
            score >= policy.Rules.Profile.CompleteAt,
            missing,
            [.. purchasers.Select(x => new PurchaserView(x.Id, x.Name, Masking.Phone(x.Mobile), x.Role, x.AddedAt))],
            policy.Rules.Profile.Interests,
            p?.UpdatedAt);
    }

    private static void EnsureMayEdit(CallerScope caller)
    {
        if (caller.Role == PatronClaims.Roles.Auditor)
        {
            throw Problem.Forbidden("scope.read_only", "Auditors read; they do not change member files.");
        }
    }

    private DateOnly LocalToday(TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, zone));

    /// <summary>The program's rules in force today (for its interests and threshold), or the defaults before any is published.</summary>
    private async Task<(ProgramDefinition Rules, TimeZoneInfo Zone)> PolicyAsync(long programId, CancellationToken ct)
    {
        var zone = await programs.ZoneAsync(programId, ct);
        var rules = await programs.TryInForceAsync(programId, LocalToday(zone), ct);
        return (rules ?? new ProgramDefinition { Code = "", Name = "" }, zone);
    }

}
