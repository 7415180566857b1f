using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.StoredValue;
using Patron.Server.Features.Import;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Member import on each database: a 1,000-row file with every kind of bad row gets a precise
/// report and the good rows go in with their points, stored value, tier and card; checking
/// writes nothing; an import that stops resumes where it stopped; GB18030 files are read; a value
/// repeated in the file names the row that had it first, and one already in the database is taken.
/// </summary>
public abstract class MemberImportTests(PatronApp app)
{
    private const string Header = "name,mobile,gender,birthday,id_number,card_number,store,enrolled_at,channel,tier,points,points_expire,stored_principal,stored_bonus";

    private readonly bool _available = app.EnsureAvailable();

    /// <summary>Each bad row and the code its report must carry.</summary>
    private static readonly (string Code, Func<Good, string> Row)[] BadRows =
    [
        ("import.field_count", g => g.Line() + ",extra"),
        ("import.name_required", g => g.Line(name: "")),
        ("import.name_too_long", g => g.Line(name: new string('王', 51))),
        ("import.mobile_invalid", g => g.Line(mobile: "1234567")),
        ("import.mobile_repeated", g => g.Line(mobile: "REPEAT")),
        ("import.mobile_taken", g => g.Line(mobile: "TAKEN")),
        ("import.gender_invalid", g => g.Line(gender: "X")),
        ("import.birthday_invalid", g => g.Line(birthday: "2099-01-01")),
        ("import.id_number_invalid", g => g.Line(id: "110105198013010000")),
        ("import.birthday_mismatch", g => g.Line(birthday: "1970-01-01")),
        ("import.id_number_repeated", g => g.Line(id: "REPEAT")),
        ("import.card_invalid", g => g.Line(card: "12AB")),
        ("import.card_prefix", g => g.Line(card: "9901000000017")),
        ("import.card_repeated", g => g.Line(card: "REPEAT")),
        ("import.store_unknown", g => g.Line(store: "ZZ")),
        ("import.enrolled_at_invalid", g => g.Line(enrolled: "yesterday")),
        ("import.channel_unknown", g => g.Line(channel: "tiktok")),
        ("import.tier_unknown", g => g.Line(tier: "platinum")),
        ("import.points_invalid", g => g.Line(points: "-5")),
        ("import.amount_invalid", g => g.Line(principal: "12.345")),
        ("import.points_expire_invalid", g => g.Line(expire: "2020-01-01")),
        ("import.points_expire_invalid", g => g.Line(expire: "9999-12-31")),
        ("import.amount_invalid", g => g.Line(principal: "1000000000000000000000000000")),
        ("import.card_check_digit", g => g.Line(card: g.Card[..^1] + (char)('0' + ((g.Card[^1] - '0' + 1) % 10)))),
        ("import.name_invalid", g => g.Line(name: "王\u0001五")),
    ];

