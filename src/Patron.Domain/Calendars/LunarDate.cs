using System.Globalization;

namespace Patron.Domain.Calendars;

/// <summary>
/// A day of the Chinese lunisolar calendar (农历) by month and day, as people who keep their
/// birthday by it know it: a birth in a leap month counts as that month, and a 30th falls on the
/// 29th in years whose month is short.
/// </summary>
public sealed record LunarDate(int Month, int Day, bool LeapMonth)
{
    private static readonly ChineseLunisolarCalendar Calendar = new();
    private static readonly string[] MonthNames = ["正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊"];
    private static readonly string[] Tens = ["初", "十", "廿", "三"];
    private static readonly string[] Units = ["十", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

    /// <summary>The lunar month and day of a solar date; null outside the calendar's range (1901–2100).</summary>
    public static LunarDate? Of(DateOnly solar)
    {
        var at = solar.ToDateTime(TimeOnly.MinValue);
        if (at < Calendar.MinSupportedDateTime || at > Calendar.MaxSupportedDateTime)
        {
            return null;
        }

        var year = Calendar.GetYear(at);
        var index = Calendar.GetMonth(at);
        var leap = Calendar.GetLeapMonth(year);
        var month = leap == 0 || index < leap ? index : index - 1;
        return new LunarDate(month, Calendar.GetDayOfMonth(at), leap != 0 && index == leap);
    }

    /// <summary>The first solar date on or after <paramref name="from"/> that falls on this lunar month and day.</summary>
    public DateOnly? NextOnOrAfter(DateOnly from)
    {
        var start = from.ToDateTime(TimeOnly.MinValue);
        if (start < Calendar.MinSupportedDateTime || start > Calendar.MaxSupportedDateTime)
        {
            return null;
        }

        var year = Calendar.GetYear(start);
        for (var y = year - 1; y <= year + 1; y++)
        {
            if (y < Calendar.GetYear(Calendar.MinSupportedDateTime) + 1 || y >= Calendar.GetYear(Calendar.MaxSupportedDateTime))
            {
                continue;
            }

            var leap = Calendar.GetLeapMonth(y);
            var index = leap == 0 || Month < leap ? Month : Month + 1;
            var day = Math.Min(Day, Calendar.GetDaysInMonth(y, index));
            var date = DateOnly.FromDateTime(Calendar.ToDateTime(y, index, day, 0, 0, 0, 0));
            if (date >= from)
            {
                return date;
            }
        }

        return null;
    }

    /// <summary>农历三月初八, 闰四月廿九.</summary>
    public override string ToString() =>
        (LeapMonth ? "闰" : "") + MonthNames[Month - 1] + "月" + DayName(Day);

    private static string DayName(int day) => day switch
    {
        10 => "初十",
        20 => "二十",
        30 => "三十",
        _ => Tens[day / 10] + Units[day % 10],
    };
}
