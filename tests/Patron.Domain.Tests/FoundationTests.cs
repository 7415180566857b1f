using Patron.Domain.Cards;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Domain.Organisation;

namespace Patron.Domain.Tests;

public class FoundationTests
{
    [Theory]
    [InlineData("13812345678", "13812345678")]
    [InlineData("138 1234 5678", "13812345678")]
    [InlineData("+86 138-1234-5678", "13812345678")]
    [InlineData("008619912345678", "19912345678")]
    public void Mobile_numbers_are_normalized(string input, string expected)
    {
        Assert.True(ChineseMobile.TryNormalize(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1381234567")] // 10 digits
    [InlineData("12812345678")] // second digit below 3
    [InlineData("23812345678")]
    [InlineData("1381234567a")]
    [InlineData("138123456789")]
    public void Bad_mobile_numbers_are_refused(string? input) =>
        Assert.False(ChineseMobile.TryNormalize(input, out _));

    [Fact]
    public void Id_number_with_a_valid_check_character_is_accepted_with_birth_date_and_gender()
    {
        Assert.True(ChineseIdNumber.TryNormalize("11010519491231002x", out var id, out var birth));
        Assert.Equal("11010519491231002X", id);
        Assert.Equal(new DateOnly(1949, 12, 31), birth);
        Assert.Equal(Gender.Female, ChineseIdNumber.GenderOf(id)); // 17th digit 2 is even
    }

    [Theory]
    [InlineData("110105194912310021")] // wrong check character
    [InlineData("11010519491331002X")] // month 13
    [InlineData("1101051949123100")] // too short
    [InlineData("11010519491231002Y")]
    public void Bad_id_numbers_are_refused(string input) =>
        Assert.False(ChineseIdNumber.TryNormalize(input, out _, out _));

    [Fact]
    public void Any_single_digit_change_of_an_id_number_is_caught()
    {
        const string valid = "11010519491231002X";
        for (var i = 0; i < 17; i++)
        {
            var chars = valid.ToCharArray();
            chars[i] = chars[i] == '9' ? '0' : (char)(chars[i] + 1);
            Assert.NotEqual(valid[17], ChineseIdNumber.CheckCharacter(chars.AsSpan(0, 17)));
        }
    }

    [Fact]
    public void Card_numbers_carry_the_prefix_a_padded_sequence_and_a_Luhn_digit()
    {
        var number = CardNumber.Compose("8801", 42);
        Assert.Equal(13, number.Length);
        Assert.StartsWith("880100000042", number, StringComparison.Ordinal);
        Assert.True(CardNumber.IsValid(number));
        Assert.Equal('3', CardNumber.LuhnDigit("7992739871")); // the textbook Luhn example, 79927398713
    }

    [Fact]
    public void A_mistyped_or_swapped_card_digit_fails_the_check()
    {
        var number = CardNumber.Compose("8801", 12345);
        for (var i = 0; i < number.Length; i++)
        {
            var chars = number.ToCharArray();
            chars[i] = chars[i] == '9' ? '0' : (char)(chars[i] + 1);
            Assert.False(CardNumber.IsValid(new string(chars)), $"digit {i}");
        }

        var swapped = number.ToCharArray();
        (swapped[9], swapped[10]) = (swapped[10], swapped[9]);
        Assert.True(swapped[9] == swapped[10] || !CardNumber.IsValid(new string(swapped)));
        Assert.Throws<ArgumentOutOfRangeException>(() => CardNumber.Compose("8801", 100_000_000));
    }

    [Fact]
    public void Personal_data_is_masked()
    {
        Assert.Equal("138****5678", Masking.Phone("13812345678"));
        Assert.Equal("**************002X", Masking.IdNumberFromTail("002X"));
        Assert.Equal("张**", Masking.Name("张三丰"));
    }

    [Fact]
    public void Staff_are_locked_out_after_five_failures_for_fifteen_minutes()
    {
        var staff = new Staff("cashier", "收银员", StaffRole.Cashier, [1]);
        var now = new DateTime(2026, 11, 22, 8, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < Staff.MaxFailedLogins - 1; i++)
        {
            staff.RecordFailedLogin(now);
        }

        Assert.False(staff.IsLockedOut(now));
        staff.RecordFailedLogin(now);
        Assert.True(staff.IsLockedOut(now.AddMinutes(14)));
        Assert.False(staff.IsLockedOut(now.AddMinutes(15)));
        staff.RecordSuccessfulLogin();
        Assert.Equal(0, staff.FailedLogins);
        Assert.False(staff.AllStores);
        Assert.True(new Staff("a", "a", StaffRole.Auditor, []).AllStores);
    }
}
