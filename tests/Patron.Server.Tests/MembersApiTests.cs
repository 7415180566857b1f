using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>Enrolment and lookup through the API with a terminal key, on each database.</summary>
public abstract class MembersApiTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);

    [Fact]
    public async Task Lists_APageFarPastTheEnd_AreEmpty_NotAnOverflowingOffset()
    {
        await _a1.PostJson("/api/members", new { name = "翻页", mobile = PatronApp.NewPhone() });
        var admin = await app.SignInAsync("admin");
        foreach (var list in new[] { "/api/members", "/api/imports" })
        {
            var far = await admin.Http.Get($"{list}?page={int.MaxValue}");
            Assert.Equal(HttpStatusCode.OK, far.StatusCode); // PostgreSQL refused the negative offset of (page - 1) * size with 500
            var body = await far.ReadJson();
            Assert.Equal(0, body.GetProperty("items").GetArrayLength());
            Assert.True(body.GetProperty("page").GetInt32() > 1);
        }
    }

    [Fact]
    public async Task Enrol_ValidRequest_CreatesMemberWithMaskedPhoneAndVirtualCard()
    {
        var phone = PatronApp.NewPhone();
        var response = await _a1.PostJson("/api/members", new { name = "李娜", mobile = phone, gender = "female", birthday = "1988-05-17" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJson();
        Assert.Equal($"{phone[..3]}****{phone[^4..]}", body.GetProperty("mobile").GetString());
        Assert.DoesNotContain(phone, await response.ReadText());
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal(app.Org.StoreA1, body.GetProperty("enrolStoreId").GetInt64());
        var card = body.GetProperty("cards")[0];
        var number = card.GetProperty("number").GetString()!;
        Assert.StartsWith("8801", number);
        Assert.True(CardNumber.IsValid(number));
        Assert.Equal("virtual", card.GetProperty("kind").GetString());

        var id = body.GetProperty("id").GetInt64();
        var (stored, audit) = await app.WithDbAsync(async db => (
            await db.Members.AsNoTracking().SingleAsync(m => m.Id == id),
            await db.AuditLog.AsNoTracking().SingleAsync(a => a.MemberId == id)));
        Assert.Equal(phone, stored.Mobile);
        Assert.NotNull(stored.EnrolTerminalId);
        Assert.Equal("member.enrolled", audit.Action);
        Assert.Equal(app.Org.StoreA1, audit.StoreId);
    }

    [Fact]
    public async Task Enrol_WithIdNumber_StoresItEncryptedAndDerivesBirthdayAndGender()
    {
        var idNumber = IdNumbers.Make("110105", new DateOnly(1979, 2, 28), male: true);
        var response = await _a1.PostJson("/api/members", new { name = "王强", mobile = PatronApp.NewPhone(), idNumber });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJson();
        Assert.Equal("1979-02-28", body.GetProperty("birthday").GetString());
        Assert.Equal("male", body.GetProperty("gender").GetString());
        Assert.Equal(new string('*', 14) + idNumber[^4..], body.GetProperty("idNumber").GetString());
        var stored = await app.WithDbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Id == body.GetProperty("id").GetInt64()));
        Assert.DoesNotContain(idNumber, stored.IdNumberCipher);
        Assert.NotEqual(idNumber, stored.IdNumberHash);

        var found = await Lookup(_a1, new { idNumber = idNumber.ToLowerInvariant() });
        Assert.Equal(body.GetProperty("id").GetInt64(), Assert.Single(found).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Enrol_PhysicalCardNumber_IssuesThatCard_AndRefusesAForeignPrefix()
    {
        var number = CardNumber.Compose("8801", 90_000_000 + Random.Shared.Next(1_000_000));
        var ok = await _a1.PostJson("/api/members", new { name = "赵敏", mobile = PatronApp.NewPhone(), cardNumber = number });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var card = (await ok.ReadJson()).GetProperty("cards")[0];
        Assert.Equal(number, card.GetProperty("number").GetString());
        Assert.Equal("physical", card.GetProperty("kind").GetString());

        var again = await _a1.PostJson("/api/members", new { name = "赵敏", mobile = PatronApp.NewPhone(), cardNumber = number });
        await AssertProblem(again, HttpStatusCode.Conflict, "card.number_taken");

        var foreign = await _a1.PostJson("/api/members", new { name = "赵敏", mobile = PatronApp.NewPhone(), cardNumber = CardNumber.Compose("8802", 12345) });
        await AssertProblem(foreign, HttpStatusCode.BadRequest, "validation.failed", ("cardNumber", "card.prefix_mismatch"));
    }

    public static TheoryData<string, string, string> InvalidEnrolments => new()
    {
        { """{"name":"张三","mobile":"1381234567"}""", "mobile", "member.phone_invalid" },
        { """{"name":"张三","mobile":"12812345678"}""", "mobile", "member.phone_invalid" },
        { """{"name":"张三","mobile":"13812345678abc"}""", "mobile", "member.phone_invalid" },
        { """{"name":"张三"}""", "mobile", "member.phone_required" },
        { """{"mobile":"13812345678"}""", "name", "member.name_required" },
        { """{"name":"   ","mobile":"13812345678"}""", "name", "member.name_required" },
        { "{\"name\":\"" + new string('张', 51) + "\",\"mobile\":\"13812345678\"}", "name", "member.name_invalid" },
        { """{"name":"张三","mobile":"13812345678","idNumber":"110101199003071234"}""", "idNumber", "member.id_number_invalid" },
        { """{"name":"张三","mobile":"13812345678","idNumber":"1101011990030712345678"}""", "idNumber", "member.id_number_invalid" },
        { """{"name":"张三","mobile":"13812345678","birthday":"2999-01-01"}""", "birthday", "member.birthday_invalid" },
        { """{"name":"张三","mobile":"13812345678","birthday":"1990-02-30"}""", "birthday", "member.birthday_invalid" },
        { """{"name":"张三","mobile":"13812345678","gender":"robot"}""", "gender", "member.gender_invalid" },
        { """{"name":"张三","mobile":"13812345678","channel":"billboard"}""", "channel", "member.channel_invalid" },
        { """{"name":"张三","mobile":"13812345678","cardNumber":"8801000000012"}""", "cardNumber", "card.number_invalid" },
        { "{\"name\":\"张三\",\"mobile\":\"13812345678\",\"cardNumber\":\"" + new string('8', 300) + "\"}", "cardNumber", "card.number_invalid" },
    };

    [Theory]
    [MemberData(nameof(InvalidEnrolments))]
    public async Task Enrol_InvalidField_ReturnsProblemWithFieldCode_AndWritesNothing(string json, string field, string code)
    {
        var before = await app.MemberCountAsync();
        var response = await _a1.PostRaw("/api/members", json);

        await AssertProblem(response, HttpStatusCode.BadRequest, "validation.failed", (field, code));
        Assert.Equal(before, await app.MemberCountAsync());
    }

    [Fact]
    public async Task Enrol_MalformedJson_ReturnsRequestMalformed()
    {
        var response = await _a1.PostRaw("/api/members", "{\"name\": 12");
        await AssertProblem(response, HttpStatusCode.BadRequest, "request.malformed");
    }

    [Fact]
    public async Task Enrol_DuplicatePhoneOrIdNumber_Returns409_AndWritesNothing()
    {
        var phone = PatronApp.NewPhone();
        var idNumber = IdNumbers.Make("110101", new DateOnly(1990, 3, 7), male: false);
        Assert.Equal(HttpStatusCode.Created, (await _a1.PostJson("/api/members", new { name = "孙丽", mobile = phone, idNumber })).StatusCode);
        var before = await app.MemberCountAsync();

        // Same phone written differently, at another store of the same program.
        var a2 = app.TerminalClient(app.Org.TerminalA2);
        var samePhone = await a2.PostJson("/api/members", new { name = "孙丽", mobile = $"+86 {phone[..3]}-{phone[3..7]}-{phone[7..]}" });
        await AssertProblem(samePhone, HttpStatusCode.Conflict, "member.phone_taken", ("mobile", "member.phone_taken"));
        var sameId = await a2.PostJson("/api/members", new { name = "孙丽", mobile = PatronApp.NewPhone(), idNumber });
        await AssertProblem(sameId, HttpStatusCode.Conflict, "member.id_number_taken");
        Assert.Equal(before, await app.MemberCountAsync());

        // Another program is another membership: the same person may join there.
        var b1 = app.TerminalClient(app.Org.TerminalB1);
        Assert.Equal(HttpStatusCode.Created, (await b1.PostJson("/api/members", new { name = "孙丽", mobile = phone, idNumber })).StatusCode);
    }

    [Fact]
    public async Task Enrol_SamePhoneInParallel_ExactlyOneSucceeds()
    {
        var phone = PatronApp.NewPhone();
        var before = await app.MemberCountAsync();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            _a1.PostJson("/api/members", new { name = "周杰", mobile = phone })));

        Assert.Equal(1, attempts.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(attempts.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal(before + 1, await app.MemberCountAsync());
    }

    [Fact]
    public async Task Enrol_ManyInParallel_CardNumbersAreUniqueAndValid()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
            _a1.PostJson("/api/members", new { name = "吴敏", mobile = PatronApp.NewPhone() })));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var numbers = await Task.WhenAll(responses.Select(async r => (await r.ReadJson()).GetProperty("cards")[0].GetProperty("number").GetString()!));
        Assert.Equal(numbers.Length, numbers.Distinct().Count());
        Assert.All(numbers, n => Assert.True(CardNumber.IsValid(n)));
    }

    [Fact]
    public async Task Lookup_ByEachIdentifier_FindsTheMember()
    {
        var phone = PatronApp.NewPhone();
        var idNumber = IdNumbers.Make("110108", new DateOnly(2001, 12, 31), male: false);
        var created = await (await _a1.PostJson("/api/members", new { name = "欧阳晓燕", mobile = phone, idNumber })).ReadJson();
        var id = created.GetProperty("id").GetInt64();
        var card = created.GetProperty("cards")[0].GetProperty("number").GetString()!;

        foreach (var query in new object[] { new { cardNumber = card }, new { phone }, new { idNumber }, new { name = "欧阳晓燕", phoneTail = phone[^4..] } })
        {
            var found = await Lookup(_a1, query);
            Assert.Equal(id, Assert.Single(found).GetProperty("id").GetInt64());
        }

        Assert.Empty(await Lookup(_a1, new { name = "欧阳晓燕", phoneTail = phone[^4..] == "0000" ? "1111" : "0000" }));
    }

    [Fact]
    public async Task Lookup_NoneOrTwoIdentifiers_IsRefused()
    {
        await AssertProblem(await _a1.PostJson("/api/members/lookup", new { }), HttpStatusCode.BadRequest, "validation.failed", ("", "lookup.one_identifier"));
        await AssertProblem(await _a1.PostJson("/api/members/lookup", new { phone = PatronApp.NewPhone(), cardNumber = "8801000000012" }), HttpStatusCode.BadRequest, "validation.failed");
        await AssertProblem(await _a1.PostJson("/api/members/lookup", new { cardNumber = "8801000000012" }), HttpStatusCode.BadRequest, "validation.failed", ("cardNumber", "card.number_invalid"));
    }

    [Fact]
    public async Task Problem_Title_IsChineseByDefault_AndEnglishOnRequest()
    {
        var zh = await (await _a1.PostJson("/api/members", new { name = "张三", mobile = "123" })).ReadJson();
        Assert.Contains("手机号", zh.GetProperty("errors").GetProperty("mobile")[0].GetProperty("message").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/members") { Content = JsonContent.Create(new { name = "张三", mobile = "123" }) };
        request.Headers.AcceptLanguage.ParseAdd("en");
        var en = await (await _a1.SendRequest(request)).ReadJson();
        Assert.Contains("mobile number", en.GetProperty("errors").GetProperty("mobile")[0].GetProperty("message").GetString());
    }

    internal static async Task<JsonElement[]> Lookup(HttpClient client, object query)
    {
        var response = await client.PostJson("/api/members/lookup", query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.ReadJson()).EnumerateArray()];
    }

    internal static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string code, params (string Field, string Code)[] fieldErrors)
    {
        var text = await response.ReadText();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("title").GetString()));
        foreach (var fe in fieldErrors)
        {
            var errors = body.GetProperty("errors").GetProperty(fe.Field);
            Assert.Contains(errors.EnumerateArray(), e => e.GetProperty("code").GetString() == fe.Code);
        }
    }
}

public sealed class MembersApiSqliteTests(SqliteApp app) : MembersApiTests(app), IClassFixture<SqliteApp>;

public sealed class MembersApiPostgresTests(PostgresApp app) : MembersApiTests(app), IClassFixture<PostgresApp>;

/// <summary>Builds valid ID numbers for tests (the check character computed by the domain).</summary>
internal static class IdNumbers
{
    private static int _seq;

    public static string Make(string region, DateOnly birth, bool male)
    {
        var seq = (Interlocked.Increment(ref _seq) % 400 * 2) + (male ? 1 : 0) + 100;
        var body = region + birth.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture) + seq.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
        return body + ChineseIdNumber.CheckCharacter(body);
    }
}
