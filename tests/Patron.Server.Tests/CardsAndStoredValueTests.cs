using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Domain.Cards;
using Patron.Domain.StoredValue;
using Patron.Server.Features.Cards;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Cards and stored value through the API and the console on each database: loss and
/// replacement refused everywhere at once, top-ups with bonus tiers and sub-cards, spending
/// and returns in principal and bonus, refunds, the freeze after a card lapses, top-ups racing
/// spends, and the liability report reconciled with the ledger over a generated chain.
/// </summary>
public abstract class CardsAndStoredValueTests(PatronApp app)
{
    /// <summary>Program A with stored value: ≥ ¥1,000 adds ¥100, ≥ ¥5,000 adds ¥800 and a silver sub-card; cards valid 365 days, restarted by top-ups.</summary>
    public const string StoredValueProgram = """
        {
          "code": "CHAIN-A", "name": "连锁A", "effectiveFrom": "2026-01-01", "pointCashValue": 1,
          "earning": { "amountPerPoint": 100 },
          "tiers": [
            { "code": "standard", "name": "普通" },
            { "code": "silver", "name": "银卡", "qualification": { "kind": "single_top_up", "threshold": 500000 }, "percentOff": 10 }
          ],
          "returns": { "windowDays": 30 },
          "cards": {
            "validity": { "kind": "days", "length": 365, "restartOnTopUp": true },
            "replacement": { "lost": 2000, "damaged": 500 },
            "subCards": { "max": 2, "tier": "silver" }
          },
          "storedValue": {
            "enabled": true, "minimumTopUp": 1000, "spendOrder": "proportional",
            "bonusTiers": [
              { "minimum": 100000, "bonus": 10000 },
              { "minimum": 500000, "bonus": 80000, "subCards": 1, "subCardTier": "silver", "gifts": ["保温杯"] }
            ]
          }
        }
        """;

    private readonly bool _available = app.EnsureAvailable();
    private readonly HttpClient _a1 = app.TerminalClient(app.Org.TerminalA1);
    private readonly HttpClient _a2 = app.TerminalClient(app.Org.TerminalA2);

