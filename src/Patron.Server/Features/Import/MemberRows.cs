using System.Globalization;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Programs;

namespace Patron.Server.Features.Import;

/// <summary>A member from the file, checked on its own: what the importer writes.</summary>
public sealed record MemberRow(
    int Row,
    string Name,
    string Mobile,
    Gender Gender,
    DateOnly? Birthday,
    string? IdNumber,
    string? CardNumber,
    long StoreId,
    DateTime EnrolledAt,
    string Channel,
    string? Tier,
    long Points,
    DateTime? PointsExpireAt,
    long StoredPrincipal,
    long StoredBonus);

/// <summary>Why a row was refused: the column at fault (null for the whole row), a stable code and a message.</summary>
public sealed record RowError(int Row, string? Column, string Code, string Message);

/// <summary>
/// The columns of a member file and the checks a row must pass on its own (the importer adds
/// the checks against the file's other rows and the database). Headers are matched without case,
/// in English or Chinese; unknown columns are refused so that nothing is silently dropped.
/// </summary>
public sealed class MemberRows
{
    public static readonly IReadOnlyList<(string Column, string[] Aliases, bool Required)> Columns =
    [
        ("name", ["姓名"], true),
        ("mobile", ["手机", "手机号"], true),
        ("gender", ["性别"], false),
        ("birthday", ["生日", "出生日期"], false),
        ("id_number", ["身份证", "身份证号"], false),
        ("card_number", ["卡号", "会员卡号"], false),
        ("store", ["门店", "门店编码"], false),
        ("enrolled_at", ["入会日期", "入会时间"], false),
        ("channel", ["来源", "渠道"], false),
        ("tier", ["等级", "会员等级"], false),
        ("points", ["积分"], false),
        ("points_expire", ["积分到期", "积分有效期"], false),
        ("stored_principal", ["储值本金", "储值余额"], false),
        ("stored_bonus", ["储值赠送", "赠送余额"], false),
    ];

    private static readonly Dictionary<string, int> Position = Columns.Select((c, i) => (c.Column, i)).ToDictionary(x => x.Column, x => x.i);

    public const long MaxPoints = 100_000_000;

    /// <summary>Imported card numbers stay below this sequence, so the program can always number new cards.</summary>
    public const long MaxImportedSequence = 98_999_999;
    public const long MaxStoredValue = 10_000_000_00;

    private readonly int[] _index;
    private readonly int _fields;

    private MemberRows(int[] index, int fields)
    {
        _index = index;
        _fields = fields;
    }

    /// <summary>Maps the header; the errors name unknown, repeated and missing columns.</summary>
    public static (MemberRows? Rows, List<RowError> Errors) FromHeader(IReadOnlyList<string> header)
    {
        var errors = new List<RowError>();
        var index = Enumerable.Repeat(-1, Columns.Count).ToArray();
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].Trim().TrimStart('\uFEFF');
            var k = -1;
            for (var c = 0; c < Columns.Count; c++)
            {
                if (string.Equals(Columns[c].Column, name, StringComparison.OrdinalIgnoreCase) || Columns[c].Aliases.Contains(name))
                {
                    k = c;
                }
            }

