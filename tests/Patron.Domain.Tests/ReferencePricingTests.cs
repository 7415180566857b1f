using Patron.Domain.Pricing;
using static Patron.Domain.Tests.Samples;

namespace Patron.Domain.Tests;

/// <summary>The reference programs' pricing and earning examples (shared/reference-programs.md) on the shipped files.</summary>
public class ReferencePricingTests
{
    private static readonly PricingMember Standard = new("standard", new DateOnly(1980, 5, 5));

    [Fact]
    public void P1_E1_member_day_discounts_normal_items_only_and_special_price_earns_nothing()
    {
        var quote = PricingEngine.Quote(P1, [new("A", 1, Yuan(50)), new("B", 1, Yuan(30), Flags: ["special_price"])], Standard, new DateOnly(2026, 3, 19));

        Assert.Equal(Yuan(45), quote[0].Paid);
        Assert.Equal("member-day", quote[0].DiscountRule);
        Assert.Equal(Yuan(30), quote[1].Paid);
        Assert.Null(quote[1].DiscountRule);
        Assert.Equal(Yuan(75), quote.Payable);
        Assert.Equal(45, quote.Points);
    }

    [Fact]
    public void P1_standard_card_pays_full_price_off_member_days_and_gold_gets_ten_percent_every_day()
    {
        var day = new DateOnly(2026, 3, 20);
        Assert.Equal(Yuan(50), PricingEngine.Quote(P1, [new("A", 1, Yuan(50))], Standard, day).Payable);

        var gold = PricingEngine.Quote(P1, [new("A", 1, Yuan(50))], new PricingMember("gold", null), day); // E3
        Assert.Equal(Yuan(45), gold.Payable);
        Assert.Equal("tier:gold", gold[0].DiscountRule);
        Assert.Equal(45, gold.Points);
    }

    [Fact]
    public void P1_an_unidentified_purchase_earns_nothing_and_gets_no_member_price()
    {
        var quote = PricingEngine.Quote(P1, [new("A", 1, Yuan(50))], PricingMember.Anonymous, new DateOnly(2026, 3, 19));
        Assert.Equal(Yuan(50), quote.Payable);
        Assert.Equal(0, quote.Points);
    }

    [Fact]
    public void P1_points_are_rounded_down_per_receipt_not_per_line()
    {
        // Two lines of ¥0.60 each: per line would be 0 + 0, per receipt ¥1.20 is 1 point.
        var quote = PricingEngine.Quote(P1, [new("A", 1, 60), new("C", 1, 60)], Standard, new DateOnly(2026, 3, 20));
        Assert.Equal(1, quote.Points);
    }

    [Fact]
    public void P2_E1_lunar_member_day_gives_five_percent()
    {
        var day = new DateOnly(2026, 11, 26);
        Assert.Equal(18, Calendars.DaySchedule.LunarDayOfMonth(day));
        var quote = PricingEngine.Quote(P2, [new("X", 1, Yuan(100))], new PricingMember(null, null), day);
        Assert.Equal(Yuan(95), quote.Payable);
        Assert.Equal("lunar-member-day", quote[0].DiscountRule);
        Assert.Equal(95, quote.Points);
    }

    [Fact]
    public void P2_E2_other_days_give_two_percent_and_flagged_items_nothing()
    {
        var quote = PricingEngine.Quote(
            P2,
            [new("X", 1, Yuan(100)), new("L", 1, Yuan(10), Flags: ["limited"]), new("P", 1, Yuan(10), Flags: ["promotional"])],
            new PricingMember(null, null),
            new DateOnly(2026, 11, 25));
        Assert.Equal(Yuan(98), quote[0].Paid);
        Assert.Equal(0, quote[1].Discount + quote[2].Discount);
        Assert.Equal(98, quote.Points);
    }

    [Fact]
    public void P2_E3_first_purchase_pays_9_80_and_earns_9()
    {
        var quote = PricingEngine.Quote(P2, [new("X", 1, Yuan(10))], new PricingMember(null, null), new DateOnly(2026, 11, 25));
        Assert.Equal(980, quote.Payable);
        Assert.Equal(9, quote.Points);
    }

