using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Members;
using Patron.Domain.Organisation;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Members;
using Patron.Server.Features.Programs;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;
using StaffMember = Patron.Domain.Organisation.Staff;

namespace Patron.Server.Features.Demo;

/// <summary>
/// A demo chain to try Patron with: one region, one program running the P1 reference rules,
/// three stores, staff of every role, a POS terminal and 200 members with realistic names,
/// phones and birthdays, and a week of purchases. The data is the same on every run (fixed random
/// seed); the passwords are printed, never hidden.
/// </summary>
public sealed class DemoSeeder(PatronDb db, EnrollMember enrol, TerminalAdmin terminals, ProgramRules rules, CommitSale checkout, TimeProvider clock)
{
    private static readonly (string Sku, string Name, long Price, string Category, string? Flag)[] Catalogue =
    [
        ("6901001", "阿莫西林胶囊 0.25g×24粒", 1850, "drug", null),
        ("6901002", "维生素C片 100片", 1290, "vitamin", null),
        ("6901003", "板蓝根颗粒 10g×20袋", 2380, "drug", null),
        ("6901004", "医用外科口罩 50只", 3990, "device", "special_price"),
        ("6901005", "电子血压计", 19900, "device", null),
        ("6901006", "钙尔奇 碳酸钙D3片", 8800, "vitamin", null),
        ("6901007", "创可贴 100片", 990, "first_aid", "special_price"),
    ];

    public const string Password = "patron-demo";
    public const int MemberCount = 200;

    private static readonly string[] Surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹"];
    private static readonly string[] GivenFemale = ["秀英", "桂英", "丽", "敏", "静", "婷", "雪", "慧", "晓燕", "欣怡", "雨涵", "思琪", "佳怡", "梦瑶", "玉兰", "淑珍", "美玲", "红霞"];
    private static readonly string[] GivenMale = ["伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "浩然", "子轩", "宇航", "建国", "志强", "国华", "晓东", "文博"];
    private static readonly string[] MobilePrefixes = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "158", "159", "166", "177", "180", "181", "185", "186", "187", "188", "189", "191", "198", "199"];
    private static readonly string[] Regions = ["110101", "110102", "110105", "110106", "110108"];

