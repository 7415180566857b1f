using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Patron.Domain.Common;
using Patron.Domain.Programs;

namespace Patron.Server.Features.Programs;

/// <summary>
/// The program settings editor's form. Its field names are the program file's own paths
/// (<c>tiers[1].qualification.threshold</c>, <c>earning.amountPerPoint</c>,
/// <c>pricing.discounts[0].when.lunarDaysOfMonth</c>), so an error the program file's validation
/// reports for a path is shown beside the field of that path. Tiers, earning basics and member days
/// are fields; the other sections are JSON per section (<c>section.cards</c> …), merged into the
/// stored file and validated by the same <see cref="ProgramFile"/> parser as an imported file.
/// </summary>
public sealed partial class ProgramSettingsForm
{
    /// <summary>The JSON sections, each the program file's property of that name.</summary>
    public static readonly string[] Sections = ["expiry", "pricing", "cards", "storedValue", "redemption", "coupons", "other"];

    public static readonly string[] TierKinds = ["manual", "cumulative_points", "cumulative_spend", "single_purchase", "single_top_up", "annual_fee"];

    public static readonly string[] Roundings = ["down", "half_up", "up"];

    public static readonly string[] Weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

    public const string FieldInvalid = "settings.field_invalid";

    public const string JsonInvalid = "settings.json_invalid";

    private static readonly string[] Structured = ["code", "name", "version", "effectiveFrom", "tiers", "earning"];

    private static readonly string[] TierFields = ["code", "name", "qualification.kind", "qualification.threshold", "percentOff", "pointsMultiplierPercent", "onPromotion", "benefits", "retention"];

    private static readonly string[] DiscountFields = ["id", "name", "percentOff", "tiers", "when.daysOfMonth", "when.weekdays", "when.lunarDaysOfMonth", "when.dateRanges", "when.birthday"];

