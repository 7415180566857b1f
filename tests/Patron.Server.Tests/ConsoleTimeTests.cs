using Microsoft.Extensions.Configuration;
using Patron.Server.Infrastructure.Localization;

namespace Patron.Server.Tests;

/// <summary>The console's clock face: one configured zone, whatever the server's own.</summary>
public sealed class ConsoleTimeTests
{
    private static ConsoleTime Configured(string? zone) =>
        ConsoleTime.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Patron:Console:TimeZone"] = zone }).Build());

    [Fact]
    public void StoredUtc_IsShownInShanghaiByDefault_AndUntilMeansTheLastDayGood()
    {
        var time = Configured(null);
        var lapse = new DateTime(2027, 12, 31, 16, 0, 0, DateTimeKind.Unspecified); // as a database gives it back: 2028-01-01 00:00 in Shanghai
        Assert.Equal("2028-01-01 00:00", time.Minute(lapse));
        Assert.Equal("2028-01-01", time.Day(lapse)); // the day it lapses
        Assert.Equal("2027-12-31", time.LastDay(lapse)); // good until
        Assert.Equal("—", time.Second(null));
    }

    [Fact]
    public void AnotherZone_IsUsed_AndAnUnknownOneStopsTheStart()
    {
        Assert.Equal("2027-12-31 17:00", Configured("Europe/Berlin").Minute(new DateTime(2027, 12, 31, 16, 0, 0, DateTimeKind.Utc)));
        Assert.Throws<InvalidOperationException>(() => Configured("Mars/Olympus"));
    }
}