    public async Task SeedAsync(TextWriter output, bool onlyIfEmpty, CancellationToken ct = default)
    {
        if (await db.Programs.AnyAsync(ct))
        {
            if (onlyIfEmpty)
            {
                output.WriteLine("Demo data: the database already has data; nothing added.");
                return;
            }

            throw new InvalidOperationException("seed-demo needs an empty database; point --db or --data at a new one.");
        }

        var program = new LoyaltyProgram("HYS-BJ", "好药师大药房·北京", "8801");
        var region = new Region("north", "华北区");
        db.AddRange(program, region);
        await db.SaveChangesAsync(ct);

        Store[] stores =
        [
            new("BJ001", "朝阳门店", region.Id, "北京", program.Id),
            new("BJ002", "海淀黄庄店", region.Id, "北京", program.Id),
            new("BJ003", "丰台方庄店", region.Id, "北京", program.Id),
        ];
        db.Stores.AddRange(stores);
        await db.SaveChangesAsync(ct);

        (string Login, string Name, StaffRole Role, long[] Stores)[] people =
        [
            ("admin", "系统管理员", StaffRole.Admin, []),
            ("marketing", "市场部 周敏", StaffRole.Marketing, []),
            ("auditor", "财务审计 孙丽", StaffRole.Auditor, []),
            ("manager", "店长 陈强", StaffRole.StoreManager, [stores[0].Id, stores[1].Id]),
            ("cashier1", "收银员 王静", StaffRole.Cashier, [stores[0].Id]),
            ("cashier2", "收银员 刘洋", StaffRole.Cashier, [stores[1].Id]),
            ("cashier3", "收银员 赵婷", StaffRole.Cashier, [stores[2].Id]),
        ];
        var staff = new List<StaffMember>();
        foreach (var p in people)
        {
            var s = new StaffMember(p.Login, p.Name, p.Role, p.Stores);
            s.SetPasswordHash(Staff.StaffSignIn.HashPassword(s, Password));
            staff.Add(s);
        }

        db.Staff.AddRange(staff);
        await db.SaveChangesAsync(ct);

        var admin = Caller(staff[0]);
        var terminal = await terminals.CreateAsync(stores[0].Id, new CreateTerminalRequest("朝阳门店 POS 1"), admin, ct);
        await using (var file = typeof(DemoSeeder).Assembly.GetManifestResourceStream("Patron.Demo.Program.json")!)
        {
            var draft = await rules.ImportAsync(program.Id, await new StreamReader(file).ReadToEndAsync(ct), admin, ct);
            await rules.PublishAsync(program.Id, draft.Version, admin, ct);
        }

        var rng = new Random(2026);
        var enrolled = 0;
        while (enrolled < MemberCount)
        {
            var female = rng.Next(2) == 0;
            var name = Surnames[rng.Next(Surnames.Length)] + (female ? GivenFemale[rng.Next(GivenFemale.Length)] : GivenMale[rng.Next(GivenMale.Length)]);
            var birthday = new DateOnly(1950, 1, 1).AddDays(rng.Next(365 * 55));
            var mobile = MobilePrefixes[rng.Next(MobilePrefixes.Length)] + rng.Next(0, 100_000_000).ToString("D8", CultureInfo.InvariantCulture);
            string? idNumber = null;
            if (rng.Next(3) == 0)
            {
                var seq = rng.Next(0, 500) * 2 + (female ? 0 : 1);
                var body = Regions[rng.Next(Regions.Length)] + birthday.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + seq.ToString("D3", CultureInfo.InvariantCulture);
                idNumber = body + ChineseIdNumber.CheckCharacter(body);
            }

            var request = new EnrollMemberRequest(
                name,
                mobile,
                female ? "female" : "male",
                birthday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                idNumber,
                stores[rng.Next(stores.Length)].Id,
                AcquisitionChannels.All[rng.Next(AcquisitionChannels.All.Count)]);
            try
            {
                var member = await enrol.HandleAsync(request, admin, ct);
                enrolled++;
                await BuyAsync(member.Id, request.StoreId!.Value, rng, admin, ct);
            }
            catch (ProblemException e) when (e.Status == StatusCodes.Status409Conflict)
            {
                // A random phone repeated: draw another person.
                db.ChangeTracker.Clear();
            }
        }

        output.WriteLine($"""

            Demo chain created: {program.Name}, {stores.Length} stores, {MemberCount} members.
            Console logins (password for all: {Password}):
            """);
        foreach (var p in people)
        {
            var where = p.Stores.Length == 0 ? "all stores" : string.Join(", ", stores.Where(s => p.Stores.Contains(s.Id)).Select(s => $"{s.Code} {s.Name}"));
            output.WriteLine($"  {p.Login,-10} {PatronClaims.RoleName(p.Role),-14} {where}");
        }

        output.WriteLine($"""
            POS terminal of {stores[0].Code} (X-Api-Key, shown once):
              {terminal.ApiKey}

            """);
    }

    /// <summary>Up to three purchases over the last six days, under the program's rules.</summary>
    private async Task BuyAsync(long memberId, long storeId, Random rng, CallerScope admin, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        for (var i = rng.Next(4); i > 0; i--)
        {
            var lines = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => Catalogue[rng.Next(Catalogue.Length)]).DistinctBy(c => c.Sku)
                .Select(c => new SaleLineRequest(c.Sku, rng.Next(1, 3), c.Price, c.Name, c.Category, null, c.Flag is null ? null : [c.Flag]))
                .ToList();
            var at = now.AddDays(-rng.Next(0, 6)).AddMinutes(-rng.Next(0, 600));
            await checkout.HandleAsync(new SaleRequest($"D{memberId:D6}-{i}", lines, storeId, memberId, At: at), admin, ct);
        }
    }

    private static CallerScope Caller(StaffMember admin) =>
        CallerScope.From(new ClaimsPrincipal(PatronClaims.ForStaff(admin, [], [], "demo")));
}
