using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Coupons;
using Patron.Domain.Members;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Members;

/// <summary>
/// Enrolment input as the API and the console send it. Strings are validated here, so that a
/// bad value gets a field error with a code rather than a parse failure.
/// </summary>
public sealed record EnrollMemberRequest(
    string? Name,
    string? Mobile,
    string? Gender = null,
    string? Birthday = null,
    string? IdNumber = null,
    long? StoreId = null,
    string? Channel = null,
    string? CardNumber = null);

/// <summary>
/// Enrols a person into the program of the store they join at and issues their card: a
/// pre-printed physical card when its number is given, otherwise a virtual card numbered from
/// the program's sequence. One person, one member: phone and ID number are unique per program.
/// Everything (member, card, sequence, audit entry) is written in one transaction.
/// </summary>
public sealed class EnrollMember(PatronDb db, PersonalDataProtector protector, AuditLog audit, Programs.ProgramRules programs, Cards.CardNumbers numbers, Coupons.CouponIssuer coupons, TimeProvider clock)
{
    public async Task<MemberView> HandleAsync(EnrollMemberRequest r, CallerScope caller, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var errors = new FieldErrors();

        var (name, mobile, gender, birthday, idNumber) = ParseCore(r.Name, r.Mobile, r.Gender, r.Birthday, r.IdNumber, DateOnly.FromDateTime(now), errors);

        var channel = string.IsNullOrWhiteSpace(r.Channel) ? AcquisitionChannels.Store : r.Channel.Trim();
        if (!AcquisitionChannels.IsKnown(channel))
        {
            errors.Add("channel", "member.channel_invalid", "Unknown acquisition channel: use one of " + string.Join(", ", AcquisitionChannels.All) + ".");
        }

        var cardNumber = string.IsNullOrWhiteSpace(r.CardNumber) ? null : r.CardNumber.Trim();
        if (cardNumber is not null && !CardNumber.IsValid(cardNumber))
        {
            errors.Add("cardNumber", "card.number_invalid", "The card number is not valid (wrong length or check digit).");
        }

        var storeId = r.StoreId ?? caller.DefaultStoreId;
        if (storeId is null)
        {
            errors.Add("storeId", "member.store_required", "Name the store the member joins at.");
        }

        errors.ThrowIfAny();

        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(s => s.Id == storeId, ct)
            ?? throw Problem.Invalid("store.not_found", "The store does not exist.", "storeId");
        caller.EnsureCanActAs(store.Id);
        var program = await db.Programs.AsNoTracking().FirstAsync(p => p.Id == store.ProgramId, ct);
        if (cardNumber is not null && !cardNumber.StartsWith(program.CardPrefix, StringComparison.Ordinal))
        {
            throw Problem.Invalid("card.prefix_mismatch", $"Cards of this program start with {program.CardPrefix}.", "cardNumber");
        }

        var protectedId = idNumber is null ? null : await protector.ProtectIdNumberAsync(idNumber, ct);
        await EnsureUniqueAsync(program.Id, mobile, protectedId?.Hash, cardNumber, ct);

        // Joins the caller's transaction when there is one (enrolment at a checkout).
        var outer = db.Database.CurrentTransaction;
        await using var tx = outer is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var member = new Member(program.Id, name, mobile, gender, birthday, protectedId, store.Id, caller.StaffId, caller.TerminalId, channel, now);
        var kind = cardNumber is null ? CardKind.Virtual : CardKind.Physical;
        cardNumber ??= await numbers.NextAsync(program.Id, ct);
        var zone = Programs.ProgramRules.Zone(store.TimeZone);
        var rules = await programs.TryInForceAsync(program.Id, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, zone)), ct);
        var cards = rules?.Cards;
        var card = member.IssueCard(cardNumber, kind, store.Id, now, cards?.Validity.Until(now));
        db.Members.Add(member);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e)
        {
            // A concurrent enrolment took the phone, ID number or card first.
            if (tx is null)
            {
                // Inside the caller's transaction (aborted on PostgreSQL): name the conflict from the index.
                throw UniqueConflict(e) ?? (Exception)e;
            }

            await tx.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            await EnsureUniqueAsync(program.Id, mobile, protectedId?.Hash, cardNumber, ct);
            throw;
        }

        db.CardEvents.Add(new CardEvent(card.Id, member.Id, program.Id, CardEventKind.Issued, cards?.Fee ?? 0, store.Id, now, caller.StaffId, "enrolment"));
        foreach (var template in (rules?.Coupons.OnEnrolment ?? []).Select(c => rules!.Coupons.Find(c)!))
        {
            // A welcome coupon past its template's limits is simply not given.
            await coupons.IssueAsync(program.Id, template, [member.Id], CouponSource.Enrolment, "enrolment", store.Id, caller.StaffId, now, zone, ct, skipWhenFull: true);
        }

        audit.Record(caller, "member.enrolled", store.Id, member.Id, "member", member.Id, new { channel, card = Cards.CardOperations.Mask(cardNumber), cardKind = kind.ToString() });
        await db.SaveChangesAsync(ct);
        if (tx is not null)
        {
            await tx.CommitAsync(ct);
        }

        return MemberView.From(member, store.Name);
    }

    /// <summary>The person's core fields checked as enrolment and corrections take them; errors go to <paramref name="errors"/>.</summary>
    public static (string Name, string Mobile, Gender Gender, DateOnly? Birthday, string? IdNumber) ParseCore(string? rawName, string? rawMobile, string? rawGender, string? rawBirthday, string? rawIdNumber, DateOnly today, FieldErrors errors)
    {
        var name = (rawName ?? "").Trim();
        if (name.Length == 0)
        {
            errors.Add("name", "member.name_required", "The name is required.");
        }
        else if (name.Length > Member.NameMaxLength || name.Any(char.IsControl))
        {
            errors.Add("name", "member.name_invalid", $"A name is at most {Member.NameMaxLength} characters, without control characters.");
        }

        string mobile = "";
        if (string.IsNullOrWhiteSpace(rawMobile))
        {
            errors.Add("mobile", "member.phone_required", "The mobile phone number is required.");
        }
        else if (!ChineseMobile.TryNormalize(rawMobile, out mobile))
        {
            errors.Add("mobile", "member.phone_invalid", "This is not a mainland China mobile number (11 digits starting 13–19).");
        }

        var gender = Gender.Unknown;
        if (!string.IsNullOrWhiteSpace(rawGender) && !TryParseGender(rawGender, out gender))
        {
            errors.Add("gender", "member.gender_invalid", "Gender is male, female or unknown.");
        }

        DateOnly? birthday = null;
        if (!string.IsNullOrWhiteSpace(rawBirthday))
        {
            if (!DateOnly.TryParseExact(rawBirthday.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var b)
                || b.Year < 1900 || b > today)
            {
                errors.Add("birthday", "member.birthday_invalid", "The birthday is a past date written yyyy-MM-dd.");
            }
            else
            {
                birthday = b;
            }
        }

        string? idNumber = null;
        if (!string.IsNullOrWhiteSpace(rawIdNumber))
        {
            if (!ChineseIdNumber.TryNormalize(rawIdNumber, out var normalized, out var idBirth))
            {
                errors.Add("idNumber", "member.id_number_invalid", "This is not a valid 18-character ID number (its check character does not match).");
            }
            else
            {
                idNumber = normalized;
                if (birthday is { } given && given != idBirth)
                {
                    errors.Add("birthday", "member.birthday_mismatch", "The birthday differs from the one in the ID number.");
                }

                birthday ??= idBirth;
                var idGender = ChineseIdNumber.GenderOf(normalized);
                if (gender != Gender.Unknown && gender != idGender)
                {
                    errors.Add("gender", "member.gender_mismatch", "The gender differs from the one in the ID number.");
                }

                gender = idGender;
            }
        }

        return (name, mobile, gender, birthday, idNumber);
    }

    internal static ProblemException? UniqueConflict(DbUpdateException e)
    {
        var text = e.InnerException switch
        {
            Npgsql.PostgresException pg => pg.ConstraintName ?? "",
            { } inner => inner.Message,
            null => "",
        };
        return text switch
        {
            _ when text.Contains("mobile", StringComparison.Ordinal) => Problem.Conflict("member.phone_taken", "A member with this mobile number already exists in this program.", "mobile"),
            _ when text.Contains("id_number_hash", StringComparison.Ordinal) => Problem.Conflict("member.id_number_taken", "A member with this ID number already exists in this program.", "idNumber"),
            _ when text.Contains("cards", StringComparison.Ordinal) && text.Contains("number", StringComparison.Ordinal) => Problem.Conflict("card.number_taken", "This card number is already issued.", "cardNumber"),
            _ => null,
        };
    }

    private async Task EnsureUniqueAsync(long programId, string mobile, string? idHash, string? cardNumber, CancellationToken ct)
    {
        if (await db.Members.AnyAsync(m => m.ProgramId == programId && m.Mobile == mobile, ct))
        {
            throw Problem.Conflict("member.phone_taken", "A member with this mobile number already exists in this program.", "mobile");
        }

        if (idHash is not null && await db.Members.AnyAsync(m => m.ProgramId == programId && m.IdNumberHash == idHash, ct))
        {
            throw Problem.Conflict("member.id_number_taken", "A member with this ID number already exists in this program.", "idNumber");
        }

        if (cardNumber is not null && await db.Cards.AnyAsync(c => c.Number == cardNumber, ct))
        {
            throw Problem.Conflict("card.number_taken", "This card number is already issued.", "cardNumber");
        }
    }

    public static bool TryParseGender(string? text, out Gender gender)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "male" or "m" or "男":
                gender = Gender.Male;
                return true;
            case "female" or "f" or "女":
                gender = Gender.Female;
                return true;
            case "unknown" or "" or null:
                gender = Gender.Unknown;
                return true;
            default:
                gender = Gender.Unknown;
                return false;
        }
    }
}
