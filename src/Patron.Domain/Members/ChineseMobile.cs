namespace Patron.Domain.Members;

/// <summary>
/// A mainland China mobile number: 11 digits starting with 1 and a second digit 3–9
/// (13x–19x carrier ranges). Spaces, dashes and a +86/0086 prefix are accepted and removed.
/// </summary>
public static class ChineseMobile
{
    public static bool TryNormalize(string? input, out string normalized)
    {
        normalized = "";
        if (string.IsNullOrWhiteSpace(input))
        {
            return false;
        }

        Span<char> digits = stackalloc char[16];
        var n = 0;
        foreach (var c in input)
        {
            if (c is ' ' or '-')
            {
                continue;
            }

            if (!char.IsAsciiDigit(c) && !(c == '+' && n == 0))
            {
                return false;
            }

            if (c == '+')
            {
                continue;
            }

            if (n == digits.Length)
            {
                return false;
            }

            digits[n++] = c;
        }

        ReadOnlySpan<char> d = digits[..n];
        if (d.StartsWith("0086"))
        {
            d = d[4..];
        }
        else if (d.Length == 13 && d.StartsWith("86"))
        {
            d = d[2..];
        }

        if (d.Length != 11 || d[0] != '1' || d[1] < '3')
        {
            return false;
        }

        normalized = d.ToString();
        return true;
    }
}
