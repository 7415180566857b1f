using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.StoredValue;
using Patron.Domain.Tiers;
using Patron.Server.Features.Cards;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// The supervised merge of duplicate members on each database: points by lot (earning date,
/// expiry, store and remainder kept), stored value by principal and bonus, liability unchanged,
/// cards under the program's card policy, coupons, sales, top-ups and history under the
/// survivor, a return of a sale made before the merge; refusals that change nothing; the preview
/// that changes nothing; the console page; and the merge racing sales and top-ups.
/// </summary>
public abstract class MemberMergeTests(PatronApp app)
{
    /// <summary>
    /// Program A allows one principal card per member; program B lets cards merge. Silver is kept
    /// with 300 points earned a year, cards run 365 days and renew with 300 points earned in the
    /// period, and spending ¥1,500 and ¥3,000 gives milestone points.
    /// </summary>
    private const string ProgramTemplate = """
        {
          "code": "CODE", "name": "合并测试", "effectiveFrom": "2026-01-01", "pointCashValue": 1,
          "earning": { "amountPerPoint": 100 },
          "expiry": { "kind": "after_days", "after": 365 },
          "tiers": [
            { "code": "standard", "name": "普通" },
            { "code": "silver", "name": "银卡", "qualification": { "kind": "cumulative_points", "threshold": 300 },
              "retention": { "windowMonths": 12, "counter": "earned_points", "threshold": 300 } }
          ],
          "returns": { "windowDays": 90 },
          "cards": { "subCards": { "max": 2 }, "allowMerge": ALLOW, "validity": { "kind": "days", "length": 365, "renewalPoints": 300 } },
          "milestones": [
            { "id": "spend", "counter": "spend", "steps": [ { "threshold": 150000, "points": 10 }, { "threshold": 300000, "points": 20 } ] }
          ],
          "storedValue": {
            "enabled": true, "minimumTopUp": 1000, "spendOrder": "proportional",
            "bonusTiers": [ { "minimum": 100000, "bonus": 10000 } ]
          },
          "coupons": {
            "onEnrolment": ["c5"],
            "templates": [ { "code": "c5", "name": "¥5 券", "kind": "cash", "value": 500, "validDays": 90 } ]
          }
        }
        """;

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);
    private readonly HttpClient _a2 = app.TerminalClient(app.Org.TerminalA2);
    private readonly HttpClient _b1 = app.TerminalClient(app.Org.TerminalB1);

    [Fact]
    public async Task Merge_MovesEverythingToTheSurvivor_WithBalancesIntact_AndTheSurvivorCarriesOn()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a2, name);
        var start = app.Clock.GetUtcNow();
        string firstOrder, topUpOrder;
        try
        {
            app.Clock.Set(start.AddDays(-60));
            firstOrder = (await SaleAsync(_a2, merged.Id, 10_000)).GetProperty("orderNumber").GetString()!;
            app.Clock.Set(start.AddDays(-20));
            await SaleAsync(_a2, merged.Id, 5_000);
            topUpOrder = (await TopUpAsync(_a2, merged.Id, 100_000)).GetProperty("orderNumber").GetString()!;
            await SaleAsync(_a2, merged.Id, 20_000, storedValue: 20_000);
            await SaleAsync(_a1, survivor.Id, 3_000);
            await TopUpAsync(_a1, survivor.Id, 2_000);
        }
        finally
        {
            app.Clock.Set(start);
        }

        var admin = await app.SignInAsync("admin");
        var liabilityBefore = await LiabilityAsync(admin);
        var s0 = await AccountAsync(survivor.Id);
        var m0 = await AccountAsync(merged.Id);
        Assert.Equal((350L, 100_000L - 18_182L, 10_000L - 1_818L), (m0.Balance, m0.StoredPrincipal, m0.StoredBonus));
        Assert.Equal("silver", m0.Tier);
        Assert.Equal("standard", s0.Tier);
        var mergedLots = await app.WithDbAsync(db => db.PointsLots.AsNoTracking().Where(l => l.MemberId == merged.Id && l.Remaining > 0).OrderBy(l => l.EarnedAt).ToListAsync());
        var mergedEntries = await EntriesAsync(merged.Id);
        var mergedCoupon = await app.WithDbAsync(db => db.Coupons.Where(c => c.MemberId == merged.Id).Select(c => c.Code).SingleAsync());
        var refundable = await RefundableAsync(survivor.Id) + await RefundableAsync(merged.Id);
        var before = await SnapshotAsync(survivor.Id, merged.Id);

        // The preview says what would move and changes nothing.
        var preview = await admin.Http.PostJson("/api/members/merge/preview", new { survivorId = survivor.Id, mergedId = merged.Id });
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        var p = await preview.ReadJson();
        Assert.Equal(350, p.GetProperty("points").GetProperty("balance").GetInt64());
        Assert.Equal(3, p.GetProperty("points").GetProperty("lots").GetInt32());
        Assert.Equal(s0.Balance + 350, p.GetProperty("points").GetProperty("survivorBalanceAfter").GetInt64());
        Assert.Equal((m0.StoredPrincipal, m0.StoredBonus), (p.GetProperty("storedValue").GetProperty("principal").GetInt64(), p.GetProperty("storedValue").GetProperty("bonus").GetInt64()));
        Assert.Equal((3, 1, 1), (p.GetProperty("records").GetProperty("sales").GetInt32(), p.GetProperty("records").GetProperty("coupons").GetInt32(), p.GetProperty("records").GetProperty("topUps").GetInt32()));
        var previewCard = Assert.Single(p.GetProperty("cards").EnumerateArray());
        Assert.Equal(("moves_replaced", "replaced", "****" + survivor.Card[^4..]), (previewCard.GetProperty("outcome").GetString(), previewCard.GetProperty("statusAfter").GetString(), previewCard.GetProperty("replacedBy").GetString()));
        Assert.Equal(("standard", "silver"), (p.GetProperty("tierBefore").GetString(), p.GetProperty("tierAfter").GetString()));
        Assert.False(p.TryGetProperty("mergedAt", out var notYet) && notYet.ValueKind != JsonValueKind.Null);
        Assert.Equal(before, await SnapshotAsync(survivor.Id, merged.Id));

        var done = await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "同一人两次登记 #118" });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var result = await done.ReadJson();
        Assert.Equal(JsonValueKind.String, result.GetProperty("mergedAt").ValueKind);
        Assert.Equal(p.GetProperty("points").GetRawText(), result.GetProperty("points").GetRawText());
        Assert.Equal(p.GetProperty("storedValue").GetRawText(), result.GetProperty("storedValue").GetRawText());

        // Balances: the survivor holds the sum, the merged member nothing; both ledgers add up.
        var s1 = await AccountAsync(survivor.Id);
        var m1 = await AccountAsync(merged.Id);
        Assert.Equal((s0.Balance + m0.Balance, s0.StoredPrincipal + m0.StoredPrincipal, s0.StoredBonus + m0.StoredBonus), (s1.Balance, s1.StoredPrincipal, s1.StoredBonus));
        Assert.Equal((0L, 0L, 0L, 0L), (m1.Balance, m1.StoredPrincipal, m1.StoredBonus, m1.CumulativeEarned));
        Assert.Equal(s0.CumulativeEarned + m0.CumulativeEarned, s1.CumulativeEarned);
        Assert.Equal(s0.CumulativeSpend + m0.CumulativeSpend, s1.CumulativeSpend);
        Assert.Equal("silver", s1.Tier);
        Assert.Null(m1.Tier);
        await AssertBalancedAsync(survivor.Id);
        await AssertBalancedAsync(merged.Id);

        // Old entries are untouched; the merged member's lots live on under the survivor, expiry and store kept.
        var after = await EntriesAsync(merged.Id);
        Assert.Equal(mergedEntries, after.Where(e => e.Cause != PointsCause.MergeOut).ToList());
        Assert.Equal(3, after.Count(e => e.Cause == PointsCause.MergeOut));
        var survivorLots = await app.WithDbAsync(db => db.PointsLots.AsNoTracking().Where(l => l.MemberId == survivor.Id && l.Remaining > 0).ToListAsync());
        foreach (var lot in mergedLots)
        {
            Assert.Contains(survivorLots, l => l.EarnedAt == lot.EarnedAt && l.ExpiresAt == lot.ExpiresAt && l.Remaining == lot.Remaining && l.StoreId == (lot.StoreId ?? app.Org.StoreA2));
        }

        Assert.Equal(liabilityBefore, await LiabilityAsync(admin));

        // What may be refunded is unchanged (bonus spent stays deducted), and the money still names its top-up.
        Assert.Equal(refundable, await RefundableAsync(survivor.Id));
        var topUpId = await app.WithDbAsync(db => db.TopUps.Where(t => t.OrderNumber == topUpOrder).Select(t => t.Id).SingleAsync());
        Assert.True(await app.WithDbAsync(db => db.StoredValueEntries.AnyAsync(e => e.MemberId == survivor.Id && e.Cause == StoredValueCause.MergeIn && e.TopUpId == topUpId)));

        // Cards: one active principal card; the merged member's is replaced, with the merge on record.
        var cards = await app.WithDbAsync(db => db.Cards.AsNoTracking().Where(c => c.MemberId == survivor.Id).ToListAsync());
        Assert.Equal((CardStatus.Active, CardStatus.Replaced), (cards.Single(c => c.Number == survivor.Card).Status, cards.Single(c => c.Number == merged.Card).Status));
        Assert.Single(cards, c => c.IsPrincipal && c.Status == CardStatus.Active);
        var merge = await app.WithDbAsync(db => db.CardEvents.AsNoTracking().SingleAsync(e => e.Kind == CardEventKind.Merged && e.MemberId == survivor.Id));
        Assert.Equal(cards.Single(c => c.Number == survivor.Card).Id, merge.OtherCardId);

        // The merged member stays, inactive, pointing to the survivor; its phone finds the survivor.
        var row = await app.WithDbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Id == merged.Id));
        Assert.Equal((MemberStatus.Inactive, (long?)survivor.Id), (row.Status, row.MergedIntoId));
        Assert.NotNull(row.MergedAt);
        var detail = await (await admin.Http.Get($"/api/members/{merged.Id}")).ReadJson();
        Assert.Equal(survivor.Id, detail.GetProperty("mergedIntoId").GetInt64());
        var found = await Lookup(_a1, new { phone = merged.Phone });
        Assert.Equal(survivor.Id, Assert.Single(found).GetProperty("id").GetInt64());
        var identified = await (await _a1.PostJson("/api/checkout/identify", new { phone = merged.Phone })).ReadJson();
        Assert.Equal(survivor.Id, identified.GetProperty("member").GetProperty("id").GetInt64());

        // A write naming the merged member is refused, pointing to the survivor.
        var refused = await _a1.PostJson("/api/checkout/sales", new { orderNumber = Order(), memberId = merged.Id, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } });
        await AssertProblem(refused, HttpStatusCode.Conflict, "member.merged");
        Assert.Equal(survivor.Id, (await refused.ReadJson()).GetProperty("mergedIntoId").GetInt64());

        // Sales and top-ups are listed under the survivor.
        var sales = await app.WithDbAsync(db => db.Sales.AsNoTracking().Where(s => s.MemberId == survivor.Id).Select(s => s.OrderNumber).ToListAsync());
        Assert.Contains(firstOrder, sales);
        Assert.Equal(4, sales.Count);
        Assert.False(await app.WithDbAsync(db => db.Sales.AnyAsync(s => s.MemberId == merged.Id)));
        var stored = await (await _a1.Get($"/api/members/{survivor.Id}/stored-value")).ReadJson();
        Assert.Contains(stored.GetProperty("topUps").EnumerateArray(), t => t.GetProperty("orderNumber").GetString() == topUpOrder);

        // The merged member's coupon is the survivor's to use at checkout.
        var quote = await (await _a1.PostJson("/api/checkout/quote", new { memberId = survivor.Id, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 5_000 } } })).ReadJson();
        var coupons = quote.GetProperty("coupons").EnumerateArray().Where(c => c.GetProperty("usable").GetBoolean()).Select(c => c.GetProperty("code").GetString()!).ToList();
        Assert.Equal(2, coupons.Count);
        Assert.Contains(mergedCoupon, coupons);
        var withCoupon = await SaleAsync(_a1, survivor.Id, 5_000, coupons: [mergedCoupon]);
        Assert.Equal(4_500, withCoupon.GetProperty("paid").GetInt64());

        // A return of a sale the merged member made before the merge reverses its points on the survivor.
        var balance = (await AccountAsync(survivor.Id)).Balance;
        var back = await _a2.PostJson("/api/checkout/returns", new { orderNumber = firstOrder });
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Equal(balance - 100, (await AccountAsync(survivor.Id)).Balance);
        Assert.True(await app.WithDbAsync(db => db.PointsEntries.AnyAsync(e => e.MemberId == survivor.Id && e.Cause == PointsCause.Return && e.Points == -100)));
        await AssertBalancedAsync(survivor.Id);

        // Audited on both members, with the reason and what moved; the tier change is on record.
        var audits = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "member.merged" && (a.MemberId == survivor.Id || a.MemberId == merged.Id)).ToListAsync());
        Assert.Equal(new[] { survivor.Id, merged.Id }.Order(), audits.Select(a => a.MemberId!.Value).Order());
        var adminId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "admin").Select(s => s.Id).SingleAsync());
        Assert.All(audits, a =>
        {
            Assert.Equal(adminId, a.ActorId);
            Assert.Contains("同一人两次登记 #118", a.Detail);
            Assert.Contains("\"Balance\":350", a.Detail);
        });
        Assert.True(await app.WithDbAsync(db => db.TierChanges.AnyAsync(t => t.MemberId == survivor.Id && t.Reason == TierChangeReason.Merge && t.ToTier == "silver")));
    }

    [Fact]
    public async Task Merge_WhenTheProgramLetsCardsMerge_BothCardsMoveActive_AndTheMergedCardBuysForTheSurvivor()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_b1, name);
        var merged = await EnrolAsync(_b1, name);
        await SaleAsync(_b1, merged.Id, 4_000);

        var admin = await app.SignInAsync("admin");
        var done = await (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "重复登记" })).ReadJson();
        Assert.True(done.GetProperty("cardsMayMerge").GetBoolean());
        Assert.Equal("moves", Assert.Single(done.GetProperty("cards").EnumerateArray()).GetProperty("outcome").GetString());

        var cards = await app.WithDbAsync(db => db.Cards.AsNoTracking().Where(c => c.MemberId == survivor.Id).ToListAsync());
        Assert.Equal(2, cards.Count(c => c.IsPrincipal && c.Status == CardStatus.Active));
        var identified = await (await _b1.PostJson("/api/checkout/identify", new { cardNumber = merged.Card })).ReadJson();
        Assert.Equal(survivor.Id, identified.GetProperty("member").GetProperty("id").GetInt64());
        Assert.Equal(40, identified.GetProperty("points").GetInt64());

        var sale = await _b1.PostJson("/api/checkout/sales", new { orderNumber = Order(), cardNumber = merged.Card, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 2_000 } } });
        Assert.Equal(HttpStatusCode.OK, sale.StatusCode);
        Assert.Equal(60, (await AccountAsync(survivor.Id)).Balance);
    }

    [Fact]
    public async Task Merge_WhenTheSurvivorHasNoCardInUse_TheMergedMembersCardStaysActive_StillOneActivePrincipal()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a1, name);
        var survivorCardId = await app.WithDbAsync(db => db.Cards.Where(c => c.Number == survivor.Card).Select(c => c.Id).SingleAsync());
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/cards/{survivorCardId}/report-lost", new { })).StatusCode);

        var admin = await app.SignInAsync("admin");
        var done = await (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "原卡遗失后重复开卡" })).ReadJson();
        Assert.Equal("moves", Assert.Single(done.GetProperty("cards").EnumerateArray()).GetProperty("outcome").GetString());

        var cards = await app.WithDbAsync(db => db.Cards.AsNoTracking().Where(c => c.MemberId == survivor.Id).ToListAsync());
        Assert.Equal((CardStatus.Lost, CardStatus.Active), (cards.Single(c => c.Number == survivor.Card).Status, cards.Single(c => c.Number == merged.Card).Status));
        var sale = await _a1.PostJson("/api/checkout/sales", new { orderNumber = Order(), cardNumber = merged.Card, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } });
        Assert.Equal(HttpStatusCode.OK, sale.StatusCode);
    }

    [Fact]
    public async Task Merge_MovesTheFileWhenTheSurvivorHasNone_PurchasersFollow_AndTheMergedMembersFileTakesNoMoreChanges()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a1, name);
        var buyer = PatronApp.NewPhone();
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{merged.Id}/profile", new { kind = "organisation", district = "静安区" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/members/{merged.Id}/purchasers", new { name = "采购员", mobile = buyer })).StatusCode);

        var admin = await app.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "同一单位两次登记" })).StatusCode);

        var file = await (await _a1.Get($"/api/members/{survivor.Id}/profile")).ReadJson();
        Assert.Equal(("organisation", "静安区", 1), (file.GetProperty("kind").GetString(), file.GetProperty("district").GetString(), file.GetProperty("purchasers").GetArrayLength()));
        var found = await (await _a1.PostJson("/api/checkout/identify", new { phone = buyer })).ReadJson();
        Assert.Equal(survivor.Id, found.GetProperty("member").GetProperty("id").GetInt64());

        await AssertProblem(await _a1.PutJson($"/api/members/{merged.Id}/profile", new { district = "黄浦区" }), HttpStatusCode.Conflict, "member.merged");
        await AssertProblem(await _a1.PostJson($"/api/members/{merged.Id}/consents", new { kind = "marketing_sms", granted = true }), HttpStatusCode.Conflict, "member.merged");
        Assert.False(await app.WithDbAsync(db => db.MemberConsents.AnyAsync(c => c.MemberId == merged.Id)));
    }

    [Fact]
    public async Task Merge_TheMergedMembersIdNumberMovesToTheSurvivorWithoutOne_BothKeepTheirOwnOtherwise()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var idNumber = IdNumbers.Make("320106", new DateOnly(1968, 3, 8), male: true);
        var merged = await EnrolWithIdAsync(_a1, name, idNumber);
        var hash = await app.WithDbAsync(db => db.Members.Where(m => m.Id == merged.Id).Select(m => m.IdNumberHash).SingleAsync());
        Assert.NotNull(hash);

        var admin = await app.SignInAsync("admin");
        var preview = await (await admin.Http.PostJson("/api/members/merge/preview", new { survivorId = survivor.Id, mergedId = merged.Id })).ReadJson();
        Assert.Equal("moved", preview.GetProperty("records").GetProperty("idNumber").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "重复登记" })).StatusCode);

        var rows = await app.WithDbAsync(db => db.Members.AsNoTracking().Where(m => m.Id == survivor.Id || m.Id == merged.Id).ToDictionaryAsync(m => m.Id));
        Assert.Equal((hash, idNumber[^4..]), (rows[survivor.Id].IdNumberHash, rows[survivor.Id].IdNumberTail));
        Assert.NotNull(rows[survivor.Id].IdNumberCipher);
        Assert.True(rows[merged.Id] is { IdNumberHash: null, IdNumberCipher: null, IdNumberTail: null });
        Assert.Equal(survivor.Id, Assert.Single(await Lookup(_a1, new { idNumber })).GetProperty("id").GetInt64());
        await AssertProblem(await _a2.PostJson("/api/members", new { name, mobile = PatronApp.NewPhone(), idNumber }), HttpStatusCode.Conflict, "member.id_number_taken");

        // Two different numbers: a mistaken duplicate may be two people; each keeps its own, and the preview says so.
        var first = await EnrolWithIdAsync(_a1, name, IdNumbers.Make("320106", new DateOnly(1971, 5, 9), male: false));
        var second = await EnrolWithIdAsync(_a1, name, IdNumbers.Make("320106", new DateOnly(1971, 5, 10), male: false));
        var hashes = await app.WithDbAsync(db => db.Members.Where(m => m.Id == first.Id || m.Id == second.Id).OrderBy(m => m.Id).Select(m => m.IdNumberHash).ToListAsync());
        var both = await (await admin.Http.PostJson("/api/members/merge/preview", new { survivorId = first.Id, mergedId = second.Id })).ReadJson();
        Assert.Equal("both", both.GetProperty("records").GetProperty("idNumber").GetString());
        Assert.Contains("id_number.both_on_file", both.GetProperty("conflicts").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = first.Id, mergedId = second.Id, reason = "重复登记" })).StatusCode);
        Assert.Equal(hashes, await app.WithDbAsync(db => db.Members.Where(m => m.Id == first.Id || m.Id == second.Id).OrderBy(m => m.Id).Select(m => m.IdNumberHash).ToListAsync()));
    }

    [Fact]
    public async Task Merge_BothHealthFilesWithConsent_AreCombinedOnTheSurvivor_AndAUnionOverTheLimitsIsRefused()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a1, name);
        await HealthAsync(survivor.Id, new { conditions = new[] { "高血压" }, allergies = new[] { "青霉素" }, medicines = new[] { new { name = "硝苯地平缓释片", sku = "NIF30", dailyDose = 1, packSize = 30 } } });
        await HealthAsync(merged.Id, new
        {
            conditions = new[] { "高血压", "糖尿病" },
            allergies = new[] { "磺胺", "青霉素" },
            medicines = new[] { new { name = "硝苯地平缓释片", sku = "NIF30", dailyDose = 2, packSize = 30 }, new { name = "二甲双胍", sku = "MET", dailyDose = 3, packSize = 60 } },
        });

        var admin = await app.SignInAsync("admin");
        var preview = await (await admin.Http.PostJson("/api/members/merge/preview", new { survivorId = survivor.Id, mergedId = merged.Id })).ReadJson();
        Assert.Equal("combined", preview.GetProperty("records").GetProperty("healthFile").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "重复登记" })).StatusCode);

        var files = await app.WithDbAsync(db => db.MemberHealth.AsNoTracking().Where(h => h.MemberId == survivor.Id || h.MemberId == merged.Id).ToListAsync());
        var file = app.Services.GetRequiredService<PersonalDataProtector>().UnprotectHealth(Assert.Single(files, h => h.MemberId == survivor.Id).Cipher);
        Assert.DoesNotContain(files, h => h.MemberId == merged.Id);
        Assert.Equal(["高血压", "糖尿病"], file.Conditions);
        Assert.Equal(["青霉素", "磺胺"], file.Allergies);
        Assert.Equal([("硝苯地平缓释片", 1m), ("二甲双胍", 3m)], file.Medicines.Select(m => (m.Name, m.DailyDose)));
        var summary = await (await _a1.Get($"/api/members/{survivor.Id}/health")).ReadJson();
        Assert.Equal((true, 2, 2, 2), (summary.GetProperty("consent").GetBoolean(), summary.GetProperty("conditions").GetInt32(), summary.GetProperty("allergies").GetInt32(), summary.GetProperty("medicines").GetInt32()));

        // Together over the limits: refused with its code, and nothing changes.
        var big = await EnrolAsync(_a1, name);
        var other = await EnrolAsync(_a1, name);
        await HealthAsync(big.Id, new { allergies = Enumerable.Range(0, 20).Select(i => $"甲{i}").ToArray() });
        await HealthAsync(other.Id, new { allergies = Enumerable.Range(0, 20).Select(i => $"乙{i}").ToArray() });
        var before = await SnapshotAsync(big.Id, other.Id);
        var ciphers = await app.WithDbAsync(db => db.MemberHealth.AsNoTracking().Where(h => h.MemberId == big.Id || h.MemberId == other.Id).OrderBy(h => h.MemberId).Select(h => h.Cipher).ToListAsync());
        foreach (var path in new[] { "/api/members/merge/preview", "/api/members/merge" })
        {
            await AssertProblem(await admin.Http.PostJson(path, new { survivorId = big.Id, mergedId = other.Id, reason = "重复登记" }), HttpStatusCode.UnprocessableEntity, "merge.health_too_large");
        }

        Assert.Equal(before, await SnapshotAsync(big.Id, other.Id));
        Assert.Equal(ciphers, await app.WithDbAsync(db => db.MemberHealth.AsNoTracking().Where(h => h.MemberId == big.Id || h.MemberId == other.Id).OrderBy(h => h.MemberId).Select(h => h.Cipher).ToListAsync()));
    }

    [Fact]
    public async Task Merge_TheMergedMembersEarnings_KeepTheSurvivorsTierAtRetention_AndRenewItsCard()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var start = app.Clock.GetUtcNow();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a2, name);
        try
        {
            await SaleAsync(_a2, merged.Id, 35_000); // silver from today
            app.Clock.Set(start.AddDays(240));
            await SaleAsync(_a2, merged.Id, 30_000); // 300 points within the coming retention window and the card's period
            app.Clock.Set(start.AddDays(241));
            var admin = await app.SignInAsync("admin");
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "重复登记" })).StatusCode);
            Assert.Equal("silver", (await AccountAsync(survivor.Id)).Tier);

            // Fourteen months on: silver has been held over a year, and the survivor's card's period has ended.
            app.Clock.Set(start.AddDays(425));
            using (var scope = app.Services.CreateScope())
            {
                var retention = await scope.ServiceProvider.GetRequiredService<PointsJobs>().RetainTiersAsync(app.Org.ProgramA, TestContext.Current.CancellationToken);
                Assert.True(retention.Ran);
                await scope.ServiceProvider.GetRequiredService<CardsJob>().RunAsync(TestContext.Current.CancellationToken);
            }

            Assert.Equal("silver", (await AccountAsync(survivor.Id)).Tier);
            Assert.False(await app.WithDbAsync(db => db.TierChanges.AnyAsync(t => t.MemberId == survivor.Id && t.Reason == TierChangeReason.Retention)));
            var card = await app.WithDbAsync(db => db.Cards.AsNoTracking().SingleAsync(c => c.Number == survivor.Card));
            Assert.Equal(CardStatus.Active, card.Status);
            Assert.True(card.ValidUntil > app.Clock.GetUtcNow().UtcDateTime, "the card was renewed for another period");
            Assert.True(await app.WithDbAsync(db => db.CardEvents.AnyAsync(e => e.CardId == card.Id && e.Kind == CardEventKind.Renewed)));
        }
        finally
        {
            app.Clock.Set(start);
        }
    }

    [Fact]
    public async Task Merge_SurvivorsCardLapsed_TheMergedMembersActiveCardStaysActive_TheLapsedOneStaysLapsed()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a1, name);
        await app.WithDbAsync(async db =>
        {
            var now = app.Clock.GetUtcNow().UtcDateTime;
            var card = await db.Cards.SingleAsync(c => c.Number == survivor.Card);
            card.Renew(now.AddDays(-1), now);
            Assert.True(card.Lapse(now));
            return await db.SaveChangesAsync();
        });

        var admin = await app.SignInAsync("admin");
        var done = await (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "原卡过期后重复开卡" })).ReadJson();
        Assert.Equal(("moves", "active"), (Assert.Single(done.GetProperty("cards").EnumerateArray()).GetProperty("outcome").GetString(), done.GetProperty("cards")[0].GetProperty("statusAfter").GetString()));

        var cards = await app.WithDbAsync(db => db.Cards.AsNoTracking().Where(c => c.MemberId == survivor.Id).ToListAsync());
        Assert.Equal((CardStatus.Lapsed, CardStatus.Active), (cards.Single(c => c.Number == survivor.Card).Status, cards.Single(c => c.Number == merged.Card).Status));
        Assert.Single(cards, c => c.IsPrincipal && c.Status == CardStatus.Active);
        var quote = await (await _a1.PostJson("/api/checkout/quote", new { memberId = survivor.Id, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } })).ReadJson();
        Assert.DoesNotContain("card.lapsed", quote.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));
    }

    [Fact]
    public async Task Merge_PurchasersFollowOnlyToAnOrganisation_SkippingPhonesListed_NeverPastTheLimit()
    {
        await EnsureProgramsAsync();
        var name = Name();

        // A person kept: the merged organisation's purchasers stay with it.
        var person = await EnrolAsync(_a1, name);
        var company = await EnrolAsync(_a1, name);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{person.Id}/profile", new { kind = "person", district = "静安区" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{company.Id}/profile", new { kind = "organisation" })).StatusCode);
        await AddPurchasersAsync(company.Id, PatronApp.NewPhone());
        var admin = await app.SignInAsync("admin");
        var preview = await (await admin.Http.PostJson("/api/members/merge/preview", new { survivorId = person.Id, mergedId = company.Id })).ReadJson();
        Assert.Equal(0, preview.GetProperty("records").GetProperty("purchasers").GetInt32());
        Assert.Contains("purchasers.stay", preview.GetProperty("conflicts").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = person.Id, mergedId = company.Id, reason = "重复登记" })).StatusCode);
        Assert.Equal((0, 1), await app.WithDbAsync(async db => (await db.MemberPurchasers.CountAsync(p => p.MemberId == person.Id), await db.MemberPurchasers.CountAsync(p => p.MemberId == company.Id))));

        // An organisation kept with 48 purchasers: a phone it lists already stays, two more move, the rest stay.
        var kept = await EnrolAsync(_a1, name);
        var duplicate = await EnrolAsync(_a1, name);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{kept.Id}/profile", new { kind = "organisation" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{duplicate.Id}/profile", new { kind = "organisation" })).StatusCode);
        var listed = Enumerable.Range(0, 48).Select(_ => PatronApp.NewPhone()).ToArray();
        await AddPurchasersAsync(kept.Id, listed);
        var theirs = new[] { listed[0], PatronApp.NewPhone(), PatronApp.NewPhone(), PatronApp.NewPhone() };
        await AddPurchasersAsync(duplicate.Id, theirs);
        preview = await (await admin.Http.PostJson("/api/members/merge/preview", new { survivorId = kept.Id, mergedId = duplicate.Id })).ReadJson();
        Assert.Equal(2, preview.GetProperty("records").GetProperty("purchasers").GetInt32());
        Assert.Contains("purchasers.over_limit", preview.GetProperty("conflicts").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = kept.Id, mergedId = duplicate.Id, reason = "重复登记" })).StatusCode);
        var rows = await app.WithDbAsync(db => db.MemberPurchasers.AsNoTracking().Where(p => p.MemberId == kept.Id || p.MemberId == duplicate.Id).ToListAsync());
        Assert.Equal(50, rows.Count(p => p.MemberId == kept.Id));
        Assert.Equal(50, rows.Where(p => p.MemberId == kept.Id).Select(p => p.Mobile).Distinct().Count());
        Assert.Equal([theirs[0], theirs[3]], rows.Where(p => p.MemberId == duplicate.Id).OrderBy(p => p.Id).Select(p => p.Mobile));
    }

    [Fact]
    public async Task IssueCoupons_ToAMergedMemberById_IsRefusedWithTheSurvivor_AndNeverLandsOnItWhileTheMergeRuns()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a1, name);
        var bystander = await EnrolAsync(_a1, name);
        var admin = await app.SignInAsync("admin");
        object Issue(params long[] ids) => new { template = "c5", memberIds = ids, reason = "客诉补偿", programId = app.Org.ProgramA };

        // Coupons issued while the merge runs either come before it (and move) or after it (and are refused).
        var issues = new List<Task<HttpResponseMessage>>();
        var mergeTask = admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "重复登记" });
        for (var i = 0; i < 30 && (i < 4 || !mergeTask.IsCompleted); i++)
        {
            issues.Add(admin.Http.PostJson("/api/coupons/issue", Issue(merged.Id)));
            await Task.Delay(3, TestContext.Current.CancellationToken);
        }

        Assert.Equal(HttpStatusCode.OK, (await mergeTask).StatusCode);
        var issued = 0;
        foreach (var answer in await Task.WhenAll(issues))
        {
            if (answer.StatusCode == HttpStatusCode.OK)
            {
                issued++;
            }
            else if (answer.StatusCode == HttpStatusCode.Conflict)
            {
                await AssertProblem(answer, HttpStatusCode.Conflict, "member.merged");
            }
            else
            {
                await AssertProblem(answer, HttpStatusCode.ServiceUnavailable, "db.busy");
            }
        }

        Assert.False(await app.WithDbAsync(db => db.Coupons.AnyAsync(c => c.MemberId == merged.Id)));
        Assert.Equal(issued + 2, await app.WithDbAsync(db => db.Coupons.CountAsync(c => c.MemberId == survivor.Id))); // and both welcome coupons

        // After the merge: a list naming the merged member is refused whole, saying which and where to.
        var coupons = await app.WithDbAsync(db => db.Coupons.CountAsync());
        var refused = await admin.Http.PostJson("/api/coupons/issue", Issue(bystander.Id, merged.Id));
        await AssertProblem(refused, HttpStatusCode.Conflict, "member.merged");
        var body = await refused.ReadJson();
        Assert.Equal(survivor.Id, body.GetProperty("mergedIntoId").GetInt64());
        var listed = Assert.Single(body.GetProperty("merged").EnumerateArray());
        Assert.Equal((merged.Id, survivor.Id), (listed.GetProperty("memberId").GetInt64(), listed.GetProperty("mergedIntoId").GetInt64()));
        Assert.Equal(coupons, await app.WithDbAsync(db => db.Coupons.CountAsync()));

        // A merge holds the merged member's row from its start to its commit: an issue naming the
        // member waits for it, then sees the merge (and lands nothing on the merged member).
        var kept = await EnrolAsync(_a1, name);
        var gone = await EnrolAsync(_a1, name);
        await app.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await db.Members.Where(m => m.Id == gone.Id).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, m => m.Status));
            var waiting = admin.Http.PostJson("/api/coupons/issue", Issue(gone.Id));
            await Task.Delay(500);
            await db.Members.Where(m => m.Id == gone.Id).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, MemberStatus.Inactive).SetProperty(m => m.MergedIntoId, (long?)kept.Id));
            await tx.CommitAsync();
            await AssertProblem(await waiting, HttpStatusCode.Conflict, "member.merged");
            return 0;
        });
        Assert.Equal(1, await app.WithDbAsync(db => db.Coupons.CountAsync(c => c.MemberId == gone.Id))); // its welcome coupon only

        // By card number, the merged member's (now replaced) card names the survivor.
        var byCard = await admin.Http.PostJson("/api/coupons/issue", new { template = "c5", cardNumbers = new[] { merged.Card }, reason = "客诉补偿", programId = app.Org.ProgramA });
        Assert.Equal(HttpStatusCode.OK, byCard.StatusCode);
        Assert.Equal(survivor.Id, (await byCard.ReadJson()).GetProperty("coupons")[0].GetProperty("memberId").GetInt64());
    }

    [Fact]
    public async Task Merge_MilestoneProgressOnTheSameRule_AddsUp_OrKeepsTheFurtherWhenBothWereRewarded()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a1, name);
        await SaleAsync(_a1, survivor.Id, 50_000);
        await SaleAsync(_a1, merged.Id, 120_000);

        var admin = await app.SignInAsync("admin");
        var done = await (await admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "重复登记" })).ReadJson();
        Assert.Equal(1, done.GetProperty("records").GetProperty("milestonesCombined").GetInt32());
        Assert.DoesNotContain("milestones.larger_kept", done.GetProperty("conflicts").EnumerateArray().Select(c => c.GetString()));
        var progress = await app.WithDbAsync(db => db.MilestoneProgress.AsNoTracking().Where(p => p.MemberId == survivor.Id || p.MemberId == merged.Id).ToListAsync());
        Assert.Equal((170_000L, 0), (Assert.Single(progress).Counter, progress[0].NextStep));
        Assert.Equal(survivor.Id, progress[0].MemberId);

        // Together past ¥1,500: the next purchase gives the step.
        await SaleAsync(_a1, survivor.Id, 1_000);
        Assert.Equal(10, await app.WithDbAsync(db => db.PointsEntries.Where(e => e.MemberId == survivor.Id && e.Cause == PointsCause.Milestone).SumAsync(e => e.Points)));

        // Both already rewarded for ¥1,500: the further progress is kept, not the sum.
        var first = await EnrolAsync(_a1, name);
        var second = await EnrolAsync(_a1, name);
        await SaleAsync(_a1, first.Id, 160_000);
        await SaleAsync(_a1, second.Id, 200_000);
        var preview = await (await admin.Http.PostJson("/api/members/merge/preview", new { survivorId = first.Id, mergedId = second.Id })).ReadJson();
        Assert.Contains("milestones.larger_kept", preview.GetProperty("conflicts").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson("/api/members/merge", new { survivorId = first.Id, mergedId = second.Id, reason = "重复登记" })).StatusCode);
        var kept = await app.WithDbAsync(db => db.MilestoneProgress.AsNoTracking().Where(p => p.MemberId == first.Id || p.MemberId == second.Id).ToListAsync());
        Assert.Equal((first.Id, 200_000L, 1), (Assert.Single(kept).MemberId, kept[0].Counter, kept[0].NextStep));
    }

    [Fact]
    public async Task DuplicatesPage_NamesTheSharedPhoneReason_InChinese()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var first = await EnrolAsync(_a1, name);
        var second = await EnrolAsync(_a1, Name());
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{second.Id}/profile", new { phone2 = first.Phone })).StatusCode);

        var page = await (await app.SignInAsync("manager-a")).GetPageAsync("/members/duplicates");
        Assert.Contains("共用手机号", page);
        Assert.DoesNotContain("duplicate.phone", page);
    }

    [Fact]
    public async Task Refusals_AnswerStableCodes_AndChangeNothing()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a2, name);
        await SaleAsync(_a2, merged.Id, 6_000);
        await TopUpAsync(_a2, merged.Id, 5_000);
        var otherProgram = await EnrolAsync(_b1, name);
        var admin = await app.SignInAsync("admin");
        var outside = await EnrolOutsideManagersStoresAsync(admin, name);
        var erased = await EnrolAsync(_a1, name);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/members/{erased.Id}/anonymise", new { reason = "会员申请注销" })).StatusCode);
        var ids = new[] { survivor.Id, merged.Id, otherProgram.Id, outside.Id, erased.Id };

        // A frozen card is settled first.
        var manager = await app.SignInAsync("manager-a");
        var mergedCardId = await app.WithDbAsync(db => db.Cards.Where(c => c.Number == merged.Card).Select(c => c.Id).SingleAsync());
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/cards/{mergedCardId}/freeze", new { storeId = app.Org.StoreA2 })).StatusCode);
        var frozen = await SnapshotAsync(ids);
        await AssertProblem(await manager.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "重复登记" }), HttpStatusCode.UnprocessableEntity, "merge.card_frozen");
        Assert.Equal(frozen, await SnapshotAsync(ids));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/cards/{mergedCardId}/unfreeze", new { storeId = app.Org.StoreA2 })).StatusCode);

        var before = await SnapshotAsync(ids);
        var audits = await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "member.merged"));

        object Body(long s, long m, string? reason = "重复登记") => new { survivorId = s, mergedId = m, reason };
        foreach (var path in new[] { "/api/members/merge/preview", "/api/members/merge" })
        {
            await AssertProblem(await admin.Http.PostJson(path, Body(survivor.Id, otherProgram.Id)), HttpStatusCode.UnprocessableEntity, "merge.program_mismatch");
            await AssertProblem(await admin.Http.PostJson(path, Body(survivor.Id, survivor.Id)), HttpStatusCode.BadRequest, Problem.ValidationCode, ("mergedId", "merge.same_member"));
            await AssertProblem(await admin.Http.PostJson(path, Body(survivor.Id, erased.Id)), HttpStatusCode.UnprocessableEntity, "merge.anonymised");
            await AssertProblem(await admin.Http.PostJson(path, new { mergedId = merged.Id, reason = "x" }), HttpStatusCode.BadRequest, Problem.ValidationCode, ("survivorId", "merge.member_required"));
            await AssertProblem(await admin.Http.PostJson(path, Body(survivor.Id, 999_999_999)), HttpStatusCode.NotFound, "member.not_found");
        }

        await AssertProblem(await admin.Http.PostJson("/api/members/merge", Body(survivor.Id, merged.Id, "  ")), HttpStatusCode.BadRequest, Problem.ValidationCode, ("reason", "merge.reason_required"));
        await AssertProblem(await manager.Http.PostJson("/api/members/merge", Body(survivor.Id, outside.Id)), HttpStatusCode.Forbidden, "scope.store_forbidden");
        await AssertProblem(await manager.Http.PostJson("/api/members/merge/preview", Body(outside.Id, merged.Id)), HttpStatusCode.Forbidden, "scope.store_forbidden");
        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson("/api/members/merge", Body(survivor.Id, merged.Id))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _a1.PostJson("/api/members/merge", Body(survivor.Id, merged.Id))).StatusCode);
        var cashierB = await app.SignInAsync("cashier-b1");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashierB.Http.PostJson("/api/members/merge/preview", Body(survivor.Id, merged.Id))).StatusCode);

        Assert.Equal(before, await SnapshotAsync(ids));
        Assert.Equal(audits, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "member.merged")));

        // Merged once; never again, neither way round.
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PostJson("/api/members/merge", Body(survivor.Id, merged.Id))).StatusCode);
        var once = await SnapshotAsync(ids);
        await AssertProblem(await manager.Http.PostJson("/api/members/merge", Body(survivor.Id, merged.Id)), HttpStatusCode.Conflict, "merge.already_merged");
        await AssertProblem(await manager.Http.PostJson("/api/members/merge", Body(merged.Id, survivor.Id)), HttpStatusCode.Conflict, "merge.already_merged");
        await AssertProblem(await manager.Http.PostJson("/api/members/merge/preview", Body(merged.Id, survivor.Id)), HttpStatusCode.Conflict, "merge.already_merged");
        Assert.Equal(once, await SnapshotAsync(ids));
        Assert.Equal(audits + 2, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.Action == "member.merged")));
    }

    [Fact]
    public async Task ConsolePage_FromTheDuplicatesList_PreviewThenMerge_TheMissingReasonShownBesideItsField()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var first = await EnrolAsync(_a1, name);
        var second = await EnrolAsync(_a2, name);
        await SaleAsync(_a2, second.Id, 7_000);

        var manager = await app.SignInAsync("manager-a");
        Assert.Contains("href=\"/members/duplicates\"", await manager.GetPageAsync("/members"));
        var list = await manager.GetPageAsync("/members/duplicates");
        Assert.Contains("重复会员", list);
        Assert.Contains($"/members/merge?a={first.Id}&amp;b={second.Id}", list);

        var url = $"/members/merge?a={first.Id}&b={second.Id}";
        var page = await manager.GetPageAsync(url);
        Assert.Contains("合并重复会员", page);
        Assert.Contains(Masked(first.Phone), page);
        Assert.Contains(Masked(second.Phone), page);
        Assert.Contains("保留此会员", page);

        var fields = new Dictionary<string, string> { ["A"] = $"{first.Id}", ["B"] = $"{second.Id}", ["SurvivorId"] = $"{first.Id}" };
        var previewed = await manager.PostFormAsync($"/members/merge?handler=Preview&a={first.Id}&b={second.Id}", fields);
        Assert.Equal(HttpStatusCode.OK, previewed.StatusCode);
        var preview = await previewed.ReadText();
        Assert.Contains("data-testid=\"merge-preview\"", preview);
        Assert.Contains("积分：70", preview);
        Assert.Contains("转入并作废", preview);
        Assert.Equal(70, (await AccountAsync(second.Id)).Balance); // nothing moved yet

        var noReason = await manager.PostFormAsync($"/members/merge?handler=Merge&a={first.Id}&b={second.Id}", new(fields) { ["Reason"] = "" });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        var html = await noReason.ReadText();
        var reasonError = System.Text.RegularExpressions.Regex.Match(html, "<textarea class=\"form-control is-invalid\" id=\"Reason\"[^>]*>[^<]*</textarea>\\s*<div class=\"invalid-feedback\" data-testid=\"reason-error\">([^<]*)</div>");
        Assert.True(reasonError.Success, "The reason field is marked invalid with its message beside it.");
        Assert.Contains("请填写合并原因", reasonError.Groups[1].Value);
        Assert.Null(await app.WithDbAsync(db => db.Members.Where(m => m.Id == second.Id).Select(m => m.MergedIntoId).SingleAsync()));

        var merged = await manager.PostFormAsync($"/members/merge?handler=Merge&a={first.Id}&b={second.Id}", new(fields) { ["Reason"] = "同名同生日，本人确认" });
        Assert.Equal(HttpStatusCode.Redirect, merged.StatusCode);
        Assert.Equal($"/members/{first.Id}", merged.Headers.Location!.OriginalString);
        Assert.Contains($"会员 {second.Id} 已合并到本会员", await manager.GetPageAsync($"/members/{first.Id}"));
        Assert.Equal(70, (await AccountAsync(first.Id)).Balance);
        Assert.DoesNotContain($"/members/merge?a={first.Id}&amp;b={second.Id}", await manager.GetPageAsync("/members/duplicates"));

        // Cashiers do not merge.
        var cashier = await app.SignInAsync("cashier-a1");
        var denied = await cashier.GetAsync(url);
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        Assert.StartsWith("/denied", denied.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task Merge_RacingSalesAndTopUpsOnTheMergedMember_NeverLosesValue()
    {
        await EnsureProgramsAsync();
        var name = Name();
        var survivor = await EnrolAsync(_a1, name);
        var merged = await EnrolAsync(_a2, name);
        await TopUpAsync(_a2, merged.Id, 50_000);
        await SaleAsync(_a2, merged.Id, 8_000);
        await TopUpAsync(_a1, survivor.Id, 3_000);
        var (s0, m0) = (await AccountAsync(survivor.Id), await AccountAsync(merged.Id));
        var admin = await app.SignInAsync("admin");

        var orders = new List<(string Order, bool TopUp, Task<HttpResponseMessage> Answer)>();
        Task<HttpResponseMessage> Next(int i)
        {
            var client = i % 2 == 0 ? _a1 : _a2;
            var order = Order();
            var answer = i % 3 == 2
                ? client.PostJson("/api/checkout/top-ups", new { orderNumber = order, memberId = merged.Id, amount = 1_000 })
                : client.PostJson("/api/checkout/sales", new
                {
                    orderNumber = order,
                    memberId = merged.Id,
                    lines = new[] { new { sku = "X", quantity = 1, unitPrice = 2_000 } },
                    payments = new[] { new { method = "stored_value", amount = 1_000 } },
                });
            orders.Add((order, i % 3 == 2, answer));
            return answer;
        }

        // One sale lands before the merge starts; then sales and top-ups keep coming while it runs, and one after.
        Assert.Equal(HttpStatusCode.OK, (await Next(0)).StatusCode);
        var mergeTask = admin.Http.PostJson("/api/members/merge", new { survivorId = survivor.Id, mergedId = merged.Id, reason = "并发测试" });
        for (var i = 1; i < 40 && (i < 4 || !mergeTask.IsCompleted); i++)
        {
            _ = Next(i);
            await Task.Delay(3, TestContext.Current.CancellationToken);
        }

        Assert.Equal(HttpStatusCode.OK, (await mergeTask).StatusCode);
        await AssertProblem(await Next(orders.Count), HttpStatusCode.Conflict, "member.merged");
        var committedSales = new List<string>();
        var committedTopUps = new List<string>();
        foreach (var (order, topUp, answer) in orders)
        {
            var response = await answer;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                (topUp ? committedTopUps : committedSales).Add(order);
            }
            else if (response.StatusCode == HttpStatusCode.Conflict)
            {
                await AssertProblem(response, HttpStatusCode.Conflict, "member.merged");
            }
            else
            {
                await AssertProblem(response, HttpStatusCode.ServiceUnavailable, "db.busy");
            }
        }


        // What committed is all under the survivor: nothing was written to the merged member after the merge.
        var all = orders.Select(o => o.Order).ToList();
        var sales = await app.WithDbAsync(db => db.Sales.AsNoTracking().Where(s => all.Contains(s.OrderNumber)).ToListAsync());
        var topUps = await app.WithDbAsync(db => db.TopUps.AsNoTracking().Where(t => all.Contains(t.OrderNumber)).ToListAsync());
        Assert.Equal(committedSales.Order(), sales.Select(s => s.OrderNumber).Order());
        Assert.Equal(committedTopUps.Order(), topUps.Select(t => t.OrderNumber).Order());
        Assert.All(sales, s => Assert.Equal(survivor.Id, s.MemberId));
        Assert.All(topUps, t => Assert.Equal(survivor.Id, t.MemberId));

        var (s1, m1) = (await AccountAsync(survivor.Id), await AccountAsync(merged.Id));
        Assert.Equal((0L, 0L, 0L), (m1.Balance, m1.StoredPrincipal, m1.StoredBonus));
        var storedBefore = s0.StoredPrincipal + s0.StoredBonus + m0.StoredPrincipal + m0.StoredBonus;
        Assert.Equal(storedBefore + topUps.Sum(t => t.Amount + t.Bonus) - sales.Sum(s => s.StoredPrincipal + s.StoredBonus), s1.StoredPrincipal + s1.StoredBonus);
        Assert.Equal(s0.Balance + m0.Balance + sales.Sum(s => s.Points), s1.Balance);
        await AssertBalancedAsync(survivor.Id);
        await AssertBalancedAsync(merged.Id);
    }

    private async Task<long> RefundableAsync(long member) =>
        (await (await _a1.Get($"/api/members/{member}/stored-value")).ReadJson()).GetProperty("refundable").GetInt64();

    private static string Masked(string phone) => phone[..3] + "****" + phone[^4..];

    /// <summary>The liability report's rows and totals (not its time), as text.</summary>
    private async Task<string> LiabilityAsync(ConsoleClient admin)
    {
        var report = await (await admin.Http.Get($"/api/finance/liability?programId={app.Org.ProgramA}")).ReadJson();
        Assert.True(report.GetProperty("totals").GetProperty("principal").GetInt64() > 0);
        return report.GetProperty("rows").GetRawText() + report.GetProperty("totals").GetRawText();
    }

    private Task<Domain.Points.MemberAccount> AccountAsync(long member) =>
        app.WithDbAsync(db => db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == member));

    private Task<List<(long Id, long Points, PointsCause Cause, long? LotId, DateTime At)>> EntriesAsync(long member) =>
        app.WithDbAsync(async db => (await db.PointsEntries.AsNoTracking().Where(e => e.MemberId == member).OrderBy(e => e.Id).ToListAsync())
            .ConvertAll(e => (e.Id, e.Points, e.Cause, e.LotId, e.At)));

    /// <summary>Every balance, entry, lot, card and record of the members, as text: equal snapshots mean nothing changed.</summary>
    private Task<string> SnapshotAsync(params long[] ids) => app.WithDbAsync(async db =>
    {
        var members = await db.Members.AsNoTracking().Where(m => ids.Contains(m.Id)).OrderBy(m => m.Id).Select(m => new { m.Id, m.Status, m.MergedIntoId, m.MergedAt, m.Mobile }).ToListAsync();
        var accounts = await db.MemberAccounts.AsNoTracking().Where(a => ids.Contains(a.MemberId)).OrderBy(a => a.MemberId).ToListAsync();
        var text = JsonSerializer.Serialize(new
        {
            members,
            accounts = accounts.Select(a => new { a.MemberId, a.Balance, a.Debt, a.Tier, a.StoredPrincipal, a.StoredBonus, a.CumulativeEarned, a.CumulativeSpend, a.RowVersion }),
            points = await db.PointsEntries.AsNoTracking().Where(e => ids.Contains(e.MemberId)).OrderBy(e => e.Id).Select(e => new { e.Id, e.MemberId, e.Points }).ToListAsync(),
            lots = await db.PointsLots.AsNoTracking().Where(l => ids.Contains(l.MemberId)).OrderBy(l => l.Id).Select(l => new { l.Id, l.MemberId, l.Remaining }).ToListAsync(),
            stored = await db.StoredValueEntries.AsNoTracking().Where(e => ids.Contains(e.MemberId)).OrderBy(e => e.Id).Select(e => new { e.Id, e.MemberId, e.Principal, e.Bonus }).ToListAsync(),
            storedLots = await db.StoredValueLots.AsNoTracking().Where(l => ids.Contains(l.MemberId)).OrderBy(l => l.Id).Select(l => new { l.Id, l.MemberId, l.PrincipalLeft, l.BonusLeft }).ToListAsync(),
            cards = await db.Cards.AsNoTracking().Where(c => ids.Contains(c.MemberId)).OrderBy(c => c.Id).Select(c => new { c.Id, c.MemberId, c.Status }).ToListAsync(),
            cardEvents = await db.CardEvents.AsNoTracking().Where(e => ids.Contains(e.MemberId)).CountAsync(),
            sales = await db.Sales.AsNoTracking().Where(s => s.MemberId != null && ids.Contains(s.MemberId.Value)).OrderBy(s => s.Id).Select(s => new { s.Id, s.MemberId }).ToListAsync(),
            coupons = await db.Coupons.AsNoTracking().Where(c => c.MemberId != null && ids.Contains(c.MemberId.Value)).OrderBy(c => c.Id).Select(c => new { c.Id, c.MemberId, c.Status }).ToListAsync(),
            topUps = await db.TopUps.AsNoTracking().Where(t => ids.Contains(t.MemberId)).OrderBy(t => t.Id).Select(t => new { t.Id, t.MemberId }).ToListAsync(),
            tiers = await db.TierChanges.AsNoTracking().Where(t => ids.Contains(t.MemberId)).CountAsync(),
        });
        return text;
    });

    /// <summary>Balance = the sum of the entries = the lots' remainders less debt, for points and for stored value.</summary>
    private async Task AssertBalancedAsync(long member)
    {
        var (account, points, lots, stored, storedLots) = await app.WithDbAsync(async db => (
            await db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == member),
            await db.PointsEntries.AsNoTracking().Where(e => e.MemberId == member).SumAsync(e => e.Points),
            await db.PointsLots.AsNoTracking().Where(l => l.MemberId == member).SumAsync(l => l.Remaining),
            await db.StoredValueEntries.AsNoTracking().Where(e => e.MemberId == member).Select(e => new { e.Principal, e.Bonus }).ToListAsync(),
            await db.StoredValueLots.AsNoTracking().Where(l => l.MemberId == member).Select(l => new { l.PrincipalLeft, l.BonusLeft }).ToListAsync()));
        Assert.Equal(account.Balance, points);
        Assert.Equal(account.Balance, lots - account.Debt);
        Assert.Equal((account.StoredPrincipal, account.StoredBonus), (stored.Sum(e => e.Principal), stored.Sum(e => e.Bonus)));
        Assert.Equal((account.StoredPrincipal, account.StoredBonus), (storedLots.Sum(l => l.PrincipalLeft), storedLots.Sum(l => l.BonusLeft)));
    }

    private async Task EnsureProgramsAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        foreach (var (program, code, allow) in new[] { (app.Org.ProgramA, "CHAIN-A", "false"), (app.Org.ProgramB, "CHAIN-B", "true") })
        {
            var json = ProgramTemplate.Replace("\"CODE\"", $"\"{code}\"", StringComparison.Ordinal).Replace("ALLOW", allow, StringComparison.Ordinal);
            var created = await admin.Http.PostRaw($"/api/programs/{program}/versions", json);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var version = (await created.ReadJson()).GetProperty("version").GetInt32();
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{program}/versions/{version}/publish", new { })).StatusCode);
        }
    }

    private sealed record Enrolled(long Id, string Phone, string Card);

    private static async Task<Enrolled> EnrolledFrom(HttpResponseMessage response, string phone)
    {
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJson();
        return new(body.GetProperty("id").GetInt64(), phone, body.GetProperty("cards")[0].GetProperty("number").GetString()!);
    }

    private static async Task<Enrolled> EnrolAsync(HttpClient client, string name)
    {
        var phone = PatronApp.NewPhone();
        return await EnrolledFrom(await client.PostJson("/api/members", new { name, mobile = phone, birthday = "1968-03-08" }), phone);
    }

    /// <summary>A member of program A enrolled at a store the store manager of A1 and A2 does not run.</summary>
    private async Task<Enrolled> EnrolOutsideManagersStoresAsync(ConsoleClient admin, string name)
    {
        var storeId = await app.WithDbAsync(async db =>
        {
            var existing = await db.Stores.Where(s => s.Code == "A3").Select(s => (long?)s.Id).FirstOrDefaultAsync();
            if (existing is { } id)
            {
                return id;
            }

            var store = new Domain.Organisation.Store("A3", "A三店", await db.Regions.Select(r => r.Id).FirstAsync(), "北京", app.Org.ProgramA);
            db.Stores.Add(store);
            await db.SaveChangesAsync();
            return store.Id;
        });
        var phone = PatronApp.NewPhone();
        return await EnrolledFrom(await admin.Http.PostJson("/api/members", new { name, mobile = phone, birthday = "1968-03-08", storeId }), phone);
    }

    private static async Task<JsonElement> SaleAsync(HttpClient client, long member, long amount, long storedValue = 0, string[]? coupons = null)
    {
        var response = await client.PostJson("/api/checkout/sales", new
        {
            orderNumber = Order(),
            memberId = member,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = amount } },
            payments = storedValue > 0 ? new[] { new { method = "stored_value", amount = storedValue } } : [],
            coupons = coupons ?? [],
        });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.ReadText());
        return await response.ReadJson();
    }

    private static async Task<JsonElement> TopUpAsync(HttpClient client, long member, long amount)
    {
        var response = await client.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), memberId = member, amount });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.ReadText());
        return await response.ReadJson();
    }

    private async Task HealthAsync(long member, object file)
    {
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson($"/api/members/{member}/consents", new { kind = "health_data", granted = true, source = "store" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PutJson($"/api/members/{member}/health", file)).StatusCode);
    }

    /// <summary>Purchasers written straight to the table (the API would take one request each).</summary>
    private Task AddPurchasersAsync(long member, params string[] phones) => app.WithDbAsync(async db =>
    {
        foreach (var phone in phones)
        {
            db.MemberPurchasers.Add(new MemberPurchaser(member, "采购员", phone, null, app.Clock.GetUtcNow().UtcDateTime, null));
            await db.SaveChangesAsync(); // one by one: ids in the order given
        }

        return 0;
    });

    private static async Task<Enrolled> EnrolWithIdAsync(HttpClient client, string name, string idNumber)
    {
        var phone = PatronApp.NewPhone();
        return await EnrolledFrom(await client.PostJson("/api/members", new { name, mobile = phone, idNumber }), phone);
    }

    private static string Name() => "合并" + Guid.NewGuid().ToString("N")[..6];

    private static string Order() => "MG-" + Guid.NewGuid().ToString("N")[..12];
}

public sealed class MemberMergeSqliteTests(SqliteApp app) : MemberMergeTests(app), IClassFixture<SqliteApp>;

public sealed class MemberMergePostgresTests(PostgresApp app) : MemberMergeTests(app), IClassFixture<PostgresApp>;
