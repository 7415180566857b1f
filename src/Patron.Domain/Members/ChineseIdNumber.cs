namespace Patron.Domain.Members;

/// <summary>
/// The 18-character resident identity card number (GB 11643-1999): six digits of region,
/// eight of birth date (yyyyMMdd), three of sequence (odd for men, even for women) and a
/// check character computed with ISO 7064 MOD 11-2 (0–9 or X).
/// </summary>
public static class ChineseIdNumber
{
    private static readonly int[] Weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string CheckChars = "10X98765432";

    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        if (first17.Length != 17)
        {
            throw new ArgumentException("Seventeen digits are needed.", nameof(first17));
        }

        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            sum += (first17[i] - '0') * Weights[i];
        }

        return CheckChars[sum % 11];
    }

    /// <summary>Validates format, birth date and check character; upper-cases a trailing x.</summary>
    public static bool TryNormalize(string? input, out string normalized, out DateOnly birthDate)
    {
        normalized = "";
        birthDate = default;
        if (input is null)
        {
            return false;
        }

        var s = input.Trim().ToUpperInvariant();
        if (s.Length != 18)
        {
            return false;
        }

        for (var i = 0; i < 17; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }
        }

        if (!(char.IsAsciiDigit(s[17]) || s[17] == 'X'))
        {
            return false;
        }

        if (!DateOnly.TryParseExact(s.AsSpan(6, 8), "yyyyMMdd", out birthDate) || birthDate.Year < 1900)
        {
            return false;
        }

        if (CheckCharacter(s.AsSpan(0, 17)) != s[17])
        {
            return false;
        }

        normalized = s;
        return true;
    }

    /// <summary>The gender the sequence digit encodes: odd male, even female.</summary>
    public static Gender GenderOf(string normalized) =>
        (normalized[16] - '0') % 2 == 1 ? Gender.Male : Gender.Female;
}
