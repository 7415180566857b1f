using System.Globalization;
using Patron.Domain.Programs;

namespace Patron.Domain.Points;

/// <summary>When points earned at a moment lapse under a program's expiry policy, in its time zone.</summary>
public static class ExpiryCalculator
{
    public static DateTime? ExpiresAt(ExpiryPolicy policy, DateTime earnedAtUtc, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(earnedAtUtc, DateTimeKind.Utc), zone);
        var day = DateOnly.FromDateTime(local);
        DateOnly? lapseDay = policy.Kind switch
        {
            ExpiryKind.Never => null,
            ExpiryKind.AfterDays => day.AddDays(policy.After + 1),
            ExpiryKind.AfterMonths => day.AddMonths(policy.After).AddDays(1),
            ExpiryKind.EndOfYear => new DateOnly(day.Year + (IsOnOrAfterCutoff(day, policy.CutoffMonthDay) ? 2 : 1), 1, 1),
            ExpiryKind.EndOfMonth => new DateOnly(day.Year, day.Month, 1).AddMonths(policy.After + 1),
            ExpiryKind.EndOfQuarter => new DateOnly(day.Year, ((day.Month - 1) / 3 * 3) + 1, 1).AddMonths((policy.After + 1) * 3),
            _ => throw new ArgumentOutOfRangeException(nameof(policy)),
        };

        // Points lapse at the first local instant of the lapse day.
        return lapseDay is { } d ? TimeZoneInfo.ConvertTimeToUtc(d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone) : null;
    }

    public static bool IsOnOrAfterCutoff(DateOnly day, string? cutoffMonthDay)
    {
        if (cutoffMonthDay is null)
        {
            return false;
        }

        // MM-dd; a 02-29 stored before the file refused it is the last day of February in a common year.
        var month = int.Parse(cutoffMonthDay.AsSpan(0, 2), CultureInfo.InvariantCulture);
        var dayOfMonth = int.Parse(cutoffMonthDay.AsSpan(3, 2), CultureInfo.InvariantCulture);
        return day >= new DateOnly(day.Year, month, Math.Min(dayOfMonth, DateTime.DaysInMonth(day.Year, month)));
    }
}
