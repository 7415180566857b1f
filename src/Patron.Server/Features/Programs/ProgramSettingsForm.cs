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
/// reports for a path is shown beside the field of that path. Tiers, earning basics, member days and
/// the sections of <see cref="ProgramSettingsFields"/> (cards, stored value, catalogue, coupons,
/// expiry, pricing) are fields; every other top-level property is one JSON box (<c>section.other</c>).
/// The fields are merged into the stored file (a list row into the stored row it came from, so
/// anything the form does not show is kept) and validated by the same <see cref="ProgramFile"/>
/// parser as an imported file.
/// </summary>
public sealed partial class ProgramSettingsForm
{
    /// <summary>The JSON sections, each the program file's property of that name.</summary>
    public static readonly string[] Sections = ["other"];

    public static readonly string[] TierKinds = ["manual", "cumulative_points", "cumulative_spend", "single_purchase", "single_top_up", "annual_fee"];

    public static readonly string[] Roundings = ["down", "half_up", "up"];

    public static readonly string[] Weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

    public const string FieldInvalid = "settings.field_invalid";

    public const string JsonInvalid = "settings.json_invalid";

    private static readonly string[] Structured = ["code", "name", "version", "effectiveFrom", "tiers", "earning", .. ProgramSettingsFields.Sections];

    /// <summary>The error of a blank number the file has no default for.</summary>
    public const string RequiredMessage = "Required.";

    private static readonly string[] TierFields = ["code", "name", "qualification.kind", "qualification.threshold", "percentOff", "pointsMultiplierPercent", "onPromotion", "benefits", "retention"];

    private static readonly string[] DiscountFields = ["id", "name", "percentOff", "tiers", "when.daysOfMonth", "when.weekdays", "when.lunarDaysOfMonth", "when.dateRanges", "when.birthday"];

