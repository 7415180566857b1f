namespace Patron.Domain.Common;

/// <summary>How a fraction becomes a whole fen or a whole point. Every rounding names one.</summary>
public enum Rounding
{
    Down = 0,
    HalfUp = 1,
    Up = 2,
}

public static class RoundingExtensions
{
    /// <summary>numerator / denominator for non-negative values, rounded as asked.</summary>
    public static long Divide(this Rounding rounding, long numerator, long denominator)
    {
        if (numerator < 0 || denominator <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numerator), "Rounding is defined here for non-negative amounts and positive divisors.");
        }

        var q = Math.DivRem(numerator, denominator, out var r);
        return rounding switch
        {
            Rounding.Down => q,
            Rounding.Up => r == 0 ? q : q + 1,
            Rounding.HalfUp => r * 2 >= denominator ? q + 1 : q,
            _ => throw new ArgumentOutOfRangeException(nameof(rounding)),
        };
    }

    /// <summary>A decimal quantity (for example fen × percent) to a whole number, as asked.</summary>
    public static long Apply(this Rounding rounding, decimal value)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Rounding is defined here for non-negative amounts.");
        }

        return (long)(rounding switch
        {
            Rounding.Down => decimal.Floor(value),
            Rounding.Up => decimal.Ceiling(value),
            Rounding.HalfUp => decimal.Round(value, MidpointRounding.AwayFromZero),
            _ => throw new ArgumentOutOfRangeException(nameof(rounding)),
        });
    }
}
