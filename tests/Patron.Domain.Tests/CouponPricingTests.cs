using Patron.Domain.Common;
using Patron.Domain.Coupons;
using Patron.Domain.Pricing;
using Patron.Domain.Programs;
using Patron.Domain.Sales;

namespace Patron.Domain.Tests;

/// <summary>Coupons in the pricing engine: what each kind takes off, stacking, and the points of what a coupon paid.</summary>
public sealed class CouponPricingTests
{
    private static readonly DateOnly Day = new(2026, 6, 15);

    private static readonly ProgramDefinition Program = ProgramFile.Parse("""
        {
          "code": "C", "name": "C", "effectiveFrom": "2026-01-01",
          "tiers": [ { "code": "standard", "name": "普通", "percentOff": 5 } ],
          "pricing": { "noDiscount": { "flags": ["special_price"] } },
          "coupons": { "maxPerOrder": 2, "templates": [
            { "code": "cash50", "name": "¥50", "kind": "cash", "value": 5000, "discountEarnsPoints": true },
            { "code": "cash5", "name": "¥5", "kind": "cash", "value": 500 },
            { "code": "off20", "name": "8折", "kind": "discount", "percentOff": 20, "cap": 1500, "scope": { "brands": ["X"] } },
            { "code": "t30", "name": "满200减30", "kind": "threshold", "value": 3000, "minimumSpend": 20000, "exclusive": true },
            { "code": "handed", "name": "赠品", "kind": "gift", "cost": 800 },
            { "code": "mask", "name": "口罩", "kind": "gift", "giftSku": "MASK" }
          ] }
        }
        """);

    private static readonly PricingMember Member = new("standard", null);

    private static CouponInput Coupon(string template) => new(template.ToUpperInvariant(), Program.Coupons.Find(template)!);

    [Fact]
    public void GiftWithoutSku_TakesNothingOffTheBill()
    {
        var quote = PricingEngine.Quote(Program, [new("A", 1, 30_000)], Member, Day, null, [Coupon("handed")]);

        Assert.Equal(0, quote.CouponDiscount);
        Assert.Equal(28_500, quote.Payable);
    }

    [Fact]
    public void GiftWithSku_MakesOneUnitFreeAtItsMemberPrice()
    {
        var quote = PricingEngine.Quote(Program, [new("MASK", 2, 300)], Member, Day, null, [Coupon("mask")]);

        Assert.Equal((600L, 285L, 315L), (quote.Amount, quote.CouponDiscount, quote.Discount));
        Assert.Equal(285, quote.Payable); // the other unit still at its member price
    }

    [Fact]
    public void DiscountCoupon_AppliesToItsScopeOnly_UpToItsCap()
    {
        var small = PricingEngine.Quote(Program, [new("A", 1, 5_000, Brand: "X"), new("B", 1, 5_000)], Member, Day, null, [Coupon("off20")]);
        var large = PricingEngine.Quote(Program, [new("A", 1, 50_000, Brand: "X")], Member, Day, null, [Coupon("off20")]);

        Assert.Equal(950, small.CouponDiscount); // 20% of ¥47.50
        Assert.Equal(0, small.Lines[1].CouponDiscount);
        Assert.Equal(1_500, large.CouponDiscount);
    }

    [Fact]
    public void Coupons_NeverTouchSpecialPrices_NorTakeMoreThanIsPayable()
    {
        var quote = PricingEngine.Quote(Program, [new("A", 1, 1_000), new("S", 1, 9_000, Flags: ["special_price"])], Member, Day, null, [Coupon("cash50")]);

        Assert.Equal(950, quote.CouponDiscount);
        Assert.Equal((0L, 9_000L), (quote.Lines[0].Paid, quote.Lines[1].Paid));
    }

    [Fact]
    public void Stacking_ExclusiveTooManyAndRepeated_AreRefused()
    {
        List<BasketLine> basket = [new("A", 1, 30_000)];

        Assert.Equal("coupon.exclusive", Assert.Throws<DomainException>(() => PricingEngine.Quote(Program, basket, Member, Day, null, [Coupon("t30"), Coupon("cash5")])).Code);
        Assert.Equal("coupon.too_many", Assert.Throws<DomainException>(() => PricingEngine.Quote(Program, basket, Member, Day, null,
            [Coupon("cash5"), Coupon("cash50"), Coupon("handed")])).Code);
        Assert.Equal("coupon.repeated", Assert.Throws<DomainException>(() => PricingEngine.Quote(Program, basket, Member, Day, null, [Coupon("cash5"), Coupon("cash5")])).Code);
        Assert.Equal("coupon.minimum_spend", PricingEngine.Refusal(Program, [new("A", 1, 10_000)], Member, Day, Coupon("t30"), null)!.Code);
    }

    [Fact]
    public void ACouponWhoseDiscountEarns_PutsThePointsOnTheLines_SoAReturnTakesThemBack()
    {
        List<BasketLine> basket = [new("A", 1, 5_000)];
        var quote = PricingEngine.Quote(Program, basket, new PricingMember(null, null), Day, null, [Coupon("cash50")]);
        var sale = Sale.FromQuote(1, 1, 1, "S1", new DateTime(2026, 6, 15, 4, 0, 0, DateTimeKind.Utc), Day, basket, quote);

        Assert.Equal((0L, 47L), (quote.Payable, quote.Points)); // ¥47.50 after the 5% entry tier, all paid by the coupon
        Assert.Equal(47, sale.Lines[0].Points);
        var ret = sale.Return("S1-R", 1, new DateTime(2026, 6, 16, 4, 0, 0, DateTimeKind.Utc), Day.AddDays(1), [(1, 1)]);
        Assert.Equal(-47, ret.Points);
    }
}
