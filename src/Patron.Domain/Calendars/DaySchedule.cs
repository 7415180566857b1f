using System.Globalization;

namespace Patron.Domain.Calendars;

/// <summary>An inclusive range of local dates.</summary>
public sealed record DateRange(DateOnly From, DateOnly To)
{
    public bool Contains(DateOnly date) => date >= From && date <= To;
}

/// <summary>
/// Which local days a rule applies on. Every listed condition must hold (a schedule with
/// days of month and weekdays applies on days that are both); an empty schedule is every day.
/// Lunar days are days of the month in the Chinese lunisolar calendar (农历), leap months
/// included.
/// </summary>
public sealed record DaySchedule
{
    private static readonly ChineseLunisolarCalendar Lunar = new();

    public IReadOnlyList<int> DaysOfMonth { get; init; } = [];

    public IReadOnlyList<DayOfWeek> Weekdays { get; init; } = [];

    public IReadOnlyList<int> LunarDaysOfMonth { get; init; } = [];

    public IReadOnlyList<DateRange> DateRanges { get; init; } = [];

    /// <summary>Only on the member's birthday (29 Feb birthdays fall on 28 Feb in common years).</summary>
    public bool Birthday { get; init; }

    public bool Matches(DateOnly date, DateOnly? birthday)
    {
        if (DaysOfMonth.Count > 0 && !DaysOfMonth.Contains(date.Day))
        {
            return false;
        }

        if (Weekdays.Count > 0 && !Weekdays.Contains(date.DayOfWeek))
        {
            return false;
        }

        if (LunarDaysOfMonth.Count > 0 && !LunarDaysOfMonth.Contains(LunarDayOfMonth(date)))
        {
            return false;
        }

        if (DateRanges.Count > 0 && !DateRanges.Any(r => r.Contains(date)))
        {
            return false;
        }

        return !Birthday || (birthday is { } b && IsBirthday(date, b));
    }

    public static int LunarDayOfMonth(DateOnly date) => Lunar.GetDayOfMonth(date.ToDateTime(TimeOnly.MinValue));

    public static bool IsBirthday(DateOnly date, DateOnly birthday)
    {
        if (birthday.Month == 2 && birthday.Day == 29 && !DateTime.IsLeapYear(date.Year))
        {
            return date.Month == 2 && date.Day == 28;
        }

        return date.Month == birthday.Month && date.Day == birthday.Day;
    }
}
