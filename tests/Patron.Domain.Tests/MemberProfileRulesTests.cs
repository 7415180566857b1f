using Patron.Domain.Calendars;
using Patron.Domain.Members;

namespace Patron.Domain.Tests;

public sealed class MemberProfileRulesTests
{
    [Theory]
    [InlineData("2024-02-10", 1, 1, false, "正月初一")] // Spring Festival 2024
    [InlineData("2023-03-22", 2, 1, true, "闰二月初一")] // 2023 had a leap second month
    [InlineData("2024-02-09", 12, 30, false, "腊月三十")] // the eve of the Spring Festival 2024
    [InlineData("2025-05-31", 5, 5, false, "五月初五")] // Dragon Boat Festival 2025
    public void LunarDate_Of_GivesMonthDayAndLeap(string solar, int month, int day, bool leap, string text)
    {
        var lunar = LunarDate.Of(DateOnly.Parse(solar, System.Globalization.CultureInfo.InvariantCulture))!;
        Assert.Equal((month, day, leap, text), (lunar.Month, lunar.Day, lunar.LeapMonth, lunar.ToString()));
    }

    [Fact]
    public void LunarDate_NextOnOrAfter_FindsTheSolarDate_AndAShortMonthFallsOnItsLastDay()
    {
        Assert.Equal(new DateOnly(2026, 2, 17), new LunarDate(1, 1, false).NextOnOrAfter(new DateOnly(2025, 6, 1))); // Spring Festival 2026
        Assert.Equal(new DateOnly(2025, 1, 29), new LunarDate(1, 1, false).NextOnOrAfter(new DateOnly(2025, 1, 29)));

        // The 30th of the twelfth month, in a year whose twelfth month may be short: the eve of the next Spring Festival either way.
        Assert.Equal(new DateOnly(2026, 2, 16), new LunarDate(12, 30, false).NextOnOrAfter(new DateOnly(2025, 6, 1)));

        // Born in a leap month: the ordinary month of that number in other years.
        Assert.Equal(LunarDate.Of(new DateOnly(2026, 3, 19))!.Month, new LunarDate(2, 1, true).NextOnOrAfter(new DateOnly(2026, 1, 1)) is { } d ? LunarDate.Of(d)!.Month : 0);
        Assert.Null(LunarDate.Of(new DateOnly(1890, 1, 1)));
    }

    [Fact]
    public void Completeness_WeighsTheFieldsThatApply_SoBothKindsCanReachAHundred()
    {
        var none = new ProfileCompleteness.Facts(MemberKind.Person, false, false, false, false, false, false, false, false, false, false, false);
        Assert.Equal(20, ProfileCompleteness.Of(none).Score);
        var person = none with { Gender = true, Birthday = true, IdNumber = true, District = true, Community = true, Address = true, WeChat = true, Email = true, Insurance = true, Interests = true };
        Assert.Equal((100, 0), (ProfileCompleteness.Of(person).Score, ProfileCompleteness.Of(person).Missing.Count));

        // Purchasers count for an organisation, not for a person; a birthday does not count for an organisation.
        Assert.Equal(100, ProfileCompleteness.Of(person with { Purchasers = true }).Score);
        var organisation = none with { Kind = MemberKind.Organisation, District = true, Community = true, Address = true, WeChat = true, Email = true, Interests = true, Birthday = true };
        var (score, missing) = ProfileCompleteness.Of(organisation);
        Assert.Equal(["purchasers"], missing);
        Assert.Equal(71, score); // 60 of 85
        Assert.Equal(100, ProfileCompleteness.Of(organisation with { Purchasers = true }).Score);
    }

    [Fact]
    public void ProfileFields_AreTrimmedDeduplicated_AndRefusedFieldByField()
    {
        var (ok, none) = ProfileFields.Normalize("organisation", true, " 139 1234 5678 ", " 朝阳区 ", null, "  ", "wx_1", "a@b.cn", false, "employee", ["sleep", "sleep"], [" a ", "a", "b"], null, ["sleep"]);
        Assert.Empty(none);
        Assert.Equal((MemberKind.Organisation, "13912345678", "朝阳区", (string?)null, (string?)null), (ok!.Kind, ok.Phone2, ok.District, ok.Address, ok.InsuranceType));
        Assert.Equal(["sleep"], ok.Interests);
        Assert.Equal(["a", "b"], ok.Tags);

        var (bad, errors) = ProfileFields.Normalize("x", false, "12", null, new string('区', 51), null, "w x", "a@b", true, "gold", ["astrology"], ["a|b"], new string('n', 501), ["sleep"]);
        Assert.Null(bad);
        Assert.Equal(
            ["kind", "phone2", "email", "weChat", "insuranceType", "interests", "tags", "community", "notes"],
            errors.Select(e => e.Field));
    }

    [Fact]
    public void ProfileFields_RefuseMoreInterestsThanTheColumnHolds()
    {
        var known = Enumerable.Range(1, 40).Select(i => "interest_code_number_" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var (fields, errors) = ProfileFields.Normalize(null, false, null, null, null, null, null, null, null, null, known, null, null, known);
        Assert.Null(fields);
        Assert.Equal("profile.interests_too_many", Assert.Single(errors).Code);
        Assert.NotNull(ProfileFields.Normalize(null, false, null, null, null, null, null, null, null, null, known.Take(10).ToList(), null, null, known).Fields);
    }
}
