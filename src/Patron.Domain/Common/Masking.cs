namespace Patron.Domain.Common;

/// <summary>How personal data is shown by default: never in full.</summary>
public static class Masking
{
    /// <summary>13812345678 → 138****5678.</summary>
    public static string Phone(string phone) =>
        phone.Length < 7 ? new string('*', phone.Length) : $"{phone[..3]}****{phone[^4..]}";

    /// <summary>An 18-digit ID number shown by its last four characters only.</summary>
    public static string IdNumberFromTail(string? tail) =>
        string.IsNullOrEmpty(tail) ? "" : new string('*', 14) + tail;

    /// <summary>张三丰 → 张**; a single character stays.</summary>
    public static string Name(string name) =>
        name.Length <= 1 ? name : name[0] + new string('*', name.Length - 1);

    /// <summary>A card number or coupon code shown by its last four characters: ****1234.</summary>
    public static string Tail(string value) =>
        value.Length <= 4 ? new string('*', value.Length) : "****" + value[^4..];

    /// <summary>zhang.san@qq.com → z***@qq.com.</summary>
    public static string Email(string email)
    {
        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at <= 0 ? "***" : email[0] + "***" + email[at..];
    }

    /// <summary>A WeChat ID or street address shown by its first two characters: 北京****.</summary>
    public static string Lead(string value) =>
        value.Length <= 2 ? new string('*', value.Length) : value[..2] + "****";
}