    private static readonly string[] EarningFields = ["earning.amountPerPoint", "earning.rounding", "earning.minimumReceipt", "earning.birthdayMultiplierPercent", "earning.excluded.flags", "earning.excluded.categories", "earning.excluded.brands", "earning.excluded.skus", "earning.excludedPaymentMethods"];

    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false };

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _multi = new(StringComparer.Ordinal);

    public int TierRows { get; private set; }

    public int DiscountRows { get; private set; }

    public string Value(string key) => _values.GetValueOrDefault(key) ?? "";

    public bool Checked(string key) => _values.GetValueOrDefault(key) is "true" or "on";

    public bool Has(string key, string option) => _multi.TryGetValue(key, out var v) && v.Contains(option);

    /// <summary>The fields of a stored definition, with one empty row for a new tier and one for a new member day.</summary>
    public static ProgramSettingsForm From(ProgramDefinition program, bool withBlankRows)
    {
        var form = new ProgramSettingsForm();
        var doc = JsonNode.Parse(ProgramFile.Write(program))!.AsObject();
        form._values["name"] = program.Name;
        form._values["effectiveFrom"] = program.EffectiveFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var tiers = doc["tiers"]!.AsArray();
        for (var i = 0; i < tiers.Count; i++)
        {
            var t = tiers[i]!;
            var at = $"tiers[{i}]";
            form._values[$"{at}.code"] = Text(t["code"]);
            form._values[$"{at}.name"] = Text(t["name"]);
            form._values[$"{at}.qualification.kind"] = Text(t["qualification"]?["kind"]);
            form._values[$"{at}.qualification.threshold"] = Text(t["qualification"]?["threshold"]);
            form._values[$"{at}.percentOff"] = Text(t["percentOff"]);
            form._values[$"{at}.pointsMultiplierPercent"] = Text(t["pointsMultiplierPercent"]);
            form._values[$"{at}.onPromotion"] = Text(t["onPromotion"]);
            form._values[$"{at}.benefits"] = string.Join('\n', program.Tiers[i].Benefits);
            form._values[$"{at}.retention"] = t["retention"] is { } r ? r.ToJsonString() : "";
        }

        form.TierRows = tiers.Count + (withBlankRows ? 1 : 0);

        var e = program.Earning;
        form._values["earning.amountPerPoint"] = Num(e.AmountPerPoint);
        form._values["earning.rounding"] = Text(doc["earning"]!["rounding"]);
        form._values["earning.minimumReceipt"] = Num(e.MinimumReceipt);
        form._values["earning.birthdayMultiplierPercent"] = Num(e.BirthdayMultiplierPercent);
        form._values["earning.excluded.flags"] = string.Join(", ", e.Excluded.Flags);
        form._values["earning.excluded.categories"] = string.Join(", ", e.Excluded.Categories);
        form._values["earning.excluded.brands"] = string.Join(", ", e.Excluded.Brands);
        form._values["earning.excluded.skus"] = string.Join(", ", e.Excluded.Skus);
        form._values["earning.excludedPaymentMethods"] = string.Join(", ", e.ExcludedPaymentMethods);

        var discounts = program.Pricing.Discounts;
        for (var i = 0; i < discounts.Count; i++)
        {
            var d = discounts[i];
            var at = $"pricing.discounts[{i}]";
            form._values[$"{at}.id"] = d.Id;
            form._values[$"{at}.name"] = d.Name ?? "";
            form._values[$"{at}.percentOff"] = d.PercentOff.ToString(CultureInfo.InvariantCulture);
            form._values[$"{at}.tiers"] = string.Join(", ", d.Tiers);
            form._values[$"{at}.when.daysOfMonth"] = string.Join(", ", d.When.DaysOfMonth);
            form._values[$"{at}.when.lunarDaysOfMonth"] = string.Join(", ", d.When.LunarDaysOfMonth);
            form._values[$"{at}.when.dateRanges"] = string.Join('\n', d.When.DateRanges.Select(r => $"{r.From:yyyy-MM-dd}~{r.To:yyyy-MM-dd}"));
            form._values[$"{at}.when.birthday"] = d.When.Birthday ? "true" : "";
            form._multi[$"{at}.when.weekdays"] = [.. d.When.Weekdays.Select(w => w.ToString().ToLowerInvariant())];
        }

        form.DiscountRows = discounts.Count + (withBlankRows ? 1 : 0);

        foreach (var section in Sections)
        {
            form._values["section." + section] = SectionOf(doc, section)?.ToJsonString(Indented) ?? "";
        }

        return form;
    }

    /// <summary>The fields as posted.</summary>
    public static ProgramSettingsForm From(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> posted)
    {
        var form = new ProgramSettingsForm();
        foreach (var (key, values) in posted)
        {
            if (key.StartsWith("__", StringComparison.Ordinal))
            {
                continue;
            }

            form._values[key] = values.Count > 0 ? values[^1] ?? "" : "";
            form._multi[key] = [.. values.Where(v => v is not null).Select(v => v!)];
            if (RowPattern().Match(key) is { Success: true } m)
            {
                var row = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) + 1;
                if (row > 200)
                {
                    continue;
                }

                if (m.Groups[1].Value == "tiers")
                {
                    form.TierRows = Math.Max(form.TierRows, row);
                }
                else
                {
                    form.DiscountRows = Math.Max(form.DiscountRows, row);
                }
            }
        }

        return form;
    }

    /// <summary>
    /// The program file these fields make of a stored one, or the fields' own errors (a number
    /// that is not one, a date that is not one, a section that is not JSON) keyed by field.
    /// </summary>
    public Built Build(string storedJson)
    {
        var errors = new List<DomainError>();
        void Fail(string field, string message) => errors.Add(new DomainError(FieldInvalid, message, field));
        void FailJson(string field, string reason) => errors.Add(new DomainError(JsonInvalid, reason, field));

        var doc = JsonNode.Parse(storedJson, documentOptions: Lenient)!.AsObject();
        doc["name"] = Value("name").Trim();
        var effective = Value("effectiveFrom").Trim();
        if (DateOnly.TryParseExact(effective, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            doc["effectiveFrom"] = effective;
        }
        else
        {
            Fail("effectiveFrom", "Enter a date as yyyy-MM-dd.");
        }

        var tierRows = new List<int>();
        var tiers = new JsonArray();
        for (var r = 0; r < TierRows; r++)
        {
            var at = $"tiers[{r}]";
            if (Checked($"{at}.remove") || (Value($"{at}.code").Trim().Length == 0 && Value($"{at}.name").Trim().Length == 0 && Value($"{at}.qualification.threshold").Trim().Length == 0))
            {
                continue;
            }

            tierRows.Add(r);
            tiers.Add(new JsonObject
            {
                ["code"] = Value($"{at}.code").Trim(),
                ["name"] = Value($"{at}.name").Trim(),
                ["qualification"] = new JsonObject
                {
                    ["kind"] = Or(Value($"{at}.qualification.kind"), "manual"),
                    ["threshold"] = Long($"{at}.qualification.threshold", 0, Fail),
                },
                ["percentOff"] = Decimal($"{at}.percentOff", Fail),
                ["pointsMultiplierPercent"] = Long($"{at}.pointsMultiplierPercent", 100, Fail),
                ["onPromotion"] = Or(Value($"{at}.onPromotion"), "keep"),
                ["benefits"] = Strings(Value($"{at}.benefits").Split('\n')),
                ["retention"] = Section($"{at}.retention", FailJson),
            });
        }

        doc["tiers"] = tiers;

        doc["earning"] = new JsonObject
        {
            ["amountPerPoint"] = Long("earning.amountPerPoint", 100, Fail),
            ["rounding"] = Or(Value("earning.rounding"), "down"),
            ["minimumReceipt"] = Long("earning.minimumReceipt", 0, Fail),
            ["excluded"] = new JsonObject
            {
                ["flags"] = List("earning.excluded.flags"),
                ["categories"] = List("earning.excluded.categories"),
                ["brands"] = List("earning.excluded.brands"),
                ["skus"] = List("earning.excluded.skus"),
            },
            ["excludedPaymentMethods"] = List("earning.excludedPaymentMethods"),
            ["birthdayMultiplierPercent"] = Long("earning.birthdayMultiplierPercent", 100, Fail),
        };

        var discountRows = new List<int>();
        var discounts = new JsonArray();
        for (var r = 0; r < DiscountRows; r++)
        {
            var at = $"pricing.discounts[{r}]";
            if (Checked($"{at}.remove") || (Value($"{at}.id").Trim().Length == 0 && Value($"{at}.percentOff").Trim().Length == 0))
            {
                continue;
            }

            discountRows.Add(r);
            discounts.Add(new JsonObject
            {
                ["id"] = Value($"{at}.id").Trim(),
                ["name"] = Value($"{at}.name").Trim() is { Length: > 0 } name ? name : null,
                ["percentOff"] = Decimal($"{at}.percentOff", Fail),
                ["when"] = new JsonObject
                {
                    ["daysOfMonth"] = Integers($"{at}.when.daysOfMonth", Fail),
                    ["weekdays"] = Strings(_multi.GetValueOrDefault($"{at}.when.weekdays") ?? []),
                    ["lunarDaysOfMonth"] = Integers($"{at}.when.lunarDaysOfMonth", Fail),
                    ["dateRanges"] = Ranges($"{at}.when.dateRanges", Fail),
                    ["birthday"] = Checked($"{at}.when.birthday"),
                },
                ["tiers"] = List($"{at}.tiers"),
            });
        }

        foreach (var section in Sections)
        {
            var key = "section." + section;
            var node = Section(key, FailJson);
            if (node is not null && node is not JsonObject)
            {
                Fail(key, "This section is a JSON object: { … }.");
                continue;
            }

            var value = node as JsonObject;
            switch (section)
            {
                case "pricing":
                    value ??= [];
                    if (value.ContainsKey("discounts"))
                    {
                        Fail(key, "Member days and other discounts are edited in their own section.");
                        continue;
                    }

                    value["discounts"] = discounts;
                    doc["pricing"] = value;
                    break;
                case "other":
                    foreach (var name in OtherKeys(doc))
                    {
                        doc.Remove(name);
                    }

                    foreach (var (name, child) in value ?? [])
                    {
                        if (Structured.Contains(name) || Sections.Contains(name))
                        {
                            Fail(key, $"'{name}' is edited in its own section.");
                            continue;
                        }

                        doc[name] = child?.DeepClone();
                    }

                    break;
                default:
                    if (value is null)
                    {
                        doc.Remove(section);
                    }
                    else
                    {
                        doc[section] = value;
                    }

                    break;
            }
        }

        return new Built(doc.ToJsonString(), errors, tierRows, discountRows);
    }

    /// <summary>The form field that shows a program file path's error ("" for the page).</summary>
    public static string FieldFor(string? path, IReadOnlyList<int> tierRows, IReadOnlyList<int> discountRows)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "";
        }

        if (path is "effectiveFrom" or "name")
        {
            return path;
        }

        if (Row(path, "tiers", tierRows, TierFields) is { } tier)
        {
            return tier;
        }

        if (Row(path, "pricing.discounts", discountRows, DiscountFields) is { } discount)
        {
            return discount;
        }

        if (path.StartsWith("earning", StringComparison.Ordinal))
        {
            return EarningFields.FirstOrDefault(f => path == f || path.StartsWith(f + ".", StringComparison.Ordinal) || path.StartsWith(f + "[", StringComparison.Ordinal)) ?? "earning.amountPerPoint";
        }

        var top = TopPattern().Match(path).Value;
        return top switch
        {
            "code" or "version" or "" => "",
            "tiers" => "tiers",
            _ when Sections.Contains(top) => "section." + top,
            _ => "section.other",
        };
    }

    private static string? Row(string path, string list, IReadOnlyList<int> rows, string[] fields)
    {
        if (!path.StartsWith(list + "[", StringComparison.Ordinal))
        {
            return null;
        }

        var close = path.IndexOf(']', list.Length);
        if (close < 0 || !int.TryParse(path.AsSpan(list.Length + 1, close - list.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var built))
        {
            return null;
        }

        var at = $"{list}[{(built < rows.Count ? rows[built] : built)}]";
        var rest = path[(close + 1)..].TrimStart('.');
        return fields.FirstOrDefault(f => rest == f || rest.StartsWith(f + ".", StringComparison.Ordinal) || rest.StartsWith(f + "[", StringComparison.Ordinal)) is { } field
            ? $"{at}.{field}"
            : at;
    }

    /// <summary>The top-level properties the "other" section holds: all but the fields and the other sections.</summary>
    private static List<string> OtherKeys(JsonObject doc) =>
        [.. doc.Select(p => p.Key).Where(k => !Structured.Contains(k) && !Sections.Contains(k))];

    private static JsonNode? SectionOf(JsonObject doc, string section)
    {
        if (section == "other")
        {
            var other = new JsonObject();
            foreach (var key in OtherKeys(doc))
            {
                other[key] = doc[key]?.DeepClone();
            }

            return other;
        }

        var node = doc[section]?.DeepClone();
        if (section == "pricing" && node is JsonObject pricing)
        {
            pricing.Remove("discounts");
        }

        return node;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = ProgramFile.Json.Encoder };

    private JsonNode? Section(string key, Action<string, string> fail)
    {
        var text = Value(key).Trim();
        if (text.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text, documentOptions: Lenient);
        }
        catch (JsonException e)
        {
            fail(key, e.Message.Split(" Path:", 2)[0]);
            return null;
        }
    }

    private JsonNode Long(string key, long empty, Action<string, string> fail)
    {
        var text = Value(key).Trim();
        if (text.Length == 0)
        {
            return empty;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }

        fail(key, "Enter a whole number.");
        return empty;
    }

    private JsonNode Decimal(string key, Action<string, string> fail)
    {
        var text = Value(key).Trim();
        if (text.Length == 0)
        {
            return 0m;
        }

        if (decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }

        fail(key, "Enter a number.");
        return 0m;
    }

    private JsonArray Integers(string key, Action<string, string> fail)
    {
        var list = new JsonArray();
        foreach (var part in Split(Value(key)))
        {
            if (int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                list.Add(n);
            }
            else
            {
                fail(key, "Enter whole numbers separated by commas.");
                break;
            }
        }

        return list;
    }

    private JsonArray Ranges(string key, Action<string, string> fail)
    {
        var list = new JsonArray();
        foreach (var line in Value(key).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            var parts = line.Split('~', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2
                && DateOnly.TryParseExact(parts[0], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                && DateOnly.TryParseExact(parts[1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                list.Add(new JsonObject { ["from"] = parts[0], ["to"] = parts[1] });
            }
            else
            {
                fail(key, "One range a line: yyyy-MM-dd~yyyy-MM-dd.");
                break;
            }
        }

        return list;
    }

    private JsonArray List(string key) => Strings(Split(Value(key)));

    private static JsonArray Strings(IEnumerable<string> values) =>
        [.. values.Select(v => v.Trim()).Where(v => v.Length > 0).Select(v => (JsonNode)v)];

    private static IEnumerable<string> Split(string text) =>
        text.Split([',', '，', '\n'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static string Or(string value, string fallback) => value.Trim() is { Length: > 0 } v ? v : fallback;

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(tiers|pricing\.discounts)\[(\d{1,3})\]\.")]
    private static partial Regex RowPattern();

    [GeneratedRegex(@"^[A-Za-z]*")]
    private static partial Regex TopPattern();

    /// <summary>A program file made of the fields, with the stored rows each built row came from.</summary>
    public sealed record Built(string Json, IReadOnlyList<DomainError> Errors, IReadOnlyList<int> TierRows, IReadOnlyList<int> DiscountRows);
}
