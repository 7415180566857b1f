using Patron.Domain.Calendars;

namespace Patron.Domain.Programs;

/// <summary>One day of a month as a program's member days see it.</summary>
/// <param name="Lunar">The day in the Chinese lunisolar calendar (农历); null outside 1901–2100.</param>
/// <param name="Discounts">The member-day discounts that apply on this day.</param>
public sealed record MemberDayCell(DateOnly Date, LunarDate? Lunar, IReadOnlyList<DiscountRule> Discounts)
{
    public bool IsMemberDay => Discounts.Count > 0;
}

/// <summary>
/// Which days of a month are member days under a program: the days on which a discount with a
/// schedule (days of the month, weekdays, lunar days, date ranges) applies. The test is the
/// schedule's own <see cref="DaySchedule.Matches"/>, the one the pricing engine asks at the
/// checkout, so the preview and the till agree. Discounts for every day and birthday-only
/// discounts are not member days.
/// </summary>
public static class MemberDayCalendar
{
    public static bool IsMemberDayRule(DiscountRule d) =>
        !d.When.Birthday
        && (d.When.DaysOfMonth.Count > 0 || d.When.Weekdays.Count > 0 || d.When.LunarDaysOfMonth.Count > 0 || d.When.DateRanges.Count > 0);

    public static IReadOnlyList<MemberDayCell> Month(ProgramDefinition program, int year, int month)
    {
        var rules = program.Pricing.Discounts.Where(IsMemberDayRule).ToList();
        var days = DateTime.DaysInMonth(year, month);
        var cells = new List<MemberDayCell>(days);
        for (var day = 1; day <= days; day++)
        {
            var date = new DateOnly(year, month, day);
            var lunar = LunarDate.Of(date);
            var matching = lunar is null && rules.Any(r => r.When.LunarDaysOfMonth.Count > 0)
                ? rules.Where(r => r.When.LunarDaysOfMonth.Count == 0 && r.When.Matches(date, null)).ToList()
                : rules.Where(r => r.When.Matches(date, null)).ToList();
            cells.Add(new MemberDayCell(date, lunar, matching));
        }

        return cells;
    }
}