            if (k < 0)
            {
                // A file without a header row has a phone or ID number here: it is named by position, never repeated.
                var shown = name.Count(char.IsAsciiDigit) >= 6 ? $"#{i + 1}" : name;
                var hint = shown == name ? "" : " (this looks like a value: does the file start with a header row?)";
                errors.Add(new(1, shown, "import.column_unknown", $"Unknown column \"{shown}\"{hint}; the columns are {string.Join(", ", Columns.Select(c => c.Column))}."));
            }
            else if (index[k] >= 0)
            {
                errors.Add(new(1, name, "import.column_repeated", $"Column {Columns[k].Column} appears twice."));
            }
            else
            {
                index[k] = i;
            }
        }

        for (var c = 0; c < Columns.Count; c++)
        {
            if (Columns[c].Required && index[c] < 0)
            {
                errors.Add(new(1, Columns[c].Column, "import.column_missing", $"The file has no {Columns[c].Column} column."));
            }
        }

        return (errors.Count == 0 ? new MemberRows(index, header.Count) : null, errors);
    }

    public sealed record Context(
        ProgramDefinition? Rules,
        string CardPrefix,
        IReadOnlyDictionary<string, long> StoresByCode,
        long DefaultStoreId,
        TimeZoneInfo Zone,
        DateTime NowUtc);

    /// <summary>The card number of a row, trimmed, or null.</summary>
    public string? CardNumber(IReadOnlyList<string> fields)
    {
        var i = _index[Position["card_number"]];
        return i < 0 || i >= fields.Count ? null : fields[i].Trim() is { Length: > 0 } v ? v : null;
    }

    /// <summary>The row as a member, or the reasons it cannot be one; a value no check foresaw refuses the row, never the file.</summary>
    public (MemberRow? Member, List<RowError> Errors) Check(int row, IReadOnlyList<string> fields, Context ctx)
    {
        try
        {
            return CheckRow(row, fields, ctx);
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or FormatException)
        {
            return (null, [new RowError(row, null, "import.row_invalid", "The row has a value that cannot be read: " + e.GetType().Name + ".")]);
        }
    }

    private (MemberRow? Member, List<RowError> Errors) CheckRow(int row, IReadOnlyList<string> fields, Context ctx)
    {
        var errors = new List<RowError>();
        if (fields.Count != _fields)
        {
            errors.Add(new(row, null, "import.field_count", $"The row has {fields.Count} fields; the header has {_fields}."));
            return (null, errors);
        }

        string? Get(string column)
        {
            var i = _index[Position[column]];
            return i < 0 ? null : fields[i].Trim() is { Length: > 0 } v ? v : null;
        }

        void Fail(string column, string code, string message) => errors.Add(new(row, column, code, message));

        var name = Get("name");
        if (name is null)
        {
            Fail("name", "import.name_required", "The name is empty.");
        }
        else if (name.Any(char.IsControl))
        {
            Fail("name", "import.name_invalid", "The name has control characters.");
        }
        else if (name.Length > Member.NameMaxLength)
        {
            Fail("name", "import.name_too_long", $"The name is longer than {Member.NameMaxLength} characters.");
        }

        var mobile = "";
        if (!ChineseMobile.TryNormalize(Get("mobile"), out mobile))
        {
            Fail("mobile", "import.mobile_invalid", "Not a mainland mobile number (11 digits starting with 1).");
        }

        var gender = Gender.Unknown;
        switch (Get("gender")?.ToLowerInvariant())
        {
            case null or "未知" or "u" or "0":
                break;
            case "男" or "m" or "male" or "1":
                gender = Gender.Male;
                break;
            case "女" or "f" or "female" or "2":
                gender = Gender.Female;
                break;
            default:
                Fail("gender", "import.gender_invalid", "Gender is 男 or 女 (M or F), or empty.");
                break;
        }

        DateOnly? birthday = null;
        if (Get("birthday") is { } b)
        {
            if (TryDate(b, out var d) && d.Year >= 1900 && d <= DateOnly.FromDateTime(ctx.NowUtc))
            {
                birthday = d;
            }
            else
            {
                Fail("birthday", "import.birthday_invalid", "The birthday is not a past date (yyyy-MM-dd).");
            }
        }

        string? idNumber = null;
        if (Get("id_number") is { } id)
        {
            if (!ChineseIdNumber.TryNormalize(id, out var normalized, out var born))
            {
                Fail("id_number", "import.id_number_invalid", "Not a valid 18-character resident ID number (check digit, date).");
            }
            else
            {
                idNumber = normalized;
                if (birthday is { } given && given != born)
                {
                    Fail("birthday", "import.birthday_mismatch", "The birthday differs from the one in the ID number.");
                }

                birthday ??= born;
                if (gender == Gender.Unknown)
                {
                    gender = ChineseIdNumber.GenderOf(normalized);
                }
            }
        }

        string? card = null;
        if (Get("card_number") is { } number)
        {
            if (!number.All(char.IsAsciiDigit) || number.Length != ctx.CardPrefix.Length + Domain.Cards.CardNumber.SequenceDigits + 1)
            {
                Fail("card_number", "import.card_invalid", $"A card number is {ctx.CardPrefix.Length + Domain.Cards.CardNumber.SequenceDigits + 1} digits.");
            }
            else if (!number.StartsWith(ctx.CardPrefix, StringComparison.Ordinal))
            {
                Fail("card_number", "import.card_prefix", $"Cards of this program start with {ctx.CardPrefix}.");
            }
            else if (Domain.Cards.CardNumber.LuhnDigit(number.AsSpan(0, number.Length - 1)) != number[^1])
            {
                Fail("card_number", "import.card_check_digit", "The card number's last (check) digit is wrong.");
            }
            else if (long.Parse(number.AsSpan(ctx.CardPrefix.Length, Domain.Cards.CardNumber.SequenceDigits), CultureInfo.InvariantCulture) > MaxImportedSequence)
            {
                Fail("card_number", "import.card_sequence_reserved", "Card numbers this high are kept for the cards Patron issues.");
            }
            else
            {
                card = number;
            }
        }

        var storeId = ctx.DefaultStoreId;
        if (Get("store") is { } store)
        {
            if (!ctx.StoresByCode.TryGetValue(store, out storeId))
            {
                Fail("store", "import.store_unknown", $"No store {store} in this program.");
            }
        }

        var enrolled = ctx.NowUtc;
        if (Get("enrolled_at") is { } e)
        {
            if (TryDateTime(e, ctx.Zone, out var at) && at <= ctx.NowUtc && at.Year >= 1990)
            {
                enrolled = at;
            }
            else
            {
                Fail("enrolled_at", "import.enrolled_at_invalid", "The enrolment date is not a past date (yyyy-MM-dd or yyyy-MM-dd HH:mm).");
            }
        }

        var channel = Get("channel") ?? "other";
        if (!AcquisitionChannels.IsKnown(channel))
        {
            Fail("channel", "import.channel_unknown", $"The channel is one of {string.Join(", ", AcquisitionChannels.All)}.");
        }

        string? tier = null;
        if (Get("tier") is { } t)
        {
            tier = ctx.Rules?.Tiers.FirstOrDefault(x => x.Code == t || x.Name == t)?.Code;
            if (tier is null)
            {
                Fail("tier", "import.tier_unknown", $"The program has no tier {t}.");
            }
        }

        long points = 0;
        if (Get("points") is { } p && !(long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out points) && points <= MaxPoints))
        {
            Fail("points", "import.points_invalid", $"Points are a whole number from 0 to {MaxPoints}.");
        }

        DateTime? expires = null;
        if (Get("points_expire") is { } pe)
        {
            if (TryDate(pe, out var d) && d > DateOnly.FromDateTime(ctx.NowUtc) && d.Year < 9999)
            {
                expires = TimeZoneInfo.ConvertTimeToUtc(d.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), ctx.Zone);
            }
            else
            {
                Fail("points_expire", "import.points_expire_invalid", "The points' expiry is a future date (yyyy-MM-dd).");
            }
        }

        var principal = Fen(Get("stored_principal"), "stored_principal", Fail);
        var bonus = Fen(Get("stored_bonus"), "stored_bonus", Fail);
        if ((principal > 0 || bonus > 0) && ctx.Rules is { StoredValue.Enabled: false })
        {
            Fail("stored_principal", "import.stored_value_disabled", "This program has no stored value.");
        }

        return errors.Count > 0 || name is null
            ? (null, errors)
            : (new MemberRow(row, name, mobile, gender, birthday, idNumber, card, storeId, enrolled, channel, tier, points, expires, principal, bonus), errors);
    }

    private static long Fen(string? yuan, string column, Action<string, string, string> fail)
    {
        if (yuan is null)
        {
            return 0;
        }

        if (decimal.TryParse(yuan, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) && v <= MaxStoredValue / 100m && decimal.Round(v, 2) == v)
        {
            return (long)(v * 100);
        }

        fail(column, "import.amount_invalid", "An amount in yuan, not negative, with at most two decimals.");
        return 0;
    }

    private static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyy-M-d", "yyyy/M/d", "yyyy/MM/dd", "yyyyMMdd", "yyyy.M.d"];

    private static bool TryDate(string s, out DateOnly date) =>
        DateOnly.TryParseExact(s, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    private static bool TryDateTime(string s, TimeZoneInfo zone, out DateTime utc)
    {
        utc = default;
        if (TryDate(s, out var d))
        {
            utc = TimeZoneInfo.ConvertTimeToUtc(d.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Unspecified), zone);
            return true;
        }

        if (DateTime.TryParseExact(s, ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy/M/d H:mm", "yyyy/M/d H:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            && !zone.IsInvalidTime(local))
        {
            utc = TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), zone);
            return true;
        }

        return false;
    }
}
