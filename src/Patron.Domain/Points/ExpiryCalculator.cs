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

        var cutoff = DateOnly.ParseExact($"{day.Year}-{cutoffMonthDay}", "yyyy-MM-dd", CultureInfo.InvariantCulture);
        return day >= cutoff;
    }
}
