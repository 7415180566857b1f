using Patron.Domain.Common;

namespace Patron.Domain.Members;

/// <summary>A person, or an organisation (团体会员: a company buying for its staff) whose purchasers shop on its card.</summary>
public enum MemberKind
{
    Person = 0,
    Organisation = 1,
}

/// <summary>Basic medical insurance schemes (医保类型) a member may hold.</summary>
public static class InsuranceTypes
{
    public static readonly IReadOnlyList<string> All = ["employee", "resident", "commercial", "other"];
}

/// <summary>
/// The rest of a member's file beyond what the counter needs: second phone, address down to
/// community and district (trade-area analysis), WeChat and e-mail, medical insurance, health
/// interests, tags and notes, and whether birthday greetings follow the lunar calendar. The
/// street address is personal data kept only encrypted; the district and community are kept in
/// clear for reports.
/// </summary>
public sealed class MemberProfile
{
    public const int AreaMaxLength = 50;
    public const int AddressMaxLength = 200;
    public const int WeChatMaxLength = 64;
    public const int EmailMaxLength = 254;
    public const int NotesMaxLength = 500;
    public const int ListMaxLength = 500;

    private MemberProfile()
    {
    }

    public MemberProfile(long memberId) => MemberId = memberId;

    public long MemberId { get; private set; }

    public MemberKind Kind { get; private set; }

    /// <summary>Birthday greetings and benefits on the lunar anniversary of the (solar) birthday.</summary>
    public bool LunarBirthday { get; private set; }

    /// <summary>A second mobile number (a family member's, a work phone).</summary>
    public string? Phone2 { get; private set; }

    public string? District { get; private set; }

    public string? Community { get; private set; }

    /// <summary>The street address, encrypted.</summary>
    public string? AddressCipher { get; private set; }

    public string? WeChat { get; private set; }

    public string? Email { get; private set; }

    /// <summary>Null when not asked; false when the member has none.</summary>
    public bool? Insured { get; private set; }

    public string? InsuranceType { get; private set; }

    /// <summary>Interest codes of the program's list, stored as "|a|b|" so a filter can match one with LIKE.</summary>
    public string Interests { get; private set; } = "";

    /// <summary>Free tags, stored as "|a|b|".</summary>
    public string Tags { get; private set; } = "";

    public string? Notes { get; private set; }

    public DateTime UpdatedAt { get; private set; }

    public long? UpdatedBy { get; private set; }

    public IReadOnlyList<string> InterestList => Split(Interests);

    public IReadOnlyList<string> TagList => Split(Tags);

    public void Replace(ProfileFields f, string? addressCipher, DateTime atUtc, long? staffId)
    {
        Kind = f.Kind;
        LunarBirthday = f.LunarBirthday;
        Phone2 = f.Phone2;
        District = f.District;
        Community = f.Community;
        AddressCipher = addressCipher;
        WeChat = f.WeChat;
        Email = f.Email;
        Insured = f.Insured;
        InsuranceType = f.Insured == true ? f.InsuranceType : null;
        Interests = Join(f.Interests);
        Tags = Join(f.Tags);
        Notes = f.Notes;
        UpdatedAt = atUtc;
        UpdatedBy = staffId;
    }

    /// <summary>Erasure at the member's request: everything personal goes; the kind stays.</summary>
    public void Erase(DateTime atUtc)
    {
        Phone2 = null;
        District = null;
        Community = null;
        AddressCipher = null;
        WeChat = null;
        Email = null;
        Insured = null;
        InsuranceType = null;
        Interests = "";
        Tags = "";
        Notes = null;
        LunarBirthday = false;
        UpdatedAt = atUtc;
        UpdatedBy = null;
    }

    /// <summary>The stored form of a list: "|a|b|", empty for none.</summary>
    public static string Join(IReadOnlyList<string> items) => items.Count == 0 ? "" : "|" + string.Join('|', items) + "|";