    private static readonly string[] EarningFields = ["earning.amountPerPoint", "earning.rounding", "earning.minimumReceipt", "earning.birthdayMultiplierPercent", "earning.excluded.flags", "earning.excluded.categories", "earning.excluded.brands", "earning.excluded.skus", "earning.excludedPaymentMethods"];

    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false };

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _multi = new(StringComparer.Ordinal);

    public int TierRows { get; private set; }

    public int DiscountRows { get; private set; }

    private readonly Dictionary<string, int> _rows = new(StringComparer.Ordinal);

    /// <summary>How many rows the page shows of a list of <see cref="ProgramSettingsFields"/>.</summary>
    public int Rows(string list) => _rows.GetValueOrDefault(list);

    /// <summary>One more empty row of a list (the "add a row" button); false for a list the form does not have.</summary>
    public bool AddRow(string? list)
    {
        switch (list)
        {
            case "tiers":
                TierRows = Math.Min(TierRows + 1, MaxRows);
                return true;
            case "pricing.discounts":
                DiscountRows = Math.Min(DiscountRows + 1, MaxRows);
                return true;
            case not null when ProgramSettingsFields.ListGroup(list) is { } group:
                var row = Rows(list);
                _rows[list] = Math.Min(row + 1, MaxRows);
                foreach (var field in group.Fields.Where(f => f.NewRow is not null))
                {
                    _values.TryAdd($"{list}[{row}].{field.Path}", field.NewRow!);
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>The most rows of one list the form carries (a catalogue or member prices may be long).</summary>
    private const int MaxRows = 5000;

    /// <summary>The most values the editor's form may post (ASP.NET Core's default of 1024 is a few dozen coupon templates).</summary>
    public const int MaxFormValues = 200_000;

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

        foreach (var group in ProgramSettingsFields.All)
        {
            if (group.List is null)
            {
                foreach (var field in group.Fields)
                {
                    form.Show(field.Path, field, Find(doc, field.Path));
                }

                continue;
            }

            var rows = Find(doc, group.List) as JsonArray ?? [];
            for (var i = 0; i < rows.Count; i++)
            {
                var at = $"{group.List}[{i}]";
                form._values[$"{at}.from"] = Num(i);
                foreach (var field in group.Fields)
                {
                    form.Show($"{at}.{field.Path}", field, Find(rows[i], field.Path));
                }
            }

            form._rows[group.List] = rows.Count;
            if (withBlankRows)
            {
                form.AddRow(group.List);
            }
        }

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
                if (row > MaxRows)
                {
                    continue;
                }

                var list = m.Groups[1].Value;
                if (list == "tiers")
                {
                    form.TierRows = Math.Max(form.TierRows, row);
                }
                else if (list == "pricing.discounts")
                {
                    form.DiscountRows = Math.Max(form.DiscountRows, row);
                }
                else if (ProgramSettingsFields.ListGroup(list) is not null)
                {
                    form._rows[list] = Math.Max(form.Rows(list), row);
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
                    ["threshold"] = Or(Value($"{at}.qualification.kind"), "manual") == "manual"
                        ? Long($"{at}.qualification.threshold", 0, Fail)
                        : Required($"{at}.qualification.threshold", Fail),
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
                ["percentOff"] = Value($"{at}.percentOff").Trim().Length == 0 ? Missing($"{at}.percentOff", Fail) : Decimal($"{at}.percentOff", Fail),
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

        var rowsOf = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal) { ["tiers"] = tierRows, ["pricing.discounts"] = discountRows };
        foreach (var group in ProgramSettingsFields.All)
        {
            if (group.List is null)
            {
                foreach (var field in group.Fields)
                {
                    Put(doc, field.Path, Read(field.Path, field, p => Value(p), Fail));
                }

                continue;
            }

            var stored = Find(doc, group.List) as JsonArray ?? [];
            var list = new JsonArray();
            var posted = new List<int>();
            for (var r = 0; r < Rows(group.List); r++)
            {
                var at = $"{group.List}[{r}]";
                if (Checked($"{at}.remove") || group.KeyFields.All(k => Value($"{at}.{k}").Trim().Length == 0))
                {
                    continue;
                }

                var row = int.TryParse(Value($"{at}.from"), NumberStyles.None, CultureInfo.InvariantCulture, out var from) && from < stored.Count && stored[from] is JsonObject origin
                    ? origin.DeepClone().AsObject()
                    : [];
                foreach (var field in group.Fields)
                {
                    Put(row, field.Path, Read($"{at}.{field.Path}", field, p => Value($"{at}.{p}"), Fail));
                }

                posted.Add(r);
                list.Add(row);
            }

            Put(doc, group.List, list);
            rowsOf[group.List] = posted;
        }

        Put(doc, "pricing.discounts", discounts);

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

        return new Built(doc.ToJsonString(), errors, rowsOf);
    }

    /// <summary>A field's value for the page, from the stored file's node.</summary>
    private void Show(string key, SettingField field, JsonNode? node)
    {
        switch (field.Type)
        {
            case SettingType.Flag:
                _values[key] = node is JsonValue v && v.TryGetValue<bool>(out var b) && b ? "true" : "";
                break;
            case SettingType.Weekdays:
                _multi[key] = [.. (node as JsonArray ?? []).Select(Text)];
                break;
            case SettingType.List or SettingType.Integers:
                _values[key] = string.Join(", ", (node as JsonArray ?? []).Select(Text));
                break;
            case SettingType.Lines:
                _values[key] = string.Join('\n', (node as JsonArray ?? []).Select(Text));
                break;
            default:
                _values[key] = Text(node);
                break;
        }
    }

    /// <summary>
    /// A field's value for the file: null removes the property (the file's default applies), so a
    /// blank number is the default, or "required" where <see cref="SettingField.RequiredWhen"/> says the file has none.
    /// </summary>
    private JsonNode? Read(string key, SettingField field, Func<string, string> sibling, Action<string, string> fail)
    {
        var text = Value(key).Trim();
        switch (field.Type)
        {
            case SettingType.Flag:
                return Checked(key);
            case SettingType.Weekdays:
                return Strings(_multi.GetValueOrDefault(key) ?? []);
            case SettingType.List:
                return List(key);
            case SettingType.Lines:
                return Strings(Value(key).Split('\n'));
            case SettingType.Integers:
                return Integers(key, fail);
            case SettingType.Text:
                return text;
        }

        if (text.Length == 0)
        {
            return field.RequiredWhen is { } required && required(sibling) ? Missing(key, fail) : null;
        }

        switch (field.Type)
        {
            case SettingType.Number:
                return Long(key, 0, fail);
            case SettingType.Decimal:
                return Decimal(key, fail);
            case SettingType.Date:
                if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                {
                    return text;
                }

                fail(key, "Enter a date as yyyy-MM-dd.");
                return null;
            case SettingType.Choice when !field.Choices.Any(c => c.Value == text):
                fail(key, "Choose one of the options.");
                return null;
            case SettingType.LongText:
                return text.ReplaceLineEndings("\n"); // browsers send a text box's line breaks as CR LF
            default:
                return text;
        }
    }

    /// <summary>A blank number the file has no default for: refused beside the field.</summary>
    private static JsonNode? Missing(string key, Action<string, string> fail)
    {
        fail(key, RequiredMessage);
        return null;
    }

    private JsonNode Required(string key, Action<string, string> fail) =>
        Value(key).Trim().Length == 0 ? Missing(key, fail) ?? (JsonNode)0 : Long(key, 0, fail);

    /// <summary>The node at a dotted path (no indexes), or null.</summary>
    private static JsonNode? Find(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }

        return node;
    }

    /// <summary>Sets (or, for null, removes) the property at a dotted path, making the objects on the way.</summary>
    private static void Put(JsonObject root, string path, JsonNode? value)
    {
        var parts = path.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            if (node[part] is not JsonObject next)
            {
                next = [];
                node[part] = next;
            }

            node = next;
        }

        if (value is null)
        {
            node.Remove(parts[^1]);
        }
        else
        {
            node[parts[^1]] = value;
        }
    }

    /// <summary>The form field that shows a program file path's error ("" for the page).</summary>
    public static string FieldFor(string? path, IReadOnlyDictionary<string, IReadOnlyList<int>> rows)
    {
        IReadOnlyList<int> RowsOf(string list) => rows.GetValueOrDefault(list) ?? [];

        if (string.IsNullOrEmpty(path))
        {
            return "";
        }

        if (path is "effectiveFrom" or "name")
        {
            return path;
        }

        if (Row(path, "tiers", RowsOf("tiers"), TierFields) is { } tier)
        {
            return tier;
        }

        if (Row(path, "pricing.discounts", RowsOf("pricing.discounts"), DiscountFields) is { } discount)
        {
            return discount;
        }

        foreach (var group in ProgramSettingsFields.All)
        {
            if (group.List is not null && Row(path, group.List, RowsOf(group.List), [.. group.Fields.Select(f => f.Path)]) is { } row)
            {
                return row;
            }
        }

        foreach (var field in ProgramSettingsFields.All.Where(g => g.List is null).SelectMany(g => g.Fields))
        {
            if (path == field.Path || path.StartsWith(field.Path + ".", StringComparison.Ordinal) || path.StartsWith(field.Path + "[", StringComparison.Ordinal))
            {
                return field.Path;
            }
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
            _ when ProgramSettingsFields.Sections.Contains(top) => top,
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

        return doc[section]?.DeepClone();
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

    [GeneratedRegex(@"^([A-Za-z]+(?:\.[A-Za-z]+)?)\[(\d{1,4})\]\.")]
    private static partial Regex RowPattern();

    [GeneratedRegex(@"^[A-Za-z]*")]
    private static partial Regex TopPattern();

    /// <summary>A program file made of the fields, with the stored rows each built row came from.</summary>
    public sealed record Built(string Json, IReadOnlyList<DomainError> Errors, IReadOnlyDictionary<string, IReadOnlyList<int>> Rows);
}