    [Fact]
    public async Task ReportLost_RefusesTheOldCardAtEveryStoreAtOnce_AndTheReplacementCarriesPointsBalanceAndValidity()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var oldNumber = await PrincipalNumberAsync(member);
        await TopUpAsync(_a1, member, 100_000);
        var sale = await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = Order(),
            cardNumber = oldNumber,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 20_000 } },
            payments = new[] { new { method = "stored_value", amount = 5_000 } },
        });
        Assert.Equal(HttpStatusCode.OK, sale.StatusCode);
        Assert.Equal(200, (await sale.ReadJson()).GetProperty("points").GetInt64());
        var before = await CardsAsync(member);
        var oldCard = before.GetProperty("cards")[0];
        var validUntil = oldCard.GetProperty("validUntil").GetDateTime();

        var manager = await app.SignInAsync("manager-a");
        var lost = await manager.Http.PostJson($"/api/cards/{oldCard.GetProperty("id").GetInt64()}/report-lost", new { storeId = app.Org.StoreA2, note = "丢失" });
        Assert.Equal(HttpStatusCode.OK, lost.StatusCode);
        Assert.Equal("lost", (await lost.ReadJson()).GetProperty("status").GetString());

        // Refused at the other store at once: identify explains, buying and topping up are refused.
        var identified = await (await _a2.PostJson("/api/checkout/identify", new { cardNumber = oldNumber })).ReadJson();
        Assert.False(identified.GetProperty("card").GetProperty("usable").GetBoolean());
        Assert.Equal("card.lost", identified.GetProperty("card").GetProperty("reason").GetString());
        await AssertProblem(await _a2.PostJson("/api/checkout/sales", new { orderNumber = Order(), cardNumber = oldNumber, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } }),
            HttpStatusCode.UnprocessableEntity, "card.unusable", ("cardNumber", "card.lost"));
        await AssertProblem(await _a2.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), cardNumber = oldNumber, amount = 10_000 }),
            HttpStatusCode.UnprocessableEntity, "card.unusable", ("cardNumber", "card.lost"));

        // Replacement by a cashier at the first store, with a physical card from stock.
        var cashier = await app.SignInAsync("cashier-a1");
        var taken = await PrincipalNumberAsync(await EnrolAsync());
        var oldId = oldCard.GetProperty("id").GetInt64();
        await AssertProblem(await cashier.Http.PostJson($"/api/cards/{oldId}/replace", new { reason = "lost", number = taken }), HttpStatusCode.Conflict, "card.number_taken", ("number", "card.number_taken"));
        await AssertProblem(await cashier.Http.PostJson($"/api/cards/{oldId}/replace", new { reason = "stolen" }), HttpStatusCode.BadRequest, "validation.failed", ("reason", "card.replace_reason_invalid"));
        var newNumber = CardNumber.Compose("8801", Random.Shared.Next(90_000_000, 99_999_999));
        var replaced = await cashier.Http.PostJson($"/api/cards/{oldId}/replace", new { reason = "lost", number = newNumber });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var fresh = await replaced.ReadJson();
        Assert.Equal(newNumber, fresh.GetProperty("number").GetString());
        Assert.Equal("active", fresh.GetProperty("status").GetString());
        Assert.Equal(validUntil, fresh.GetProperty("validUntil").GetDateTime());
        await AssertProblem(await cashier.Http.PostJson($"/api/cards/{oldId}/replace", new { reason = "lost" }), HttpStatusCode.UnprocessableEntity, "card.not_lost");

        var now = await (await _a2.PostJson("/api/checkout/identify", new { cardNumber = newNumber })).ReadJson();
        Assert.True(now.GetProperty("card").GetProperty("usable").GetBoolean());
        Assert.Equal(200, now.GetProperty("points").GetInt64());
        Assert.Equal(105_000, now.GetProperty("storedValue").GetProperty("total").GetInt64());
        Assert.Equal(member, now.GetProperty("member").GetProperty("id").GetInt64());
        await AssertProblem(await _a2.PostJson("/api/checkout/sales", new { orderNumber = Order(), cardNumber = oldNumber, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } }),
            HttpStatusCode.UnprocessableEntity, "card.unusable", ("cardNumber", "card.replaced"));

        var after = await CardsAsync(member);
        Assert.Equal("replaced", after.GetProperty("cards")[0].GetProperty("status").GetString());
        var events = after.GetProperty("events").EnumerateArray().ToList();
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "replaced" && e.GetProperty("fee").GetInt64() == 2000 && e.GetProperty("storeId").GetInt64() == app.Org.StoreA1);
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "reported_lost" && e.GetProperty("storeId").GetInt64() == app.Org.StoreA2);
        var audit = await app.WithDbAsync(db => db.AuditLog.Where(a => a.MemberId == member && a.Action.StartsWith("card.")).ToListAsync());
        Assert.Equal(["card.replaced", "card.reported_lost"], audit.Select(a => a.Action).Order().ToArray());
        Assert.All(audit, a => Assert.DoesNotContain(oldNumber, a.Detail!, StringComparison.Ordinal));

        // Scope: another chain's cashier does not see the card; a cashier may not freeze; an auditor may not act.
        var other = await app.SignInAsync("cashier-b1");
        await AssertProblem(await other.Http.PostJson($"/api/cards/{oldId}/report-lost", new { }), HttpStatusCode.NotFound, "card.not_found");
        Assert.Equal(HttpStatusCode.Forbidden, (await cashier.Http.PostJson($"/api/cards/{fresh.GetProperty("id").GetInt64()}/freeze", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("auditor")).Http.PostJson($"/api/cards/{oldId}/report-lost", new { })).StatusCode);
        var a2Cashier = await app.SignInAsync("cashier-a2");
        await AssertProblem(await a2Cashier.Http.PostJson($"/api/cards/{fresh.GetProperty("id").GetInt64()}/report-lost", new { storeId = app.Org.StoreA1 }), HttpStatusCode.Forbidden, "scope.store_forbidden");
    }

    [Fact]
    public async Task Enrol_WithAPhysicalCard_TheAuditShowsOnlyItsLastFourDigits()
    {
        var number = CardNumber.Compose("8801", Random.Shared.Next(80_000_000, 89_999_999));
        var response = await _a1.PostJson("/api/members", new { name = "实体卡会员", mobile = PatronApp.NewPhone(), cardNumber = number });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var member = (await response.ReadJson()).GetProperty("id").GetInt64();

        var detail = await app.WithDbAsync(db => db.AuditLog.Where(a => a.MemberId == member && a.Action == "member.enrolled").Select(a => a.Detail).SingleAsync());
        Assert.DoesNotContain(number, detail!, StringComparison.Ordinal);
        Assert.Contains("****" + number[^4..], detail!, StringComparison.Ordinal);
    }

    /// <summary>
    /// One physical card from stock handed to several members at once: it is issued once; the
    /// others are told the number is taken (409), never a 500 from the unique index.
    /// </summary>
    [Fact]
    public async Task IssueCard_SameNumberToSeveralMembersAtOnce_IssuedOnce_OthersAreConflicts()
    {
        await EnsureProgramAsync();
        var members = new List<long>();
        for (var i = 0; i < 24; i++)
        {
            members.Add(await EnrolAsync(i % 2 == 0 ? _a1 : _a2));
        }

        var number = CardNumber.Compose("8801", Random.Shared.Next(70_000_000, 79_999_999));
        var answers = await Task.WhenAll(members.Select((m, i) => (i % 2 == 0 ? _a1 : _a2).PostJson($"/api/members/{m}/cards", new { kind = "physical", number })));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        foreach (var refused in answers.Where(a => a.StatusCode != HttpStatusCode.OK))
        {
            await AssertProblem(refused, HttpStatusCode.Conflict, "card.number_taken", ("number", "card.number_taken"));
        }

        Assert.Equal(1, await app.WithDbAsync(db => db.Cards.CountAsync(c => c.Number == number)));
    }

    [Fact]
    public async Task TopUp_GivesTheBonusTierOnce_RetriesReplay_AndTheSubCardCarriesTheTierButNoBalance()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var order = Order();
        var request = new { orderNumber = order, memberId = member, amount = 500_000 };
        var first = await _a1.PostJson("/api/checkout/top-ups", request);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await first.ReadJson();
        Assert.Equal(80_000, body.GetProperty("bonus").GetInt64());
        Assert.Equal("silver", body.GetProperty("tier").GetString());
        Assert.Equal(["保温杯"], body.GetProperty("gifts").EnumerateArray().Select(g => g.GetString()).ToArray());
        var sub = Assert.Single(body.GetProperty("subCards").EnumerateArray().ToList());
        Assert.Equal("silver", sub.GetProperty("tier").GetString());
        Assert.Equal(580_000, body.GetProperty("balance").GetProperty("total").GetInt64());

        var again = await (await _a1.PostJson("/api/checkout/top-ups", request)).ReadJson();
        Assert.True(again.GetProperty("replayed").GetBoolean());
        Assert.Equal(sub.GetProperty("number").GetString(), again.GetProperty("subCards")[0].GetProperty("number").GetString());
        await AssertProblem(await _a1.PostJson("/api/checkout/top-ups", new { orderNumber = order, memberId = member, amount = 600_000 }), HttpStatusCode.Conflict, "top_up.order_taken");
        var keyed = new HttpRequestMessage(HttpMethod.Post, "/api/checkout/top-ups") { Content = JsonContent(new { orderNumber = Order(), memberId = member, amount = 1_000 }) };
        keyed.Headers.Add("Idempotency-Key", "k-" + order);
        Assert.Equal(HttpStatusCode.OK, (await _a1.SendRequest(keyed)).StatusCode);
        await AssertProblem(await _a1.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), memberId = member, amount = 999 }), HttpStatusCode.BadRequest, "validation.failed", ("amount", "stored_value.amount_invalid"));
        await AssertStoredValueBalancedAsync(member, 581_000);

        // The sub-card identifies its principal with the silver tier and no balance of its own.
        var subNumber = sub.GetProperty("number").GetString();
        var identified = await (await _a2.PostJson("/api/checkout/identify", new { cardNumber = subNumber })).ReadJson();
        Assert.Equal("sub_card", identified.GetProperty("card").GetProperty("kind").GetString());
        Assert.Equal("silver", identified.GetProperty("tier").GetProperty("code").GetString());
        Assert.False(identified.TryGetProperty("storedValue", out var none) && none.ValueKind != JsonValueKind.Null, "a sub-card shows no stored value");
        await AssertProblem(await _a2.PostJson("/api/checkout/sales", new
        {
            orderNumber = Order(),
            cardNumber = subNumber,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } },
            payments = new[] { new { method = "stored_value", amount = 900 } },
        }), HttpStatusCode.UnprocessableEntity, "stored_value.sub_card");
        await AssertProblem(await _a2.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), cardNumber = subNumber, amount = 10_000 }), HttpStatusCode.UnprocessableEntity, "stored_value.sub_card");

        // The principal may add one more sub-card (max 2), then no more; revoking one frees a place.
        var cashier = await app.SignInAsync("cashier-a1");
        Assert.Equal(HttpStatusCode.OK, (await cashier.Http.PostJson($"/api/members/{member}/sub-cards", new { holder = "家属" })).StatusCode);
        await AssertProblem(await cashier.Http.PostJson($"/api/members/{member}/sub-cards", new { holder = "朋友" }), HttpStatusCode.UnprocessableEntity, "card.sub_card_limit");
        Assert.Equal(HttpStatusCode.OK, (await cashier.Http.PostJson($"/api/cards/{sub.GetProperty("id").GetInt64()}/revoke", new { })).StatusCode);
        await AssertProblem(await _a2.PostJson("/api/checkout/sales", new { orderNumber = Order(), cardNumber = subNumber, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } }),
            HttpStatusCode.UnprocessableEntity, "card.unusable", ("cardNumber", "card.revoked"));
        Assert.Equal(HttpStatusCode.OK, (await cashier.Http.PostJson($"/api/members/{member}/sub-cards", new { holder = "朋友" })).StatusCode);
    }

    [Fact]
    public async Task TopUp_ReplayedAfterTheBalanceMoved_AnswersWithTheBalanceAndTiersOfTheFirstAnswer()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var request = new { orderNumber = Order(), memberId = member, amount = 500_000 };
        var first = await (await _a1.PostJson("/api/checkout/top-ups", request)).ReadJson();
        Assert.Equal(580_000, first.GetProperty("balance").GetProperty("total").GetInt64());
        Assert.Equal("silver", first.GetProperty("tier").GetString());
        Assert.NotEqual("silver", first.GetProperty("tierBefore").GetString());

        var sale = await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = Order(),
            memberId = member,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 20_000 } },
            payments = new[] { new { method = "stored_value", amount = 10_000 } },
        });
        Assert.Equal(HttpStatusCode.OK, sale.StatusCode);
        await TopUpAsync(_a2, member, 1_000);

        var again = await (await _a1.PostJson("/api/checkout/top-ups", request)).ReadJson();
        Assert.True(again.GetProperty("replayed").GetBoolean());
        Assert.Equal(first.GetProperty("balance").GetProperty("principal").GetInt64(), again.GetProperty("balance").GetProperty("principal").GetInt64());
        Assert.Equal(first.GetProperty("balance").GetProperty("bonus").GetInt64(), again.GetProperty("balance").GetProperty("bonus").GetInt64());
        Assert.Equal(580_000, again.GetProperty("balance").GetProperty("total").GetInt64());
        Assert.Equal(first.GetProperty("tierBefore").GetString(), again.GetProperty("tierBefore").GetString());
        Assert.Equal("silver", again.GetProperty("tier").GetString());
        var row = await app.WithDbAsync(db => db.TopUps.AsNoTracking().SingleAsync(t => t.OrderNumber == request.orderNumber));
        Assert.Equal((500_000L, 80_000L, "silver"), (row.PrincipalAfter, row.BonusAfter, row.TierAfter));
    }

    [Fact]
    public async Task StoredValue_SpentInProportion_ReturnsGiveBackExactly_AndRefundsNeverExceedUnspentPrincipal()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        await TopUpAsync(_a1, member, 100_000); // + ¥100 bonus: 1,000 principal : 100 bonus
        var order = Order();
        var sale = await (await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = order,
            memberId = member,
            lines = new[] { new { sku = "A", quantity = 3, unitPrice = 10_000 }, new { sku = "B", quantity = 1, unitPrice = 3_000 } },
            payments = new[] { new { method = "stored_value", amount = 33_000 } },
        })).ReadJson();
        Assert.Equal(30_000, sale.GetProperty("storedPrincipal").GetInt64());
        Assert.Equal(3_000, sale.GetProperty("storedBonus").GetInt64());
        Assert.Equal(0, sale.GetProperty("money").GetInt64());
        Assert.Equal(77_000, sale.GetProperty("storedValueAfter").GetProperty("total").GetInt64());

        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = Order(),
            memberId = member,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 100_000 } },
            payments = new[] { new { method = "stored_value", amount = 100_000 } },
        }), HttpStatusCode.UnprocessableEntity, "stored_value.insufficient");
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = Order(),
            memberId = member,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } },
            payments = new[] { new { method = "stored_value", amount = 2_000 } },
        }), HttpStatusCode.BadRequest, "validation.failed", ("payments", "stored_value.over_payable"));

        var one = await (await _a1.PostJson("/api/checkout/returns", new { orderNumber = order, lines = new[] { new { line = 1, quantity = 1 } } })).ReadJson();
        var rest = await (await _a1.PostJson("/api/checkout/returns", new { orderNumber = order })).ReadJson();
        Assert.Equal(-33_000, one.GetProperty("storedPrincipal").GetInt64() + one.GetProperty("storedBonus").GetInt64() + rest.GetProperty("storedPrincipal").GetInt64() + rest.GetProperty("storedBonus").GetInt64());
        Assert.Equal(-30_000, one.GetProperty("storedPrincipal").GetInt64() + rest.GetProperty("storedPrincipal").GetInt64());
        Assert.Equal(0, one.GetProperty("money").GetInt64() + rest.GetProperty("money").GetInt64());
        await AssertStoredValueBalancedAsync(member, 110_000);

        var manager = await app.SignInAsync("manager-a");
        var url = $"/api/members/{member}/stored-value/refunds";
        await AssertProblem(await manager.Http.PostJson(url, new { amount = 100_001, reason = "退卡", storeId = app.Org.StoreA1 }), HttpStatusCode.UnprocessableEntity, "stored_value.refund_exceeds");
        await AssertProblem(await manager.Http.PostJson(url, new { amount = 1_000, storeId = app.Org.StoreA1 }), HttpStatusCode.BadRequest, "validation.failed", ("reason", "stored_value.reason_required"));
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("cashier-a1")).Http.PostJson(url, new { amount = 1_000, reason = "退卡" })).StatusCode);

        // The sale spent ¥30 of the top-up's bonus: that much of its principal is never refunded.
        // The returns gave ¥300 + ¥30 back as new lots, refunded first (newest first) with all
        // their bonus forfeited; then ¥200 of the top-up's ¥670 refundable forfeits
        // 7,000 × 20,000 / 67,000 = 2,089 fen of its bonus.
        var stored = await (await manager.Http.Get($"/api/members/{member}/stored-value")).ReadJson();
        Assert.Equal(97_000, stored.GetProperty("refundable").GetInt64());
        var refunded = await (await manager.Http.PostJson(url, new { amount = 50_000, reason = "退卡", storeId = app.Org.StoreA1 })).ReadJson();
        Assert.Equal(5_089, refunded.GetProperty("bonusForfeited").GetInt64());
        await AssertProblem(await manager.Http.PostJson(url, new { amount = 50_000, reason = "退卡", storeId = app.Org.StoreA1 }), HttpStatusCode.UnprocessableEntity, "stored_value.refund_exceeds");
        var all = await (await manager.Http.PostJson(url, new { amount = 47_000, reason = "退卡", storeId = app.Org.StoreA1 })).ReadJson();
        Assert.Equal(4_911, all.GetProperty("bonusForfeited").GetInt64());
        Assert.Equal((3_000L, 0L), (all.GetProperty("balance").GetProperty("principal").GetInt64(), all.GetProperty("balance").GetProperty("bonus").GetInt64()));
        await AssertStoredValueBalancedAsync(member, 3_000);
        Assert.Equal(2, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.MemberId == member && a.Action == "stored_value.refunded")));
    }

    [Fact]
    public async Task Refund_OfATopUpThatGaveASubCardGiftsAndATier_IsRefused_LaterTopUpsStillRefund()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var granted = await TopUpAsync(_a1, member, 500_000); // ¥800 bonus, a silver sub-card, a gift, the silver tier
        Assert.Equal("silver", granted.GetProperty("tier").GetString());
        await TopUpAsync(_a1, member, 100_000); // ¥100 bonus, nothing else
        var manager = await app.SignInAsync("manager-a");
        var url = $"/api/members/{member}/stored-value/refunds";

        var some = await manager.Http.PostJson(url, new { amount = 40_000, reason = "退卡", storeId = app.Org.StoreA1 });
        Assert.Equal(HttpStatusCode.OK, some.StatusCode);
        Assert.Equal(4_000, (await some.ReadJson()).GetProperty("bonusForfeited").GetInt64());

        // ¥600 more would take ¥600 of the first top-up's money: refused, naming what can be refunded.
        var refused = await manager.Http.PostJson(url, new { amount = 120_000, reason = "退卡", storeId = app.Org.StoreA1 });
        await AssertProblem(refused, HttpStatusCode.UnprocessableEntity, "stored_value.refund_granted_benefits", ("amount", "stored_value.refund_granted_benefits"));
        await AssertStoredValueBalancedAsync(member, 580_000 + 60_000 + 6_000);

        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PostJson(url, new { amount = 60_000, reason = "退卡", storeId = app.Org.StoreA1 })).StatusCode);
        await AssertProblem(await manager.Http.PostJson(url, new { amount = 1, reason = "退卡", storeId = app.Org.StoreA1 }), HttpStatusCode.UnprocessableEntity, "stored_value.refund_granted_benefits");
        await AssertStoredValueBalancedAsync(member, 580_000);
        Assert.Equal("silver", await app.WithDbAsync(db => db.MemberAccounts.Where(a => a.MemberId == member).Select(a => a.Tier).SingleAsync()));
    }

    [Fact]
    public async Task FrozenCard_StoredValueIsNeitherSpentToppedUpNorRefunded_WhenTheMemberIsNamedById()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        await TopUpAsync(_a1, member, 100_000);
        var cardId = (await CardsAsync(member)).GetProperty("cards")[0].GetProperty("id").GetInt64();
        var manager = await app.SignInAsync("manager-a");
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PostJson($"/api/cards/{cardId}/freeze", new { storeId = app.Org.StoreA1 })).StatusCode);

        object Sale(long storedValue) => new
        {
            orderNumber = Order(),
            memberId = member,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } },
            payments = storedValue > 0 ? new[] { new { method = "stored_value", amount = storedValue } } : [],
        };
        await AssertProblem(await _a1.PostJson("/api/checkout/sales", Sale(5_000)), HttpStatusCode.UnprocessableEntity, "stored_value.frozen");
        await AssertProblem(await _a2.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), memberId = member, amount = 10_000 }), HttpStatusCode.UnprocessableEntity, "stored_value.frozen");
        await AssertProblem(await manager.Http.PostJson($"/api/members/{member}/stored-value/refunds", new { amount = 1_000, reason = "退卡", storeId = app.Org.StoreA1 }),
            HttpStatusCode.UnprocessableEntity, "stored_value.frozen");
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", Sale(0))).StatusCode); // paying otherwise is not refused
        var shown = (await (await manager.Http.Get($"/api/members/{member}/stored-value")).ReadJson()).GetProperty("balance");
        Assert.True(shown.GetProperty("frozen").GetBoolean() && shown.GetProperty("cardFrozen").GetBoolean());
        await AssertStoredValueBalancedAsync(member, 110_000);

        // A cashier cannot undo the freeze by reporting the card lost or exchanging it.
        var cashier = await app.SignInAsync("cashier-a1");
        await AssertProblem(await cashier.Http.PostJson($"/api/cards/{cardId}/report-lost", new { }), HttpStatusCode.UnprocessableEntity, "card.frozen");
        await AssertProblem(await cashier.Http.PostJson($"/api/cards/{cardId}/replace", new { reason = "damaged" }), HttpStatusCode.UnprocessableEntity, "card.frozen");

        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PostJson($"/api/cards/{cardId}/unfreeze", new { storeId = app.Org.StoreA1 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", Sale(5_000))).StatusCode);
        await AssertStoredValueBalancedAsync(member, 105_000);
    }

    [Fact]
    public async Task Refund_ReasonTooLongForTheLedgerReference_IsAValidationProblem_AndTheLongestAllowedIsRecorded()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        await TopUpAsync(_a1, member, 10_000);
        var manager = await app.SignInAsync("manager-a");
        var url = $"/api/members/{member}/stored-value/refunds";

        // The ledger's reference is "refund: " and the reason, in 200 characters: a 200-character reason was a 500 on PostgreSQL.
        foreach (var length in new[] { 200, 191 })
        {
            await AssertProblem(await manager.Http.PostJson(url, new { amount = 1_000, reason = new string('因', length), storeId = app.Org.StoreA1 }),
                HttpStatusCode.BadRequest, "validation.failed", ("reason", "stored_value.reason_required"));
        }

        Assert.Equal(HttpStatusCode.OK, (await manager.Http.PostJson(url, new { amount = 1_000, reason = new string('因', 190), storeId = app.Org.StoreA1 })).StatusCode);
        var reference = await app.WithDbAsync(db => db.StoredValueEntries.Where(e => e.MemberId == member && e.Cause == StoredValueCause.Refund).Select(e => e.Reference).SingleAsync());
        Assert.Equal("refund: " + new string('因', 190), reference);
    }

    /// <summary>Two stored-value payments of 2^62 fen each added up past the largest long: each payment is now at most 10^12 fen.</summary>
    [Fact]
    public async Task Sale_HugeStoredValuePayments_AreAValidationProblemNotAnOverflow()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        await TopUpAsync(_a1, member, 10_000);
        const long huge = 1L << 62;
        foreach (var path in new[] { "/api/checkout/sales", "/api/checkout/quote" })
        {
            await AssertProblem(await _a1.PostJson(path, new
            {
                orderNumber = Order(),
                memberId = member,
                lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } },
                payments = new[] { new { method = "stored_value", amount = huge }, new { method = "stored_value", amount = huge } },
            }), HttpStatusCode.BadRequest, "validation.failed", ("payments[0]", "payment.amount_invalid"));
        }

        await AssertProblem(await _a1.PostJson("/api/checkout/sales", new
        {
            orderNumber = Order(),
            memberId = member,
            lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } },
            payments = new[] { new { method = "cash", amount = 1_000_000_000_001L } },
        }), HttpStatusCode.BadRequest, "validation.failed", ("payments[0]", "payment.amount_invalid"));
        await AssertStoredValueBalancedAsync(member, 10_000);
        Assert.Equal(0, await app.WithDbAsync(db => db.Sales.CountAsync(s => s.MemberId == member)));
    }

    [Fact]
    public async Task LapsedCard_FreezesTheBalanceWithoutForfeiting_UntilATopUpRenewsIt()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        await TopUpAsync(_a1, member, 50_000);
        var cardId = (await CardsAsync(member)).GetProperty("cards")[0].GetProperty("id").GetInt64();
        var start = app.Clock.GetUtcNow();
        try
        {
            app.Clock.Advance(TimeSpan.FromDays(366));
            var spend = new { orderNumber = Order(), memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } }, payments = new[] { new { method = "stored_value", amount = 10_000 } } };
            await AssertProblem(await _a1.PostJson("/api/checkout/sales", spend), HttpStatusCode.UnprocessableEntity, "stored_value.frozen");
            var quote = await (await _a1.PostJson("/api/checkout/quote", new { memberId = member, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 10_000 } } })).ReadJson();
            Assert.True(quote.GetProperty("storedValue").GetProperty("frozen").GetBoolean());
            Assert.Equal(50_000, quote.GetProperty("storedValue").GetProperty("total").GetInt64());
            Assert.Contains("card.lapsed", quote.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));

            using (var scope = app.Services.CreateScope())
            {
                var outcome = await scope.ServiceProvider.GetRequiredService<CardsJob>().RunAsync(TestContext.Current.CancellationToken);
                Assert.True(outcome.Lapsed >= 1);
                Assert.Equal(0, (await scope.ServiceProvider.GetRequiredService<CardsJob>().RunAsync(TestContext.Current.CancellationToken)).Lapsed);
            }

            Assert.Equal("lapsed", await app.WithDbAsync(db => db.Cards.Where(c => c.Id == cardId).Select(c => c.Status.ToString().ToLower()).SingleAsync()));
            var renewed = await TopUpAsync(_a1, member, 1_000);
            Assert.False(renewed.GetProperty("balance").GetProperty("frozen").GetBoolean());
            Assert.Equal(HttpStatusCode.OK, (await _a1.PostJson("/api/checkout/sales", spend)).StatusCode);
            await AssertStoredValueBalancedAsync(member, 41_000);
            Assert.Equal("active", await app.WithDbAsync(db => db.Cards.Where(c => c.Id == cardId).Select(c => c.Status.ToString().ToLower()).SingleAsync()));
        }
        finally
        {
            app.Clock.Set(start);
        }
    }

    /// <summary>
    /// A top-up that restarts the validity of a lapsed card, racing a report of the same card
    /// lost: whichever commits first, the card ends lost (the top-up renews it, the report blocks
    /// it). Without the card rows locked before they are read, the top-up could write back the
    /// card it read as lapsed, now active, over the report.
    /// </summary>
    [Fact]
    public async Task TopUpRestartingValidity_RacingReportLost_NeverUndoesTheReport()
    {
        await EnsureProgramAsync();
        var enrolled = new List<long>();
        for (var i = 0; i < 40; i++)
        {
            enrolled.Add(await EnrolAsync(i % 2 == 0 ? _a1 : _a2));
        }

        var members = await app.WithDbAsync(db => db.Cards.Where(c => enrolled.Contains(c.MemberId) && c.Kind != CardKind.SubCard)
            .Select(c => new { c.MemberId, c.Id }).ToListAsync());
        Assert.Equal(enrolled.Count, members.Count);

        var start = app.Clock.GetUtcNow();
        try
        {
            app.Clock.Advance(TimeSpan.FromDays(366));
            using (var scope = app.Services.CreateScope())
            {
                await scope.ServiceProvider.GetRequiredService<CardsJob>().RunAsync(TestContext.Current.CancellationToken);
            }

            var ids = members.Select(m => m.Id).ToList();
            Assert.All(await app.WithDbAsync(db => db.Cards.Where(c => ids.Contains(c.Id)).Select(c => c.Status).ToListAsync()), s => Assert.Equal(CardStatus.Lapsed, s));
            var manager = await app.SignInAsync("manager-a");
            var answers = await Task.WhenAll(members.Select(async m =>
            {
                var topUp = _a1.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), memberId = m.MemberId, amount = 1_000 });
                var lost = manager.Http.PostJson($"/api/cards/{m.Id}/report-lost", new { storeId = app.Org.StoreA1 });
                return (TopUp: await topUp, Lost: await lost);
            }));
            Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (a.TopUp.StatusCode, a.Lost.StatusCode)));
            var cards = await app.WithDbAsync(db => db.Cards.AsNoTracking().Where(c => ids.Contains(c.Id)).ToListAsync());
            Assert.All(cards, c => Assert.Equal(CardStatus.Lost, c.Status));
            Assert.All(cards, c => Assert.True(c.ValidUntil > app.Clock.GetUtcNow().UtcDateTime, "the top-up restarted the validity"));
        }
        finally
        {
            app.Clock.Set(start);
        }
    }

    [Fact]
    public async Task TopUpsRacingSpends_NeverOverspend_AndTheLedgerStaysBalanced()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        await TopUpAsync(_a1, member, 10_000);
        var work = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 10; i++)
        {
            var client = i % 2 == 0 ? _a1 : _a2;
            work.Add(client.PostJson("/api/checkout/sales", new
            {
                orderNumber = Order(),
                memberId = member,
                lines = new[] { new { sku = "X", quantity = 1, unitPrice = 3_000 } },
                payments = new[] { new { method = "stored_value", amount = 3_000 } },
            }));
            if (i % 2 == 0)
            {
                work.Add(client.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), memberId = member, amount = 1_000 }));
            }
        }

        var answers = await Task.WhenAll(work);
        var topUps = answers.Where((_, i) => i % 3 == 1).ToList();
        var sales = answers.Except(topUps).ToList();
        Assert.All(topUps, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var refused in sales.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await AssertProblem(refused, HttpStatusCode.UnprocessableEntity, "stored_value.insufficient");
        }

        var spent = sales.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.InRange(spent, 3, 5); // ¥100 alone pays three; with the five top-ups, five
        await AssertStoredValueBalancedAsync(member, 10_000 + 5_000 - (3_000 * spent));
    }

    [Fact]
    public async Task Liability_OverAGeneratedChain_EqualsTheLedgerExactly_ByStoreAndMonth()
    {
        await EnsureProgramAsync();
        var random = new Random(20261125);
        var start = app.Clock.GetUtcNow();
        var members = new List<long>();
        var orders = new List<(HttpClient Client, string Order)>();
        try
        {
            for (var day = 0; day < 75; day += 5)
            {
                app.Clock.Set(start.AddDays(day));
                var manager = await app.SignInAsync("manager-a"); // a console sign-in lasts a working day
                for (var k = 0; k < 3; k++)
                {
                    members.Add(await EnrolAsync(random.Next(2) == 0 ? _a1 : _a2));
                }

                for (var op = 0; op < 12; op++)
                {
                    var store = random.Next(2) == 0 ? _a1 : _a2;
                    var member = members[random.Next(members.Count)];
                    switch (random.Next(5))
                    {
                        case 0 or 1:
                            await TopUpAsync(store, member, random.Next(10, 700) * 1_000);
                            break;
                        case 2 or 3:
                            var order = Order();
                            var price = random.Next(1, 400) * 100;
                            var paid = await store.PostJson("/api/checkout/sales", new
                            {
                                orderNumber = order,
                                memberId = member,
                                lines = new[] { new { sku = "X", quantity = 2, unitPrice = price } },
                                payments = new[] { new { method = "stored_value", amount = random.Next(0, 2 * price) } },
                            });
                            if (paid.StatusCode == HttpStatusCode.OK)
                            {
                                orders.Add((store, order));
                            }
                            else
                            {
                                await AssertProblem(paid, HttpStatusCode.UnprocessableEntity, "stored_value.insufficient");
                            }

                            break;
                        default:
                            if (orders.Count > 0 && random.Next(2) == 0)
                            {
                                var (client, o) = orders[random.Next(orders.Count)];
                                var back = await client.PostJson("/api/checkout/returns", new { orderNumber = o, lines = new[] { new { line = 1, quantity = 1 } } });
                                Assert.True(back.StatusCode is HttpStatusCode.OK or HttpStatusCode.UnprocessableEntity);
                            }
                            else
                            {
                                var refundable = (await app.WithDbAsync(db => db.StoredValueLots.AsNoTracking().Where(l => l.MemberId == member && l.PrincipalLeft > 0).ToListAsync())).Sum(l => l.Refundable);
                                if (refundable > 0)
                                {
                                    // Refused only where it would take back money of a top-up that gave a sub-card, gifts or a tier.
                                    var refund = await manager.Http.PostJson($"/api/members/{member}/stored-value/refunds", new { amount = random.NextInt64(1, refundable + 1), reason = "退卡", storeId = app.Org.StoreA1 });
                                    if (refund.StatusCode != HttpStatusCode.OK)
                                    {
                                        await AssertProblem(refund, HttpStatusCode.UnprocessableEntity, "stored_value.refund_granted_benefits");
                                    }
                                }
                            }

                            break;
                    }
                }
            }
        }
        finally
        {
            app.Clock.Set(start);
        }

        var admin = await app.SignInAsync("admin");
        var report = await (await admin.Http.Get($"/api/finance/liability?programId={app.Org.ProgramA}")).ReadJson();
        var rows = report.GetProperty("rows").EnumerateArray().ToList();
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        var (lots, entries, accounts, points) = await app.WithDbAsync(async db => (
            await db.StoredValueLots.AsNoTracking().Where(l => l.ProgramId == app.Org.ProgramA).ToListAsync(),
            await db.StoredValueEntries.AsNoTracking().Where(e => e.ProgramId == app.Org.ProgramA).ToListAsync(),
            await db.MemberAccounts.AsNoTracking().Where(a => a.ProgramId == app.Org.ProgramA).ToListAsync(),
            await db.PointsLots.AsNoTracking().Where(l => l.Remaining > 0).Join(db.Members.Where(m => m.ProgramId == app.Org.ProgramA), l => l.MemberId, m => m.Id, (l, m) => l.Remaining).ToListAsync()));

        // The ledger three ways: entries by lot, lots, accounts; and the report from scratch.
        var byLot = entries.GroupBy(e => e.LotId).ToDictionary(g => g.Key, g => (P: g.Sum(e => e.Principal), B: g.Sum(e => e.Bonus)));
        Assert.All(lots, l => Assert.Equal((l.PrincipalLeft, l.BonusLeft), byLot[l.Id]));
        Assert.All(lots, l => Assert.True(l.PrincipalLeft >= 0 && l.BonusLeft >= 0));
        Assert.Equal(entries.Sum(e => e.Principal), accounts.Sum(a => a.StoredPrincipal));
        Assert.Equal(entries.Sum(e => e.Bonus), accounts.Sum(a => a.StoredBonus));
        Assert.True(entries.Sum(e => e.Principal) > 0, "the generated chain owes something");
        Assert.Equal(entries.Sum(e => e.Principal), report.GetProperty("totals").GetProperty("principal").GetInt64());
        Assert.Equal(entries.Sum(e => e.Bonus), report.GetProperty("totals").GetProperty("bonus").GetInt64());
        Assert.Equal(points.Sum(), report.GetProperty("totals").GetProperty("points").GetInt64());
        Assert.Equal(accounts.Sum(a => a.Balance + a.Debt), report.GetProperty("totals").GetProperty("points").GetInt64());
        Assert.Equal(points.Sum(), report.GetProperty("totals").GetProperty("pointsValue").GetInt64()); // 1 fen a point

        var expected = lots.GroupBy(l => (l.StoreId, Month: TimeZoneInfo.ConvertTimeFromUtc(l.IssuedAt, zone).ToString("yyyy-MM")))
            .Select(g => (g.Key.StoreId, g.Key.Month, P: g.Sum(l => l.PrincipalLeft), B: g.Sum(l => l.BonusLeft)))
            .Where(x => x.P + x.B > 0).OrderBy(x => x.StoreId).ThenBy(x => x.Month).ToList();
        var actual = rows.Select(r => (StoreId: r.GetProperty("storeId").GetInt64(), Month: r.GetProperty("month").GetString()!, P: r.GetProperty("principal").GetInt64(), B: r.GetProperty("bonus").GetInt64()))
            .Where(x => x.P + x.B > 0).OrderBy(x => x.StoreId).ThenBy(x => x.Month).ToList();
        Assert.True(actual.Select(a => a.Month).Distinct().Count() >= 2, "the chain spans several months");
        Assert.Equal(expected, actual);

        // CSV for Excel: BOM, header, a total line equal to the report.
        var csv = await (await admin.Http.Get($"/api/finance/liability.csv?programId={app.Org.ProgramA}")).Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal([0xEF, 0xBB, 0xBF], csv[..3]);
        var lines = System.Text.Encoding.UTF8.GetString(csv[3..]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("program,store_code", lines[0], StringComparison.Ordinal);
        Assert.Equal(rows.Count + 2, lines.Length);
        Assert.StartsWith($"total,,,,{report.GetProperty("totals").GetProperty("principal").GetInt64() / 100m:0.00},", lines[^1], StringComparison.Ordinal);

        // Who may see it: finance and managers (their stores), not cashiers or terminals.
        Assert.Equal(HttpStatusCode.OK, (await (await app.SignInAsync("auditor")).Http.Get("/api/finance/liability")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.SignInAsync("cashier-a1")).Http.Get("/api/finance/liability")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _a1.Get("/api/finance/liability")).StatusCode);
        var page = await (await app.SignInAsync("auditor")).GetPageAsync("/finance/liability");
        Assert.Contains("data-testid=\"liability-table\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsoleMemberPage_ReportsLostAndReplaces_TopsUp_AndRejectsBadInputNextToTheField()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var oldNumber = await PrincipalNumberAsync(member);
        var cardId = (await CardsAsync(member)).GetProperty("cards")[0].GetProperty("id").GetInt64();
        var cashier = await app.SignInAsync("cashier-a1");
        var url = $"/members/{member}";
        var page = await cashier.GetPageAsync(url);
        Assert.Contains("data-testid=\"cards-panel\"", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"topup-form\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"refund-form\"", page, StringComparison.Ordinal); // cashiers do not refund

        var bad = await cashier.PostFormAsync($"{url}?handler=TopUp", new() { ["TopUpAmount"] = "12.345" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var badPage = await bad.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("field-validation-error", badPage, StringComparison.Ordinal);
        Assert.Equal(0, await app.WithDbAsync(db => db.TopUps.CountAsync(t => t.MemberId == member)));

        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{url}?handler=TopUp", new() { ["TopUpAmount"] = "1000" })).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{url}?handler=Card", new() { ["CardId"] = cardId.ToString(System.Globalization.CultureInfo.InvariantCulture), ["CardOp"] = "report_lost" })).StatusCode);
        await AssertProblem(await _a2.PostJson("/api/checkout/sales", new { orderNumber = Order(), cardNumber = oldNumber, lines = new[] { new { sku = "X", quantity = 1, unitPrice = 1_000 } } }),
            HttpStatusCode.UnprocessableEntity, "card.unusable", ("cardNumber", "card.lost"));
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{url}?handler=Card", new() { ["CardId"] = cardId.ToString(System.Globalization.CultureInfo.InvariantCulture), ["CardOp"] = "replace" })).StatusCode);

        var after = await cashier.GetPageAsync(url);
        Assert.Contains("已补卡", after, StringComparison.Ordinal); // the old card, in Chinese by default
        Assert.Contains("¥1100.00", after, StringComparison.Ordinal); // ¥1,000 + ¥100 bonus, still the member's
        var cards = (await CardsAsync(member)).GetProperty("cards").EnumerateArray().ToList();
        Assert.Equal(["replaced", "active"], cards.Select(c => c.GetProperty("status").GetString()).ToArray());
        var identified = await (await _a2.PostJson("/api/checkout/identify", new { cardNumber = cards[1].GetProperty("number").GetString() })).ReadJson();
        Assert.Equal(110_000, identified.GetProperty("storedValue").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task ConsoleTopUpAndRefund_FormSubmittedTwice_RecordOnce()
    {
        await EnsureProgramAsync();
        var member = await EnrolAsync();
        var url = $"/members/{member}";
        var cashier = await app.SignInAsync("cashier-a1");
        var order = HiddenValue(await cashier.GetPageAsync(url), "TopUpOrder");
        Assert.NotEqual(order, HiddenValue(await cashier.GetPageAsync(url), "TopUpOrder")); // a new one each time the page is shown
        var topUp = new Dictionary<string, string> { ["TopUpAmount"] = "1000", ["TopUpOrder"] = order };
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{url}?handler=TopUp", topUp)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await cashier.PostFormAsync($"{url}?handler=TopUp", topUp)).StatusCode);
        var recorded = await app.WithDbAsync(db => db.TopUps.Where(t => t.MemberId == member).Select(t => t.OrderNumber).ToListAsync());
        Assert.Equal([order], recorded);
        await AssertStoredValueBalancedAsync(member, 110_000);

        var manager = await app.SignInAsync("manager-a");
        var key = HiddenValue(await manager.GetPageAsync(url), "RefundKey");
        var refund = new Dictionary<string, string> { ["RefundAmount"] = "100", ["RefundReason"] = "退卡", ["RefundKey"] = key };
        Assert.Equal(HttpStatusCode.Redirect, (await manager.PostFormAsync($"{url}?handler=Refund", refund)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await manager.PostFormAsync($"{url}?handler=Refund", refund)).StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.MemberId == member && a.Action == "stored_value.refunded")));
        await AssertStoredValueBalancedAsync(member, 99_000); // ¥100 refunded once, with its ¥10 of bonus

        // A form sent back with an error keeps its key, so correcting it and sending again still records once.
        var next = HiddenValue(await cashier.GetPageAsync(url), "TopUpOrder");
        var bad = await cashier.PostFormAsync($"{url}?handler=TopUp", new() { ["TopUpAmount"] = "0", ["TopUpOrder"] = next });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(next, HiddenValue(await bad.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), "TopUpOrder"));
    }

    private static string HiddenValue(string page, string name)
    {
        var match = System.Text.RegularExpressions.Regex.Match(page, $"<input[^>]*name=\"{name}\"[^>]*value=\"([^\"]+)\"");
        Assert.True(match.Success, $"The page has no {name} field.");
        return System.Net.WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    private async Task<JsonElement> TopUpAsync(HttpClient client, long member, long amount)
    {
        var response = await client.PostJson("/api/checkout/top-ups", new { orderNumber = Order(), memberId = member, amount });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJson();
    }

    private async Task<JsonElement> CardsAsync(long member) => await (await (await app.SignInAsync("admin")).Http.Get($"/api/members/{member}/cards")).ReadJson();

    private async Task<string> PrincipalNumberAsync(long member) =>
        await app.WithDbAsync(db => db.Cards.Where(c => c.MemberId == member && c.Kind != CardKind.SubCard).OrderBy(c => c.Id).Select(c => c.Number).FirstAsync());

    /// <summary>Invariant 1 for money: the account equals its lots and its entries; nothing is negative.</summary>
    private async Task AssertStoredValueBalancedAsync(long member, long expectedTotal)
    {
        var (account, entries, lots) = await app.WithDbAsync(async db => (
            await db.MemberAccounts.AsNoTracking().SingleAsync(a => a.MemberId == member),
            await db.StoredValueEntries.AsNoTracking().Where(e => e.MemberId == member).ToListAsync(),
            await db.StoredValueLots.AsNoTracking().Where(l => l.MemberId == member).ToListAsync()));
        Assert.Equal(expectedTotal, account.StoredPrincipal + account.StoredBonus);
        Assert.Equal(account.StoredPrincipal, entries.Sum(e => e.Principal));
        Assert.Equal(account.StoredBonus, entries.Sum(e => e.Bonus));
        Assert.Equal(account.StoredPrincipal, lots.Sum(l => l.PrincipalLeft));
        Assert.Equal(account.StoredBonus, lots.Sum(l => l.BonusLeft));
        Assert.All(lots, l => Assert.True(l.PrincipalLeft >= 0 && l.BonusLeft >= 0 && l.PrincipalLeft <= l.Principal && l.BonusLeft <= l.Bonus));
        var refunds = entries.Where(e => e.Cause == StoredValueCause.Refund).Sum(e => -e.Principal);
        Assert.True(refunds <= entries.Where(e => e.Principal > 0).Sum(e => e.Principal), "refunds never exceed the principal paid in");

        // A refund never pays out bonus: per lot, cash refunded + bonus spent + bonus left stay within what it was credited with.
        Assert.All(lots, l =>
        {
            var onLot = entries.Where(e => e.LotId == l.Id).ToList();
            var refunded = -onLot.Where(e => e.Cause == StoredValueCause.Refund).Sum(e => e.Principal);
            var spentBonus = -onLot.Where(e => e.Cause == StoredValueCause.Spend).Sum(e => e.Bonus);
            Assert.Equal(-onLot.Where(e => e.Cause == StoredValueCause.BonusForfeit).Sum(e => e.Bonus), l.BonusForfeited);
            Assert.True(refunded + spentBonus + l.BonusLeft <= Math.Max(l.Principal, l.Bonus), $"Lot {l.Id}: refunded {refunded} with {spentBonus} bonus spent.");
        });
    }

    private async Task EnsureProgramAsync()
    {
        if (await app.WithDbAsync(db => db.ProgramVersions.AnyAsync(v => v.ProgramId == app.Org.ProgramA)))
        {
            return;
        }

        var admin = await app.SignInAsync("admin");
        var created = await admin.Http.PostRaw($"/api/programs/{app.Org.ProgramA}/versions", StoredValueProgram);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.ReadJson()).GetProperty("version").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PostJson($"/api/programs/{app.Org.ProgramA}/versions/{version}/publish", new { })).StatusCode);
    }

    private async Task<long> EnrolAsync(HttpClient? client = null)
    {
        var response = await (client ?? _a1).PostJson("/api/members", new { name = "储值会员", mobile = PatronApp.NewPhone() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJson()).GetProperty("id").GetInt64();
    }

    private static string Order() => "SV-" + Guid.NewGuid().ToString("N")[..12];

    private static System.Net.Http.Json.JsonContent JsonContent(object body) => System.Net.Http.Json.JsonContent.Create(body);
}

public sealed class CardsAndStoredValueSqliteTests(SqliteApp app) : CardsAndStoredValueTests(app), IClassFixture<SqliteApp>;

public sealed class CardsAndStoredValuePostgresTests(PostgresApp app) : CardsAndStoredValueTests(app), IClassFixture<PostgresApp>;