    private static string[] Split(string stored) => stored.Split('|', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The profile as entered, cleaned by <see cref="ProfileFields.Normalize"/>.</summary>
public sealed record ProfileFields(
    MemberKind Kind,
    bool LunarBirthday,
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
    string? Notes)
{
    public const int MaxTags = 20;
    public const int TagMaxLength = 20;

    /// <summary>The profile trimmed and checked against the program's interests, or the errors by field.</summary>
    public static (ProfileFields? Fields, List<DomainError> Errors) Normalize(
        string? kind,
        bool lunarBirthday,
        string? phone2,
        string? district,
        string? community,
        string? address,
        string? weChat,
        string? email,
        bool? insured,
        string? insuranceType,
        IReadOnlyList<string>? interests,
        IReadOnlyList<string>? tags,
        string? notes,
        IReadOnlyCollection<string> knownInterests)
    {
        var errors = new List<DomainError>();
        string? Text(string? value, int max, string field, string code)
        {
            var v = value?.Trim();
            if (string.IsNullOrEmpty(v))
            {
                return null;
            }

            if (v.Length > max || v.Any(char.IsControl))
            {
                errors.Add(new DomainError(code, $"At most {max} characters, without control characters.", field));
            }

            return v;
        }

        var memberKind = MemberKind.Person;
        switch (kind?.Trim().ToLowerInvariant())
        {
            case null or "" or "person":
                break;
            case "organisation" or "organization":
                memberKind = MemberKind.Organisation;
                break;
            default:
                errors.Add(new DomainError("profile.kind_invalid", "A member is a person or an organisation.", "kind"));
                break;
        }

        string? second = null;
        if (!string.IsNullOrWhiteSpace(phone2))
        {
            if (ChineseMobile.TryNormalize(phone2, out var p))
            {
                second = p;
            }
            else
            {
                errors.Add(new DomainError("member.phone_invalid", "This is not a mainland China mobile number (11 digits starting 13–19).", "phone2"));
            }
        }

        var mail = Text(email, MemberProfile.EmailMaxLength, "email", "profile.email_invalid");
        if (mail is not null && !LooksLikeEmail(mail))
        {
            errors.Add(new DomainError("profile.email_invalid", "This is not an e-mail address.", "email"));
        }

        var wechat = Text(weChat, MemberProfile.WeChatMaxLength, "weChat", "profile.wechat_invalid");
        if (wechat is not null && wechat.Any(char.IsWhiteSpace))
        {
            errors.Add(new DomainError("profile.wechat_invalid", "A WeChat ID has no spaces.", "weChat"));
        }

        string? scheme = null;
        if (insured == true && !string.IsNullOrWhiteSpace(insuranceType))
        {
            scheme = insuranceType.Trim();
            if (!InsuranceTypes.All.Contains(scheme))
            {
                errors.Add(new DomainError("profile.insurance_type_invalid", $"The insurance is one of {string.Join(", ", InsuranceTypes.All)}.", "insuranceType"));
            }
        }

        var chosen = (interests ?? []).Select(i => (i ?? "").Trim()).Where(i => i.Length > 0).Distinct().ToList();
        if (chosen.FirstOrDefault(i => !knownInterests.Contains(i)) is { } unknown)
        {
            errors.Add(new DomainError("profile.interest_unknown", $"'{Cut(unknown)}' is not one of the program's interests.", "interests"));
        }

        if (MemberProfile.Join(chosen).Length > MemberProfile.ListMaxLength)
        {
            errors.Add(new DomainError("profile.interests_too_many", "Too many interests are chosen for one member.", "interests"));
        }

        var cleanTags = (tags ?? []).Select(t => (t ?? "").Trim()).Where(t => t.Length > 0).Distinct().ToList();
        if (cleanTags.Count > MaxTags || cleanTags.Any(t => t.Length > TagMaxLength || t.Contains('|') || t.Any(char.IsControl)))
        {
            errors.Add(new DomainError("profile.tags_invalid", $"At most {MaxTags} tags of at most {TagMaxLength} characters, without '|'.", "tags"));
        }

        var result = new ProfileFields(
            memberKind,
            lunarBirthday,
            second,
            Text(district, MemberProfile.AreaMaxLength, "district", "profile.area_invalid"),
            Text(community, MemberProfile.AreaMaxLength, "community", "profile.area_invalid"),
            Text(address, MemberProfile.AddressMaxLength, "address", "profile.address_invalid"),
            wechat,
            mail,
            insured,
            scheme,
            chosen,
            cleanTags,
            Text(notes, MemberProfile.NotesMaxLength, "notes", "profile.notes_invalid"));
        return errors.Count > 0 ? (null, errors) : (result, errors);
    }

    private static string Cut(string s) => s.Length > 20 ? s[..20] : s;

    private static bool LooksLikeEmail(string s)
    {
        var at = s.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == s.LastIndexOf('@') && s.IndexOf('.', at) > at + 1 && !s.EndsWith('.') && !s.Any(char.IsWhiteSpace);
    }
}

/// <summary>A person who buys for an organisation member (采购人): found by their own phone at the counter.</summary>
public sealed class MemberPurchaser
{
    public const int MaxPerMember = 50;

    private MemberPurchaser()
    {
        Name = "";
        Mobile = "";
    }

    public MemberPurchaser(long memberId, string name, string mobile, string? role, DateTime addedAtUtc, long? staffId)
    {
        MemberId = memberId;
        Name = name;
        Mobile = mobile;
        Role = role;
        AddedAt = addedAtUtc;
        AddedBy = staffId;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public string Name { get; private set; }

    public string Mobile { get; private set; }

    public string? Role { get; private set; }

    public DateTime AddedAt { get; private set; }

    public long? AddedBy { get; private set; }
}

/// <summary>
/// How complete a member's file is, 0–100 (chains reward staff per complete member). Each field
/// has a weight; fields that do not apply (birthday, gender and ID number of an organisation,
/// purchasers of a person) leave the total, so both kinds can reach 100.
/// </summary>
public static class ProfileCompleteness
{
    public sealed record Facts(
        MemberKind Kind,
        bool Gender,
        bool Birthday,
        bool IdNumber,
        bool District,
        bool Community,
        bool Address,
        bool WeChat,
        bool Email,
        bool Insurance,
        bool Interests,
        bool Purchasers);

    /// <summary>Field name, weight, applies to an organisation, applies to a person.</summary>
    private static readonly (string Field, int Weight, bool Organisation, bool Person)[] Weights =
    [
        ("name", 10, true, true),
        ("mobile", 10, true, true),
        ("gender", 10, false, true),
        ("birthday", 10, false, true),
        ("idNumber", 10, false, true),
        ("district", 5, true, true),
        ("community", 5, true, true),
        ("address", 5, true, true),
        ("weChat", 5, true, true),
        ("email", 5, true, true),
        ("insurance", 10, false, true),
        ("interests", 15, true, true),
        ("purchasers", 25, true, false),
    ];

    public static (int Score, IReadOnlyList<string> Missing) Of(Facts f)
    {
        var total = 0;
        var have = 0;
        var missing = new List<string>();
        foreach (var (field, weight, organisation, person) in Weights)
        {
            if (f.Kind == MemberKind.Organisation ? !organisation : !person)
            {
                continue;
            }

            total += weight;
            var filled = field switch
            {
                "name" or "mobile" => true,
                "gender" => f.Gender,
                "birthday" => f.Birthday,
                "idNumber" => f.IdNumber,
                "district" => f.District,
                "community" => f.Community,
                "address" => f.Address,
                "weChat" => f.WeChat,
                "email" => f.Email,
                "insurance" => f.Insurance,
                "interests" => f.Interests,
                _ => f.Purchasers,
            };
            if (filled)
            {
                have += weight;
            }
            else
            {
                missing.Add(field);
            }
        }

        return ((int)Math.Round(have * 100m / total, MidpointRounding.AwayFromZero), missing);
    }
}
