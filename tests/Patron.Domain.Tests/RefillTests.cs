using Patron.Domain.Care;
using Patron.Domain.Members;

namespace Patron.Domain.Tests;

public sealed class RefillTests
{
    private static readonly LongTermMedicine Nifedipine = new("硝苯地平缓释片", "NIF30", 1, 30);

    [Fact]
    public void TwoPacksOfThirty_OneADay_RunOutSixtyDaysLater_RemindThreeDaysBefore()
    {
        var status = Refill.For(Nifedipine, [(new DateOnly(2026, 6, 1), 2)], new DateOnly(2026, 6, 10));

        Assert.Equal((new DateOnly(2026, 7, 31), new DateOnly(2026, 7, 28), false), (status.RunsOutOn, status.RemindOn, status.Overdue));
    }

    [Fact]
    public void BuyingEarly_KeepsWhatIsLeft_AndAReturnTakesSupplyBack()
    {
        List<(DateOnly, int)> purchases = [(new DateOnly(2026, 6, 1), 2), (new DateOnly(2026, 7, 20), 1)];
        Assert.Equal(new DateOnly(2026, 8, 30), Refill.For(Nifedipine, purchases, new DateOnly(2026, 7, 21)).RunsOutOn);

        purchases.Add((new DateOnly(2026, 7, 22), -1));
        var afterReturn = Refill.For(Nifedipine, purchases, new DateOnly(2026, 8, 5));
        Assert.Equal(new DateOnly(2026, 7, 31), afterReturn.RunsOutOn);
        Assert.True(afterReturn.Overdue);
        Assert.Equal(new DateOnly(2026, 7, 20), afterReturn.LastBought);
    }

    [Fact]
    public void TwiceADay_HalvesTheDays_AndNothingBought_IsNoDate()
    {
        var twice = Nifedipine with { DailyDose = 2 };

        Assert.Equal(new DateOnly(2026, 6, 16), Refill.For(twice, [(new DateOnly(2026, 6, 1), 1)], new DateOnly(2026, 6, 1)).RunsOutOn);
        Assert.Null(Refill.For(twice, [], new DateOnly(2026, 6, 1)).RunsOutOn);
    }
}
