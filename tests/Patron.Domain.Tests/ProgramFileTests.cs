using Patron.Domain.Common;
using Patron.Domain.Programs;

namespace Patron.Domain.Tests;

public class ProgramFileTests
{
    [Theory]
    [InlineData("p1-haoyaoshi-beijing.json")]
    [InlineData("p2-wangqu-tongxin.json")]
    [InlineData("p3-five-tiers.json")]
    public void Shipped_samples_are_valid_and_survive_export_and_import(string file)
    {
        var program = Samples.Load(file);
        var exported = ProgramFile.Write(program);
        Assert.Equal(exported, ProgramFile.Write(ProgramFile.Parse(exported)));
    }

    [Fact]
    public void Unknown_fields_are_refused_naming_the_field()
    {
        var e = Assert.Throws<DomainException>(() => ProgramFile.Parse("""{ "code": "X", "name": "X", "earning": { "amountPerPont": 100 } }"""));
        Assert.Equal("program.file_malformed", e.Code);
        Assert.Contains("amountPerPont", e.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_types_and_unknown_enum_values_name_the_field()
    {
        var e = Assert.Throws<DomainException>(() => ProgramFile.Parse("""{ "code": "X", "name": "X", "expiry": { "kind": "end_of_decade" } }"""));
        Assert.Equal("program.file_malformed", e.Code);
        Assert.Equal("expiry.kind", e.Errors[0].Field);
    }

    [Fact]
    public void Every_semantic_problem_is_reported_with_its_field()
    {
        const string json = """
        {
          "code": "X", "name": "X", "timeZone": "Mars/Olympus",
          "earning": { "amountPerPoint": 0 },
          "expiry": { "kind": "end_of_month", "cutoffMonthDay": "12-31" },
          "tiers": [
            { "code": "a", "name": "A", "qualification": { "kind": "cumulative_points", "threshold": 100 } },
            { "code": "b", "name": "B", "qualification": { "kind": "cumulative_points", "threshold": 50 } }
          ],
          "pricing": { "discounts": [ { "id": "d", "percentOff": 0, "tiers": ["z"], "when": { "lunarDaysOfMonth": [31] } } ] }
        }
        """;
        var e = Assert.Throws<DomainException>(() => ProgramFile.Parse(json));
        Assert.All(e.Errors, x => Assert.Equal("program.invalid", x.Code));
        Assert.Equal(
            ["timeZone", "earning.amountPerPoint", "expiry.cutoffMonthDay", "tiers[1].qualification.threshold", "pricing.discounts[0].percentOff", "pricing.discounts[0].tiers", "pricing.discounts[0].when.lunarDaysOfMonth"],
            e.Errors.Select(x => x.Field).ToArray());
    }

    [Theory]
    [InlineData("""{ "kind": "end_of_year", "cutoffMonthDay": "02-29" }""", "expiry.cutoffMonthDay")] // not every year has it: every sale of a common year would fail
    [InlineData("""{ "kind": "after_days", "after": 2147483647 }""", "expiry.after")]
    [InlineData("""{ "kind": "after_months", "after": 1201 }""", "expiry.after")]
    [InlineData("""{ "kind": "end_of_quarter", "after": 401 }""", "expiry.after")]
    public void Expiry_that_no_calendar_can_reach_is_refused(string expiry, string field)
    {
        var e = Assert.Throws<DomainException>(() => ProgramFile.Parse($$"""{ "code": "X", "name": "X", "expiry": {{expiry}} }"""));
        Assert.Equal([field], e.Errors.Select(x => x.Field).ToArray());
    }

    [Theory]
    [InlineData("2026-02-27", false)]
    [InlineData("2026-02-28", true)] // a common year: 02-29 (stored before the file refused it) is the last day of February
    [InlineData("2028-02-28", false)]
    [InlineData("2028-02-29", true)]
    [InlineData("2026-12-01", true)]
    public void A_stored_february_29_cut_off_still_answers_in_every_year(string day, bool after) =>
        Assert.Equal(after, Patron.Domain.Points.ExpiryCalculator.IsOnOrAfterCutoff(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture), "02-29"));

    [Fact]
    public void Expiry_and_validity_at_the_longest_span_are_kept_and_computed()
    {
        var rules = ProgramFile.Parse("""{ "code": "X", "name": "X", "expiry": { "kind": "after_days", "after": 36500 }, "cards": { "validity": { "kind": "years", "length": 100 } } }""");
        Assert.Equal(new DateTime(2126, 11, 9, 0, 0, 0, DateTimeKind.Utc), Patron.Domain.Points.ExpiryCalculator.ExpiresAt(rules.Expiry, new DateTime(2026, 12, 2, 0, 0, 0, DateTimeKind.Utc), TimeZoneInfo.Utc));
        Assert.Equal(100, rules.Cards.Validity.Length);
        var e = Assert.Throws<DomainException>(() => ProgramFile.Parse("""{ "code": "X", "name": "X", "cards": { "validity": { "kind": "years", "length": 20000 } } }"""));
        Assert.Equal(["cards.validity.length"], e.Errors.Select(x => x.Field).ToArray());
    }

    [Fact]
    public void Bonus_tier_gifts_longer_together_than_a_top_up_records_are_refused()
    {
        // Six gifts of 90 characters: each is allowed, together (545 with the line breaks) they do not fit a top-up's record of 500.
        var gifts = string.Join(", ", Enumerable.Range(0, 6).Select(i => $"\"{new string((char)('A' + i), 90)}\""));
        var json = $$"""
        {
          "code": "X", "name": "X",
          "storedValue": { "enabled": true, "bonusTiers": [ { "minimum": 100000, "bonus": 100, "gifts": [{{gifts}}] } ] }
        }
        """;
        var e = Assert.Throws<DomainException>(() => ProgramFile.Parse(json));
        Assert.Equal(["storedValue.bonusTiers[0].gifts"], e.Errors.Select(x => x.Field).ToArray());

        // With the last one at 40 characters: 5 × 90 + 40 + 5 line breaks = 495.
        var fits = json.Replace(new string('F', 90), new string('F', 40), StringComparison.Ordinal);
        Assert.Single(ProgramFile.Parse(fits).StoredValue.BonusTiers);
    }

    [Fact]
    public void Required_fields_are_named()
    {
        var e = Assert.Throws<DomainException>(() => ProgramFile.Parse("""{ "name": "X" }"""));
        Assert.Equal("program.file_malformed", e.Code);
        Assert.Contains("code", e.Errors[0].Message, StringComparison.Ordinal);
    }
}
