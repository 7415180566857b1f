using Patron.Domain.Common;

namespace Patron.Domain.Members;

/// <summary>A medicine the member takes every day: what, how many units a day, how many units a pack holds.</summary>
public sealed record LongTermMedicine(string Name, string? Sku, decimal DailyDose, int PackSize);

/// <summary>
/// The health part of a member's file, sensitive personal information under PIPL: chronic
/// conditions, drug allergies (an ingredient or a drug class, as the POS tags products) and
/// long-term medicines. Kept only with the member's separate consent, and only encrypted.
/// </summary>
public sealed record HealthProfile
{
    public const int MaxItems = 30;
    public const int MaxLength = 50;

    public IReadOnlyList<string> Conditions { get; init; } = [];

    public IReadOnlyList<string> Allergies { get; init; } = [];

    public IReadOnlyList<LongTermMedicine> Medicines { get; init; } = [];

    /// <summary>The member's allergies a basket line's ingredient and class tags hit (case-insensitive).</summary>
    public IReadOnlyList<string> AllergiesIn(IReadOnlyList<string>? tags) =>
        tags is null || tags.Count == 0 ? [] : [.. Allergies.Where(a => tags.Any(t => string.Equals(t.Trim(), a, StringComparison.OrdinalIgnoreCase)))];

    /// <summary>The profile cleaned (trimmed, without blanks and repeats), or the errors by field.</summary>
    public static (HealthProfile? Profile, List<DomainError> Errors) Normalize(IReadOnlyList<string>? conditions, IReadOnlyList<string>? allergies, IReadOnlyList<LongTermMedicine>? medicines)
    {
        var errors = new List<DomainError>();
        List<string> Clean(IReadOnlyList<string>? items, string field)
        {
            var list = (items ?? []).Select(i => (i ?? "").Trim()).Where(i => i.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (list.Count > MaxItems || list.Any(i => i.Length > MaxLength))
            {
                errors.Add(new DomainError("health.item_invalid", $"At most {MaxItems} entries of at most {MaxLength} characters.", field));
            }

            return list;
        }

        var c = Clean(conditions, "conditions");
        var a = Clean(allergies, "allergies");
        var m = (medicines ?? []).ToList();
        for (var i = 0; i < m.Count; i++)
        {
            var x = m[i];
            if (string.IsNullOrWhiteSpace(x.Name) || x.Name.Length > MaxLength || x.DailyDose <= 0 || x.DailyDose > 100 || x.PackSize is < 1 or > 10_000 || (x.Sku?.Length ?? 0) > 64)
            {
                errors.Add(new DomainError("health.medicine_invalid", "A medicine has a name, a daily dose above 0 (units a day) and a pack size of 1–10000 units.", $"medicines[{i}]"));
            }
        }

        return errors.Count > 0 || m.Count > MaxItems ? (null, errors) : (new HealthProfile { Conditions = c, Allergies = a, Medicines = [.. m.Select(x => x with { Name = x.Name.Trim(), Sku = x.Sku?.Trim() })] }, errors);
    }
}

/// <summary>The stored health profile: one encrypted document per member, never in clear text at rest.</summary>
public sealed class MemberHealth
{
    private MemberHealth()
    {
        Cipher = "";
    }

    public MemberHealth(long memberId, string cipher, DateTime atUtc, long? staffId)
    {
        MemberId = memberId;
        Cipher = cipher;
        UpdatedAt = atUtc;
        UpdatedBy = staffId;
    }

    public long MemberId { get; private set; }

    public string Cipher { get; private set; }

    public DateTime UpdatedAt { get; private set; }

    public long? UpdatedBy { get; private set; }

    public void Replace(string cipher, DateTime atUtc, long? staffId)
    {
        Cipher = cipher;
        UpdatedAt = atUtc;
        UpdatedBy = staffId;
    }
}

/// <summary>What a member agreed to, per channel or purpose; the latest record of a kind is the member's current choice.</summary>
public static class ConsentKinds
{
    public const string Sms = "marketing_sms";
    public const string Email = "marketing_email";
    public const string WeChat = "marketing_wechat";
    public const string Health = "health_data";

    public static readonly IReadOnlyList<string> All = [Sms, Email, WeChat, Health];
}

/// <summary>A consent given or withdrawn: when, how (store, WeChat, online form, phone, import) and by whom recorded. Never edited.</summary>
public sealed class MemberConsent
{
    private MemberConsent()
    {
        Kind = "";
        Source = "";
    }

    public MemberConsent(long memberId, string kind, bool granted, string source, DateTime atUtc, long? staffId, long? storeId)
    {
        MemberId = memberId;
        Kind = kind;
        Granted = granted;
        Source = source;
        At = atUtc;
        StaffId = staffId;
        StoreId = storeId;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public string Kind { get; private set; }

    public bool Granted { get; private set; }

    public string Source { get; private set; }

    public DateTime At { get; private set; }

    public long? StaffId { get; private set; }

    public long? StoreId { get; private set; }
}