    [Theory]
    [InlineData("gold", 170)] // E1: 15% Sunday vs 15% gold
    [InlineData("diamond", 150)] // E2: 25% wins
    [InlineData("standard", 170)]
    [InlineData("silver", 170)]
    public void P3_discounts_never_stack_the_best_one_wins(string tier, int paidYuan)
    {
        var sunday = new DateOnly(2026, 3, 22);
        var quote = PricingEngine.Quote(P3, [new("X", 1, Yuan(200))], new PricingMember(tier, new DateOnly(1990, 1, 1)), sunday);
        Assert.Equal(Yuan(paidYuan), quote.Payable);
        Assert.Equal(paidYuan, quote.Points);
    }

    [Fact]
    public void P3_E3_birthday_on_a_sunday_gives_twenty_percent()
    {
        var sunday = new DateOnly(2026, 3, 22);
        var quote = PricingEngine.Quote(P3, [new("X", 1, Yuan(100))], new PricingMember("standard", new DateOnly(1990, 3, 22)), sunday);
        Assert.Equal(Yuan(80), quote.Payable);
        Assert.Equal("birthday", quote[0].DiscountRule);
    }

    [Fact]
    public void Ordered_stacking_applies_each_discount_to_what_remains()
    {
        var program = P3 with { Pricing = P3.Pricing with { Stacking = Programs.Stacking.Ordered } };
        var quote = PricingEngine.Quote(program, [new("X", 1, Yuan(100))], new PricingMember("gold", null), new DateOnly(2026, 3, 22));

        // 15% gold, then 15% Sunday on ¥85.00: ¥85.00 − ¥12.75 = ¥72.25.
        Assert.Equal(7225, quote.Payable);
        Assert.Equal("tier:gold+sunday", quote[0].DiscountRule);
    }

    [Fact]
    public void Payment_methods_excluded_from_earning_reduce_the_eligible_amount()
    {
        var program = P2 with { Earning = P2.Earning with { ExcludedPaymentMethods = ["medical_insurance"] } };
        var quote = PricingEngine.Quote(program, [new("X", 1, Yuan(100))], new PricingMember(null, null), new DateOnly(2026, 11, 25), [new("medical_insurance", Yuan(60)), new("cash", Yuan(38))]);
        Assert.Equal(38, quote.Points);
    }

    [Fact]
    public void Minimum_receipt_amount_per_point_multipliers_and_rounding_are_honoured()
    {
        var program = P3 with
        {
            Earning = P3.Earning with { AmountPerPoint = 200, MinimumReceipt = Yuan(10), BirthdayMultiplierPercent = 200, Rounding = Common.Rounding.HalfUp },
        };
        var weekday = new DateOnly(2026, 3, 23);
        Assert.Equal(0, PricingEngine.Quote(program, [new("X", 1, 999)], new PricingMember("standard", null), weekday).Points);
        Assert.Equal(5, PricingEngine.Quote(program, [new("X", 1, 1000)], new PricingMember("standard", null), weekday).Points); // ¥10 / ¥2 = 5
        Assert.Equal(6, PricingEngine.Quote(program, [new("X", 1, 1100)], new PricingMember("standard", null), weekday).Points); // 5.5 rounds half up
        var birthday = PricingEngine.Quote(program, [new("X", 1, 1250)], new PricingMember("standard", weekday.AddYears(-30)), weekday);
        Assert.Equal(1000, birthday.Payable); // 20% off on the birthday; the minimum applies after discounts
        Assert.Equal(10, birthday.Points); // ¥10 / ¥2 × 2
    }

    [Fact]
    public void A_bad_line_is_refused_with_its_position()
    {
        var e = Assert.Throws<Common.DomainException>(() => PricingEngine.Quote(P1, [new("A", 1, 100), new("B", 0, 100)], Standard, new DateOnly(2026, 3, 20)));
        Assert.Equal("basket.line_invalid", e.Code);
        Assert.Equal("lines[1]", e.Errors[0].Field);
    }
}
