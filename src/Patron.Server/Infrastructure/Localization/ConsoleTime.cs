using System.Globalization;
using Patron.Domain.Organisation;

namespace Patron.Server.Infrastructure.Localization;

/// <summary>
/// The console's clock face: stored times are UTC, and every page shows them in one time zone,
/// <c>Patron:Console:TimeZone</c> (default <see cref="Store.DefaultTimeZone"/>, the stores' own
/// default), whatever zone the server itself runs in.
/// </summary>
public sealed class ConsoleTime(TimeZoneInfo zone)
{
    public TimeZoneInfo Zone { get; } = zone;

    public static ConsoleTime From(IConfiguration config)
    {
        var id = config["Patron:Console:TimeZone"] is { Length: > 0 } configured ? configured : Store.DefaultTimeZone;
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone)
            ? new ConsoleTime(zone)
            : throw new InvalidOperationException($"Patron:Console:TimeZone names an unknown time zone: {id}.");
    }

    /// <summary>The stored UTC instant on the console's clock.</summary>
    public DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), Zone);

    /// <summary>yyyy-MM-dd, or — for none.</summary>
    public string Day(DateTime? utc) => Format(utc, "yyyy-MM-dd");

    /// <summary>
    /// The last day something ending at <paramref name="utc"/> is good for ("until"): a coupon that
    /// lapses at local midnight is good until the day before, yyyy-MM-dd.
    /// </summary>
    public string LastDay(DateTime utc) => Local(utc).AddTicks(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>yyyy-MM-dd HH:mm, or — for none.</summary>
    public string Minute(DateTime? utc) => Format(utc, "yyyy-MM-dd HH:mm");

    /// <summary>yyyy-MM-dd HH:mm:ss, or — for none.</summary>
    public string Second(DateTime? utc) => Format(utc, "yyyy-MM-dd HH:mm:ss");

    private string Format(DateTime? utc, string format) =>
        utc is { } at ? Local(at).ToString(format, CultureInfo.InvariantCulture) : "—";
}
