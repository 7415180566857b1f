using System.Globalization;
using System.Text;
using Patron.Domain.Cards;
using Patron.Domain.Members;

namespace Patron.Bench;

/// <summary>
/// Writes a member file for <c>patron import</c> as another system would export it: unique
/// phones, a share of members with an ID number and a physical card, legacy points with a tier,
/// and optionally stored value. Deterministic for a seed.
/// </summary>
public static class MembersCsv
{
    public sealed record Settings(int Rows, string Path, string CardPrefix, IReadOnlyList<string> Stores, IReadOnlyList<string> Tiers, int IdPercent, int CardPercent, int StoredValuePercent, int Seed);

    public static void Write(Settings s, TextWriter log)
    {
        var random = new Random(s.Seed);
        using var writer = new StreamWriter(s.Path, false, new UTF8Encoding(true), 1 << 20);
        writer.Write("name,mobile,gender,birthday,id_number,card_number,store,enrolled_at,channel,tier,points,stored_principal,stored_bonus\r\n");
        var surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗";
        var given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华";
        var sb = new StringBuilder(256);
        for (var i = 0; i < s.Rows; i++)
        {
            sb.Clear();
            var name = $"{surnames[random.Next(surnames.Length)]}{given[random.Next(given.Length)]}{given[random.Next(given.Length)]}";
            var mobile = "15" + i.ToString("D9", CultureInfo.InvariantCulture);
            var born = new DateOnly(1950, 1, 1).AddDays(random.Next(20_000));
            var female = random.Next(2) == 0;
            string id = "", birthday = born.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (random.Next(100) < s.IdPercent)
            {
                // Region and sequence follow the row number, so no two rows share an ID number.
                var region = (110000 + (i / 500 % 90_000)).ToString(CultureInfo.InvariantCulture);
                var body = region + born.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + (i % 500 * 2 + (female ? 0 : 1)).ToString("D3", CultureInfo.InvariantCulture);
                id = body + ChineseIdNumber.CheckCharacter(body);
            }

            var card = random.Next(100) < s.CardPercent ? CardNumber.Compose(s.CardPrefix, 10_000_000 + i) : "";
            var enrolled = new DateOnly(2015, 1, 1).AddDays(random.Next(3_900)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var points = random.Next(4) == 0 ? 0 : random.Next(1, 20_000);
            var tier = s.Tiers[random.Next(100) < 85 ? 0 : random.Next(s.Tiers.Count)];
            string principal = "", bonus = "";
            if (random.Next(100) < s.StoredValuePercent)
            {
                principal = (random.Next(1, 200_000) / 100m).ToString("0.00", CultureInfo.InvariantCulture);
                bonus = (random.Next(0, 20_000) / 100m).ToString("0.00", CultureInfo.InvariantCulture);
            }

            sb.Append(name).Append(',').Append(mobile).Append(',').Append(female ? "女" : "男").Append(',').Append(birthday).Append(',').Append(id).Append(',')
                .Append(card).Append(',').Append(s.Stores[random.Next(s.Stores.Count)]).Append(',').Append(enrolled).Append(",store,").Append(tier).Append(',')
                .Append(points.ToString(CultureInfo.InvariantCulture)).Append(',').Append(principal).Append(',').Append(bonus).Append("\r\n");
            writer.Write(sb);
            if ((i + 1) % 200_000 == 0)
            {
                log.WriteLine($"members-csv: {i + 1:N0} rows");
            }
        }

        log.WriteLine($"members-csv: {s.Rows:N0} rows written to {s.Path} ({new FileInfo(s.Path).Length / 1048576.0:0.0} MiB after flush)");
    }
}