    [Fact]
    public async Task ImportThousandRows_WithEveryKindOfBadRow_ReportsEachPrecisely_AndImportsTheGoodOnesWithTheirBalances()
    {
        await EnsureProgramAsync();
        var taken = PatronApp.NewPhone();
        using (var a1 = app.TerminalClient(app.Org.TerminalA1))
        {
            Assert.Equal(HttpStatusCode.Created, (await a1.PostJson("/api/members", new { name = "已有会员", mobile = taken })).StatusCode);
        }

        var (csv, badRowNumbers, goods) = BuildFile(1_000, taken);
        var before = await app.WithDbAsync(db => db.Members.CountAsync());
        var jobs = await app.WithDbAsync(db => db.ImportJobs.CountAsync());

        // Checking first writes nothing and finds the same rows.
        var check = await ImportAsync(csv, checkOnly: true);
        Assert.Equal((1_000, BadRows.Length), (check.Rows, check.Rejected));
        Assert.Equal(before, await app.WithDbAsync(db => db.Members.CountAsync()));
        Assert.Equal(jobs, await app.WithDbAsync(db => db.ImportJobs.CountAsync()));

        var report = await ImportAsync(csv, chunk: 128);
        Assert.Equal((1_000, 1_000 - BadRows.Length, BadRows.Length), (report.Rows, report.Imported, report.Rejected));
        foreach (var (code, row) in badRowNumbers)
        {
            Assert.Contains(report.Errors, e => e.Row == row && e.Code == code);
        }

        Assert.All(report.Errors, e => Assert.Contains(e.Row, badRowNumbers.Select(b => b.Row)));
        Assert.Equal(before + 1_000 - BadRows.Length, await app.WithDbAsync(db => db.Members.CountAsync()));

        // The report is kept with the job, downloadable as CSV that Excel opens.
        var job = await app.WithDbAsync(db => db.ImportJobs.AsNoTracking().SingleAsync(j => j.Id == report.JobId));
        Assert.Equal((Data.ImportStatus.Completed, 1_000, 1_000 - BadRows.Length, BadRows.Length), (job.Status, job.DoneRows, job.Imported, job.Rejected));
        Assert.Equal(BadRows.Length, await app.WithDbAsync(db => db.ImportErrors.Where(e => e.JobId == job.Id).Select(e => e.Row).Distinct().CountAsync()));
        var errorCsv = MemberImporter.ErrorCsv(report.Errors);
        Assert.Equal(Encoding.UTF8.GetPreamble(), errorCsv[..3]);
        Assert.DoesNotContain(taken, Encoding.UTF8.GetString(errorCsv));

        // A good row arrived whole: card, tier, points lot and entry, stored value lot and entry, encrypted ID number.
        var sample = goods.Where(g => g.HasCard).Skip(3).First();
        var (member, card, account, lots, entries, purse, purseEntries) = await app.WithDbAsync(async db =>
        {
            var m = await db.Members.AsNoTracking().SingleAsync(x => x.Mobile == sample.Mobile);
            return (m,
                await db.Cards.AsNoTracking().SingleAsync(c => c.MemberId == m.Id),
                await db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == m.Id),
                await db.PointsLots.AsNoTracking().Where(l => l.MemberId == m.Id).ToListAsync(),
                await db.PointsEntries.AsNoTracking().Where(e => e.MemberId == m.Id).ToListAsync(),
                await db.StoredValueLots.AsNoTracking().Where(l => l.MemberId == m.Id).ToListAsync(),
                await db.StoredValueEntries.AsNoTracking().Where(e => e.MemberId == m.Id).ToListAsync());
        });
        Assert.Equal((sample.Name, Gender.Female, app.Org.StoreA2), (member.Name, member.Gender, member.EnrolStoreId));
        Assert.Equal(sample.Card, card.Number);
        Assert.Equal(("silver", 1_234L, 10_050L, 2_000L), (account.Tier, account.Balance, account.StoredPrincipal, account.StoredBonus));
        Assert.Equal(1_234, lots.Single().Remaining);
        Assert.Equal((1_234L, PointsCause.Import), (entries.Single().Points, entries.Single().Cause));
        Assert.Equal((10_050L, 2_000L), (purse.Single().PrincipalLeft, purse.Single().BonusLeft));
        Assert.Equal(StoredValueCause.Import, purseEntries.Single().Cause);
        Assert.NotNull(member.IdNumberCipher);
        Assert.DoesNotContain(sample.IdNumber, member.IdNumberCipher);
        Assert.Equal(sample.IdNumber[^4..], member.IdNumberTail);

        // Members without a card number got one from the program's sequence, above every imported number.
        var generated = await app.WithDbAsync(db => db.Cards.AsNoTracking().Where(c => c.Kind == Domain.Cards.CardKind.Virtual).Select(c => c.Number).ToListAsync());
        Assert.All(generated, n => Assert.StartsWith("8801", n));
        Assert.Equal(generated.Count, generated.Distinct().Count());

        // The API finds an imported member by phone, and the same file again changes nothing.
        using (var a2 = app.TerminalClient(app.Org.TerminalA2))
        {
            var found = await (await a2.PostJson("/api/checkout/identify", new { phone = sample.Mobile })).ReadJson();
            Assert.Equal(1_234, found.GetProperty("points").GetInt64());
        }

