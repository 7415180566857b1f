namespace Patron.Domain.Cards;

/// <summary>
/// Card numbers: the program's digit prefix, a zero-padded sequence and a Luhn check digit,
/// so that a mistyped digit at the counter is caught before any lookup.
/// </summary>
public static class CardNumber
{
    public const int SequenceDigits = 8;

    public static string Compose(string prefix, long sequence)
    {
        if (sequence < 0 || sequence.ToString(System.Globalization.CultureInfo.InvariantCulture).Length > SequenceDigits)
        {
            throw new ArgumentOutOfRangeException(nameof(sequence), "The card sequence is exhausted.");
        }

        var body = prefix + sequence.ToString(new string('0', SequenceDigits), System.Globalization.CultureInfo.InvariantCulture);
        return body + LuhnDigit(body);
    }

    public static char LuhnDigit(ReadOnlySpan<char> body)
    {
        var sum = 0;
        var doubleIt = true;
        for (var i = body.Length - 1; i >= 0; i--)
        {
            var d = body[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return (char)('0' + ((10 - (sum % 10)) % 10));
    }

    /// <summary>True when the input is all digits, long enough and its last digit checks.</summary>
    public static bool IsValid(string? number)
    {
        if (number is null || number.Length < 6 || number.Length > 24)
        {
            return false;
        }

        foreach (var c in number)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return LuhnDigit(number.AsSpan(0, number.Length - 1)) == number[^1];
    }
}