        var again = await ImportAsync(csv);
        Assert.True(again.AlreadyDone);
        Assert.Equal(before + 1_000 - BadRows.Length, await app.WithDbAsync(db => db.Members.CountAsync()));
    }

    [Fact]
    public async Task AnImportThatStops_ResumesAfterItsLastChunk_WithoutDuplicates()
    {
        await EnsureProgramAsync();
        var (csv, _, _) = BuildFile(600, PatronApp.NewPhone(), bad: false);
        var before = await app.WithDbAsync(db => db.Members.CountAsync());
        var chunks = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ImportAsync(csv, chunk: 100, progress: _ =>
        {
            if (++chunks == 3)
            {
                throw new OperationCanceledException("the machine stops");
            }
        }));

        var stopped = await app.WithDbAsync(db => db.ImportJobs.AsNoTracking().OrderByDescending(j => j.Id).FirstAsync());
        Assert.Equal((Data.ImportStatus.Running, 300), (stopped.Status, stopped.DoneRows));
        Assert.Equal(before + 300, await app.WithDbAsync(db => db.Members.CountAsync()));

        var resumed = await ImportAsync(csv, chunk: 100);
        Assert.True(resumed.Resumed);
        Assert.Equal((600, 600), (resumed.Rows, resumed.Imported));
        Assert.Equal(before + 600, await app.WithDbAsync(db => db.Members.CountAsync()));
    }

    [Fact]
    public async Task AQuoteNeverClosed_StopsTheImportWithAClearError_AndABlankLastLineIsNoRow()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var problem = await Assert.ThrowsAsync<Patron.Server.Infrastructure.Problems.ProblemException>(() =>
            ImportAsync(Encoding.UTF8.GetBytes($"name,mobile\r\n\"张三,{phone}\r\n李四,{PatronApp.NewPhone()}\r\n"), checkOnly: true));
        Assert.Equal("import.csv_malformed", problem.Errors[0].Code);

        var report = await ImportAsync(Encoding.UTF8.GetBytes($"name,mobile\r\n张三,{phone}\r\n\r\n"));
        Assert.Equal((1, 1, 0), (report.Rows, report.Imported, report.Rejected));
    }

    [Fact]
    public async Task Gb18030File_IsReadAsChinese()
    {
        await EnsureProgramAsync();
        var phone = PatronApp.NewPhone();
        var text = $"姓名,手机,等级\r\n欧阳锋,{phone},银卡\r\n";
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var report = await ImportAsync(Encoding.GetEncoding("GB18030").GetBytes(text));

        Assert.Equal((1, 1), (report.Rows, report.Imported));
        var member = await app.WithDbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Mobile == phone));
        Assert.Equal("欧阳锋", member.Name);
    }

    [Fact]
    public async Task RepeatsInTheFile_NameTheRowThatHadTheValueFirst_AndValuesAlreadyInTheDatabase_AreTaken()
    {
        await EnsureProgramAsync();
        var seed = Random.Shared.Next(1, 90_000) * 1000;

        // The first member has a card and an ID number ending in X (kept as a number, like every ID number, to find repeats).
        var n = Enumerable.Range(seed, 1000).First(i => i % 2 == 0 && new Good(i, "", null, null).IdNumber.EndsWith('X'));
        var first = new Good(n, "", null, null);
        Good Next(int k) => new(n + k, "", first, first);
        var repeats = string.Join("\r\n", Header, first.Line(), Next(1).Line(mobile: "REPEAT"), Next(3).Line(id: "REPEAT"), Next(5).Line(card: "REPEAT")) + "\r\n";
        var check = await ImportAsync(Encoding.UTF8.GetBytes(repeats), checkOnly: true, chunk: 2);
        Assert.Equal((4, 3), (check.Rows, check.Rejected));
        Assert.Contains(check.Errors, e => e is { Row: 3, Code: "import.mobile_repeated" } && e.Message.EndsWith("row 2.", StringComparison.Ordinal));
        Assert.Contains(check.Errors, e => e is { Row: 4, Code: "import.id_number_repeated" } && e.Message.EndsWith("row 2.", StringComparison.Ordinal));
        Assert.Contains(check.Errors, e => e is { Row: 5, Code: "import.card_repeated" } && e.Message.EndsWith("row 2.", StringComparison.Ordinal));

        // Once the first member is in, another file with its phone, its ID number or its card is refused row by row.
        Assert.Equal(1, (await ImportAsync(Encoding.UTF8.GetBytes(string.Join("\r\n", Header, first.Line()) + "\r\n"))).Imported);
        var taken = string.Join("\r\n", Header, Next(7).Line(mobile: "REPEAT"), Next(9).Line(id: "REPEAT"), Next(11).Line(card: "REPEAT"), Next(13).Line()) + "\r\n";
        var report = await ImportAsync(Encoding.UTF8.GetBytes(taken));
        Assert.Equal((4, 1, 3), (report.Rows, report.Imported, report.Rejected));
        (int, string)[] refused = [(2, "import.mobile_taken"), (3, "import.id_number_taken"), (4, "import.card_taken")];
        Assert.Equal(refused, report.Errors.Select(e => (e.Row, e.Code)).Order().ToArray());
    }

    private async Task<ImportReport> ImportAsync(byte[] csv, bool checkOnly = false, int chunk = MemberImporter.DefaultChunk, Action<ImportProgress>? progress = null)
    {
        using var scope = app.Services.CreateScope();
        using var stream = new MemoryStream(csv);
        return await scope.ServiceProvider.GetRequiredService<MemberImporter>()
            .RunAsync(stream, "members.csv", app.Org.ProgramA, "A1", checkOnly, null, progress, TestContext.Current.CancellationToken, chunk);
    }

    private async Task EnsureProgramAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", CardsAndStoredValueTests.StoredValueProgram);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }

    /// <summary>A member file of <paramref name="rows"/> rows: good ones, and one of each bad kind spread through it.</summary>
    private static (byte[] Csv, List<(string Code, int Row)> Bad, List<Good> Goods) BuildFile(int rows, string takenPhone, bool bad = true)
    {
        var sb = new StringBuilder(Header).Append("\r\n");
        var badRows = new List<(string, int)>();
        var goods = new List<Good>();
        var spacing = rows / (BadRows.Length + 1);
        var seed = Random.Shared.Next(1, 90_000);
        for (var i = 0; i < rows; i++)
        {
            var g = new Good(seed * 1000 + i, takenPhone, goods.FirstOrDefault(), goods.FirstOrDefault(x => x.HasCard));
            var k = bad && i % spacing == spacing - 1 ? i / spacing : -1;
            if (k >= 0 && k < BadRows.Length)
            {
                sb.Append(BadRows[k].Row(g)).Append("\r\n");
                badRows.Add((BadRows[k].Code, i + 2));
            }
            else
            {
                sb.Append(g.Line()).Append("\r\n");
                goods.Add(g);
            }
        }

        return (Encoding.UTF8.GetBytes(sb.ToString()), badRows, goods);
    }

    /// <summary>A good row: unique phone, ID number and card, silver, 12.34 points, ¥100.50 + ¥20 stored value, at A2.</summary>
    private sealed class Good(int n, string takenPhone, Good? first, Good? firstWithCard)
    {
        public bool HasCard => n % 2 == 0;

        public string Name { get; } = "导入" + n;

        public string Mobile { get; } = "137" + (n % 100_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);

        public string IdNumber { get; } = Id(n);

        public string Card { get; } = Domain.Cards.CardNumber.Compose("8801", 50_000_000 + (n % 40_000_000));

        public string Line(string? name = null, string? mobile = null, string? gender = null, string? birthday = null, string? id = null, string? card = null,
            string? store = null, string? enrolled = null, string? channel = null, string? tier = null, string? points = null, string? expire = null, string? principal = null) =>
            string.Join(',',
                name ?? Name,
                mobile switch { "REPEAT" => first!.Mobile, "TAKEN" => takenPhone, null => Mobile, _ => mobile },
                gender ?? "女",
                birthday ?? "",
                id == "REPEAT" ? first!.IdNumber : id ?? IdNumber,
                card == "REPEAT" ? firstWithCard!.Card : card ?? (HasCard ? Card : ""),
                store ?? "A2",
                enrolled ?? "2020-05-06",
                channel ?? "store",
                tier ?? "银卡",
                points ?? "1234",
                expire ?? "",
                principal ?? "100.50",
                "20");

        private static string Id(int n)
        {
            // Region and date follow n, so no two test rows anywhere share an ID number.
            var body = (110000 + (n / 15_000 % 90_000)).ToString(System.Globalization.CultureInfo.InvariantCulture) + new DateOnly(1960, 1, 1).AddDays(n % 15_000).ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture) + (n % 1000).ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
            return body + ChineseIdNumber.CheckCharacter(body);
        }
    }
}

public sealed class MemberImportSqliteTests(SqliteApp app) : MemberImportTests(app), IClassFixture<SqliteApp>;

public sealed class MemberImportPostgresTests(PostgresApp app) : MemberImportTests(app), IClassFixture<PostgresApp>;
