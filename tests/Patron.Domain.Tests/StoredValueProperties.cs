using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Patron.Domain.Common;
using Patron.Domain.Pricing;
using Patron.Domain.Programs;
using Patron.Domain.Sales;
using Patron.Domain.StoredValue;

namespace Patron.Domain.Tests;

/// <summary>
/// Property tests for stored value: a purse taking random runs of credits, spends and refunds,
/// checked step by step against a model of its lots that the test keeps on its own; how a
/// payment splits between principal and bonus; what a refund forfeits; which bonus tier a top-up
/// earns; and how the returns of a sale paid with stored value (and points) give it back.
/// </summary>
public class StoredValueProperties
{
    private const long MemberId = 7;
    private const long ProgramId = 1;
    private const string Insufficient = "stored_value.insufficient";
    private const string RefundExceeds = "stored_value.refund_exceeds";
    private const string AmountInvalid = "stored_value.amount_invalid";

    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateOnly SaleDate = new(2026, 3, 1);

    /// <summary>Top-ups of ¥100, ¥500 and ¥1,000 earn ¥10, ¥80 and ¥200 of bonus.</summary>
    private static readonly StoredValuePolicy Policy = new()
    {
        Enabled = true,
        BonusTiers =
        [
            new BonusTier { Minimum = 10_000, Bonus = 1_000 },
            new BonusTier { Minimum = 100_000, Bonus = 20_000 },
            new BonusTier { Minimum = 50_000, Bonus = 8_000 },
        ],
    };

    private static readonly ProgramDefinition Program = new() { Code = "T", Name = "T" };

    // ---------------------------------------------------------------- 1. one purse, many operations

    /// <summary>
    /// Random runs of top-ups (with their tier's bonus), spend returns and imports, spends in
    /// every order (some above the balance) and refunds (some above what can be refunded),
    /// starting from random open lots. Every step does exactly what the model says: refusals
    /// change nothing, draws take principal and bonus oldest lot first (refunds newest first), one
    /// entry per lot touched. After every step the balances are the sums of the entries and of
    /// the lots, no lot is below zero or above what it was credited with, and no lot has paid
    /// out bonus as cash: what was refunded from it, plus the bonus spent from it, plus the bonus
    /// it has left, never exceeds its principal (or its bonus, for a lot of more bonus than
    /// principal).
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Purse_RandomCreditSpendRefundSequences_KeepLotsEntriesAndBalancesInStep() =>
        Prop.ForAll(Arb.From(PurseRunGen), run =>
        {
            var purse = new CheckedPurse(run.Lots);
            purse.CheckInvariants();
            var at = Start;
            for (var i = 0; i < run.Ops.Count; i++)
            {
                var op = run.Ops[i];
                at = at.AddHours(op.HoursLater);
                try
                {
                    Apply(purse, op, at, $"op-{i}");
                    purse.CheckInvariants();
                }
                catch (Exception e) when (e is not StepFailedException)
                {
                    throw new StepFailedException($"Step {i} ({op}) with principal {purse.Purse.Principal}, bonus {purse.Purse.Bonus}: {e.Message}", e);
                }
            }
        });

    private static void Apply(CheckedPurse purse, PurseOp op, DateTime at, string reference)
    {
        switch (op)
        {
            case CreditOp credit:
                purse.Credit(credit.Cause, credit.Principal, credit.Bonus, credit.StoreId, at, reference);
                break;
            case SpendOp spend:
                purse.Spend(spend.Amount.Resolve(purse.Purse.Balance), spend.Order, spend.StoreId, at, reference);
                break;
            case RefundOp refund:
                purse.Refund(refund.Amount.Resolve(refund.OfPrincipal ? purse.Purse.Principal : purse.Purse.Refundable), refund.StoreId, at, reference);
                break;
            default:
                throw new InvalidOperationException($"Unknown operation {op}.");
        }
    }

    // ---------------------------------------------------------------- 2. how a payment splits

    /// <summary>
    /// On any purse, any payment within the balance splits into parts within their balances that
    /// add up to the payment: principal first takes bonus only once the principal is used up,
    /// bonus first the reverse, and proportional takes the bonus's share rounded down. Asking
    /// changes nothing; asking for more than the balance, or for nothing, is refused.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property Split_AnyAmountAndOrder_TakesEachPartWithinItsBalanceAsTheOrderSays() =>
        Prop.ForAll(Arb.From(SplitCaseGen), c =>
        {
            var lots = c.Lots.Select(l => new StoredValueLot(MemberId, ProgramId, 1, Start.AddHours(-l.HoursBefore), l.Principal, l.Bonus)).ToList();
            var purse = new StoredValuePurse(MemberId, ProgramId, lots);
            var (principal, bonus) = (lots.Sum(l => l.Principal), lots.Sum(l => l.Bonus));
            Assert.Equal((principal, bonus, principal + bonus), (purse.Principal, purse.Bonus, purse.Balance));

            var amount = c.Amount.Resolve(principal + bonus);
            if (amount <= 0 || amount > principal + bonus)
            {
                var e = Assert.Throws<DomainException>(() => purse.Split(amount, c.Order));
                Assert.Equal(amount <= 0 ? AmountInvalid : Insufficient, e.Code);
            }
            else
            {
                var split = purse.Split(amount, c.Order);
                AssertSplitFollowsOrder(split, amount, principal, bonus, c.Order);
                Assert.Equal(split, purse.Split(amount, c.Order));
            }

            Assert.Equal((principal, bonus), (purse.Principal, purse.Bonus));
            Assert.Empty(purse.Entries);
            Assert.All(lots, l => Assert.Equal((l.Principal, l.Bonus), (l.PrincipalLeft, l.BonusLeft)));
        });

    [Fact]
    public void Split_KnownCases_FollowTheOrder()
    {
        var purse = new StoredValuePurse(MemberId, ProgramId, [new StoredValueLot(MemberId, ProgramId, 1, Start, 300, 100)]);

        Assert.Equal(new StoredValueSplit(250, 0), purse.Split(250, SpendOrder.PrincipalFirst));
        Assert.Equal(new StoredValueSplit(300, 50), purse.Split(350, SpendOrder.PrincipalFirst));
        Assert.Equal(new StoredValueSplit(0, 80), purse.Split(80, SpendOrder.BonusFirst));
        Assert.Equal(new StoredValueSplit(150, 100), purse.Split(250, SpendOrder.BonusFirst));

        // 101 × 100 / 400 = 25.25: the bonus's share rounds down, the principal takes the fen.
        Assert.Equal(new StoredValueSplit(76, 25), purse.Split(101, SpendOrder.Proportional));
        Assert.Equal(new StoredValueSplit(300, 100), purse.Split(400, SpendOrder.Proportional));
        Assert.Equal(Insufficient, Assert.Throws<DomainException>(() => purse.Split(401, SpendOrder.BonusFirst)).Code);
    }

    [Fact]
    public void Spend_OverSeveralLots_TakesPrincipalAndBonusEachOldestFirst()
    {
        // Given out of order: the purse sorts them by when they were sold.
        var newer = new StoredValueLot(MemberId, ProgramId, 2, Start.AddDays(2), 100, 10);
        var older = new StoredValueLot(MemberId, ProgramId, 1, Start, 50, 30);
        var purse = new StoredValuePurse(MemberId, ProgramId, [newer, older]);

        // Bonus first: 30 from the older lot, 10 from the newer, then principal 20 from the older.
        Assert.Equal(new StoredValueSplit(20, 40), purse.Spend(60, SpendOrder.BonusFirst, 3, Start.AddDays(3), "S-1"));
        Assert.Equal((30L, 0L, 100L, 0L), (older.PrincipalLeft, older.BonusLeft, newer.PrincipalLeft, newer.BonusLeft));
        Assert.Collection(
            purse.Entries,
            e => Assert.Equal((older, StoredValueCause.Spend, -20L, -30L, 3L), (e.Lot, e.Cause, e.Principal, e.Bonus, e.StoreId)),
            e => Assert.Equal((newer, StoredValueCause.Spend, 0L, -10L, 3L), (e.Lot, e.Cause, e.Principal, e.Bonus, e.StoreId)));
    }

    // ---------------------------------------------------------------- 3. refunds

    /// <summary>
    /// After a random history, a refund of some, all, or more than what can be refunded (per lot,
    /// the principal left less the bonus spent from it): more is refused and changes nothing;
    /// otherwise lots are drawn newest first, each up to what it can refund, and each forfeits
    /// its bonus left in proportion to the share of that refunded, rounded down (all of it when
    /// all of it is refunded), written as BonusForfeit entries. Cash never comes from bonus:
    /// over the whole run, cash refunded plus bonus spent stays within the principal paid in (the
    /// lots' principal, or bonus where a lot has more bonus than principal).
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Refund_AfterAnyHistory_PaysBackAtMostThePrincipalNotCoveringSpentBonusAndForfeitsBonusInProportion() =>
        Prop.ForAll(Arb.From(RefundCaseGen), c =>
        {
            var purse = new CheckedPurse(c.Run.Lots);
            var at = Start;
            for (var i = 0; i < c.Run.Ops.Count; i++)
            {
                at = at.AddHours(c.Run.Ops[i].HoursLater);
                Apply(purse, c.Run.Ops[i], at, $"op-{i}");
            }

            var p = purse.Purse;
            var (principal, bonus, count) = (p.Principal, p.Bonus, p.Entries.Count);
            var lots = purse.Lots.Select(l => (Lot: l, Can: Math.Max(0, l.PrincipalLeft - purse.BonusSpentFrom(l)), l.BonusLeft)).Reverse().ToList();
            var refundable = lots.Sum(l => l.Can);
            Assert.Equal(refundable, p.Refundable);
            Assert.InRange(refundable, 0, principal);
            var amount = c.Amount.Resolve(c.OfPrincipal ? principal : refundable);
            at = at.AddHours(1);
            if (amount <= 0 || amount > refundable)
            {
                Assert.Equal(RefundExceeds, Assert.Throws<DomainException>(() => p.Refund(amount, 1, at, "refund")).Code);
                Assert.Equal((principal, bonus, count), (p.Principal, p.Bonus, p.Entries.Count));
                return;
            }

            var (refunded, forfeited) = purse.Refund(amount, 1, at, "refund");
            var added = p.Entries.Skip(count).ToList();
            Assert.Equal(amount, refunded);
            Assert.Equal(-amount, added.Where(e => e.Cause == StoredValueCause.Refund).Sum(e => e.Principal));
            Assert.Equal(-forfeited, added.Where(e => e.Cause == StoredValueCause.BonusForfeit).Sum(e => e.Bonus));
            Assert.All(added.Where(e => e.Cause == StoredValueCause.Refund), e => Assert.Equal(0, e.Bonus));
            Assert.All(added.Where(e => e.Cause == StoredValueCause.BonusForfeit), e => Assert.Equal(0, e.Principal));
            Assert.Equal(principal - amount, p.Principal);
            Assert.Equal(bonus - forfeited, p.Bonus);
            Assert.Equal(refundable - amount, p.Refundable);

            // Each lot refunded: all of what it could refund forfeits all its bonus; part of it, the share rounded down.
            var left = amount;
            foreach (var (lot, can, bonusLeft) in lots)
            {
                var take = Math.Min(left, can);
                left -= take;
                var lost = -added.Where(e => e.Cause == StoredValueCause.BonusForfeit && ReferenceEquals(e.Lot, lot)).Sum(e => e.Bonus);
                Assert.Equal(take == 0 ? 0 : take == can ? bonusLeft : (long)((Int128)bonusLeft * take / can), lost);
            }

            if (amount == refundable)
            {
                Assert.Equal(0, p.Refundable);
                Assert.All(lots.Where(l => l.Can > 0), l => Assert.Equal(0, l.Lot.BonusLeft));
            }

            purse.CheckInvariants();
        });

    [Fact]
    public void Refund_PartOfThePrincipal_ForfeitsTheBonusShareRoundedDownFromTheNewestLot()
    {
        var older = new StoredValueLot(MemberId, ProgramId, 1, Start, 1_000, 100);
        var newer = new StoredValueLot(MemberId, ProgramId, 1, Start.AddDays(1), 500, 50);
        var purse = new StoredValuePurse(MemberId, ProgramId, [older, newer]);

        // The newer lot in full forfeits all its bonus; 200 of the older's 1,000: 100 × 200 / 1,000 = 20.
        Assert.Equal((700L, 70L), purse.Refund(700, 1, Start.AddDays(2), "R"));
        Assert.Equal((800L, 80L, 0L, 0L), (older.PrincipalLeft, older.BonusLeft, newer.PrincipalLeft, newer.BonusLeft));
        Assert.Collection(
            purse.Entries,
            e => Assert.Equal((newer, StoredValueCause.Refund, -500L, 0L), (e.Lot, e.Cause, e.Principal, e.Bonus)),
            e => Assert.Equal((older, StoredValueCause.Refund, -200L, 0L), (e.Lot, e.Cause, e.Principal, e.Bonus)),
            e => Assert.Equal((newer, StoredValueCause.BonusForfeit, 0L, -50L), (e.Lot, e.Cause, e.Principal, e.Bonus)),
            e => Assert.Equal((older, StoredValueCause.BonusForfeit, 0L, -20L), (e.Lot, e.Cause, e.Principal, e.Bonus)));

        // Forfeited bonus is not spent bonus: the rest of the principal can still be refunded.
        Assert.Equal(800, purse.Refundable);
        Assert.Equal(RefundExceeds, Assert.Throws<DomainException>(() => purse.Refund(801, 1, Start.AddDays(2), "R")).Code);
        Assert.Equal((800L, 80L), purse.Refund(800, 1, Start.AddDays(3), "R"));
        Assert.Equal(0, purse.Balance);
        Assert.Equal((100L, 50L), (older.BonusForfeited, newer.BonusForfeited));
    }

    /// <summary>
    /// Top up ¥1,000 with ¥200 bonus and spend ¥200 of bonus first: refunding the ¥1,000 would
    /// leave the member ¥200 ahead in cash. Only ¥800 can be refunded; the ¥200 of principal
    /// left (which paid, as it were, for the bonus spent) can still be spent, never refunded.
    /// </summary>
    [Fact]
    public void Refund_AfterBonusSpentFirst_DeductsTheBonusSpentFromWhatCanBeRefunded()
    {
        var lot = new StoredValueLot(MemberId, ProgramId, 1, Start, 100_000, 20_000);
        var purse = new StoredValuePurse(MemberId, ProgramId, [lot]);
        Assert.Equal(new StoredValueSplit(0, 20_000), purse.Spend(20_000, SpendOrder.BonusFirst, 1, Start.AddHours(1), "S-1"));

        Assert.Equal(80_000, purse.Refundable);
        Assert.Equal(RefundExceeds, Assert.Throws<DomainException>(() => purse.Refund(100_000, 1, Start.AddHours(2), "R")).Code);
        Assert.Equal(RefundExceeds, Assert.Throws<DomainException>(() => purse.Refund(80_001, 1, Start.AddHours(2), "R")).Code);
        Assert.Equal((80_000L, 0L), purse.Refund(80_000, 1, Start.AddHours(2), "R"));
        Assert.Equal((20_000L, 0L, 0L), (purse.Principal, purse.Bonus, purse.Refundable));
        Assert.Equal(RefundExceeds, Assert.Throws<DomainException>(() => purse.Refund(1, 1, Start.AddHours(3), "R")).Code);
    }

    /// <summary>
    /// Top up ¥1,000 with ¥200 bonus and spend ¥600 in proportion (¥500 principal, ¥100 bonus):
    /// refunding the ¥500 left would leave the member ¥100 ahead. ¥400 can be refunded, and
    /// refunding it all forfeits the ¥100 of bonus left; ¥200 in part forfeits half of it.
    /// </summary>
    [Fact]
    public void Refund_AfterProportionalSpend_DeductsTheBonusSpentAndForfeitsTheRestInProportion()
    {
        var lot = new StoredValueLot(MemberId, ProgramId, 1, Start, 100_000, 20_000);
        var purse = new StoredValuePurse(MemberId, ProgramId, [lot]);
        Assert.Equal(new StoredValueSplit(50_000, 10_000), purse.Spend(60_000, SpendOrder.Proportional, 1, Start.AddHours(1), "S-1"));

        Assert.Equal(40_000, purse.Refundable);
        Assert.Equal(RefundExceeds, Assert.Throws<DomainException>(() => purse.Refund(50_000, 1, Start.AddHours(2), "R")).Code);
        Assert.Equal((20_000L, 5_000L), purse.Refund(20_000, 1, Start.AddHours(2), "R"));
        Assert.Equal((30_000L, 5_000L, 20_000L), (purse.Principal, purse.Bonus, purse.Refundable));
        Assert.Equal((20_000L, 5_000L), purse.Refund(20_000, 1, Start.AddHours(3), "R"));
        Assert.Equal((10_000L, 0L, 0L), (purse.Principal, purse.Bonus, purse.Refundable));

        // Cash ¥400 + goods ¥600 = the ¥1,000 paid; the ¥100 left is spendable, never refundable.
        Assert.Equal(new StoredValueSplit(10_000, 0), purse.Spend(10_000, SpendOrder.Proportional, 1, Start.AddHours(4), "S-2"));
    }

    // ---------------------------------------------------------------- bonus tiers

    /// <summary>The highest threshold a top-up reaches applies, alone; below every threshold there is none.</summary>
    [Property(MaxTest = 300)]
    public Property BonusFor_AnyTopUpAmount_AppliesTheHighestThresholdReachedAlone() =>
        Prop.ForAll(Arb.From(BonusCaseGen), c =>
        {
            var policy = new StoredValuePolicy { BonusTiers = c.Tiers };
            var tier = policy.BonusFor(c.Amount);
            var reached = c.Tiers.Where(t => t.Minimum <= c.Amount).ToList();
            if (reached.Count == 0)
            {
                Assert.Null(tier);
                return;
            }

            Assert.NotNull(tier);
            Assert.Contains(c.Tiers, t => ReferenceEquals(t, tier));
            Assert.True(tier.Minimum <= c.Amount, $"Tier {tier.Minimum} applied to a top-up of {c.Amount}.");
            Assert.Equal(reached.Max(t => t.Minimum), tier.Minimum);
        });

    // ---------------------------------------------------------------- 4. returns of a sale paid with stored value

    /// <summary>
    /// A random basket is paid partly with points and partly with stored value (often all that is
    /// left to pay), then returned in random parts until every unit is back. Each return gives
    /// back stored value and points (every part ≤ 0 on the return), never more stored value plus
    /// points value than it refunds. So far, points come back at their share of the refund
    /// rounded down, and stored value, stored value with points, and principal within the stored
    /// value each stay within a fen of their pro-rata share. Once all is back, exactly what was
    /// paid has come back: points, principal and bonus.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property SaleReturn_PaidWithStoredValueAndPoints_GiveBackExactlyWhatWasPaidNeverMoreThanRefunded() =>
        Prop.ForAll(Arb.From(StoredSaleGen), s =>
        {
            var sale = PaidSale(s);
            var (storedPrincipal, storedBonus, pointsUsed, pointsValue) = (sale.StoredPrincipal, sale.StoredBonus, sale.PointsUsed, sale.PointsValue);
            long refunded = 0;
            (long P, long B, long Points, long Value) back = default;
            var number = 0;
            foreach (var round in s.Rounds)
            {
                var request = round.Select((q, i) => (LineNo: i + 1, Quantity: q)).Where(x => x.Quantity > 0).ToList();
                if (request.Count == 0)
                {
                    continue;
                }

                var ret = sale.Return($"R-{++number}", 1, Start.AddHours(number), SaleDate, request);
                var all = sale.Lines.All(l => l.ReturnedQuantity == l.Quantity);
                var refund = -ret.Paid;
                refunded += refund;
                Assert.True(
                    ret.StoredPrincipal <= 0 && ret.StoredBonus <= 0 && ret.PointsUsed <= 0 && ret.PointsValue <= 0,
                    $"Return {number} has a positive part: principal {ret.StoredPrincipal}, bonus {ret.StoredBonus}, points {ret.PointsUsed}, value {ret.PointsValue}.");
                Assert.True(
                    -ret.StoredPrincipal - ret.StoredBonus - ret.PointsValue <= refund,
                    $"Return {number} refunds {refund} but gives back stored value {-ret.StoredValue} and points worth {-ret.PointsValue}.");

                back = (back.P - ret.StoredPrincipal, back.B - ret.StoredBonus, back.Points - ret.PointsUsed, back.Value - ret.PointsValue);
                Assert.Equal((back.P, back.B, back.Points, back.Value), (sale.ReturnedStoredPrincipal, sale.ReturnedStoredBonus, sale.ReturnedPointsUsed, sale.ReturnedPointsValue));

                // Points come back at their share of what has been refunded so far, rounded down; the last return takes the rest.
                Assert.Equal(all ? pointsUsed : FloorShare(pointsUsed, refunded, sale.Paid), back.Points);
                Assert.Equal(all ? pointsValue : FloorShare(pointsValue, refunded, sale.Paid), back.Value);

                // Stored value keeps within a fen of its share of the refund, alone and with the
                // points, and its principal within a fen of the principal's part of it.
                Assert.InRange(back.P, 0, storedPrincipal);
                Assert.InRange(back.B, 0, storedBonus);
                var stored = storedPrincipal + storedBonus;
                if (stored > 0)
                {
                    AssertWithinAFen(back.P + back.B, stored, refunded, sale.Paid, "Stored value given back");
                    AssertWithinAFen(back.P + back.B + back.Value, stored + pointsValue, refunded, sale.Paid, "Stored value and points value given back");
                    AssertWithinAFen(back.P, storedPrincipal, back.P + back.B, stored, "Principal given back");
                }
            }

            Assert.Equal(sale.Paid, refunded);
            Assert.Equal((pointsUsed, pointsValue), (back.Points, back.Value));
            Assert.Equal((storedPrincipal, storedBonus), (back.P, back.B));
            Assert.Equal((storedPrincipal, storedBonus), (sale.ReturnedStoredPrincipal, sale.ReturnedStoredBonus));
        });

    /// <summary>Whether <paramref name="actual"/> is less than a fen from total × part / whole.</summary>
    private static void AssertWithinAFen(long actual, long total, long part, long whole, string what)
    {
        var (a, exact) = ((Int128)actual * whole, (Int128)total * part);
        Assert.True(a - whole < exact && exact < a + whole, $"{what}, {actual}, is a fen or more from {total} × {part} / {whole}.");
    }

    /// <summary>
    /// A sale of ¥10 + ¥20 paid entirely with stored value, principal ¥20 and bonus ¥10, returned
    /// line by line. Rounding principal and bonus apart would give back 666 + 333 = 999 fen for
    /// the ¥10 line, and the ¥20 line could then not give back the other 2,001 without passing its
    /// refund: the first return gives back all of its 1,000 fen, the second the rest.
    /// </summary>
    [Fact]
    public void SaleReturn_FullyPaidWithStoredValueInTwoReturns_GivesBackAllOfIt()
    {
        var basket = new List<BasketLine> { new("A", 1, 1_000), new("B", 1, 2_000) };
        var sale = Sale.FromQuote(ProgramId, 1, MemberId, "S-1", Start, SaleDate, basket, PricingEngine.Quote(Program, basket, null, SaleDate));
        sale.PayWithStoredValue(2_000, 1_000);

        var first = sale.Return("R-1", 1, Start.AddHours(1), SaleDate, [(1, 1)]);
        var last = sale.Return("R-2", 1, Start.AddHours(2), SaleDate, [(2, 1)]);

        Assert.Equal((-1_000L, -2_000L), (first.Paid, last.Paid));
        Assert.Equal((-1_000L, -2_000L), (first.StoredPrincipal + first.StoredBonus, last.StoredPrincipal + last.StoredBonus));
        Assert.InRange(-first.StoredPrincipal, 666, 667);
        Assert.Equal((2_000L, 1_000L), (sale.ReturnedStoredPrincipal, sale.ReturnedStoredBonus));
    }

    /// <summary>
    /// Stored value and points together pay for at most what the sale costs, whichever is recorded
    /// first: ¥1 paid with ¥1 of stored value leaves nothing for points.
    /// </summary>
    [Fact]
    public void PayWithPoints_AfterStoredValuePaidTheWholeSale_IsRefused()
    {
        var basket = new List<BasketLine> { new("A", 1, 100) };
        var sale = Sale.FromQuote(ProgramId, 1, MemberId, "S-1", Start, SaleDate, basket, PricingEngine.Quote(Program, basket, null, SaleDate));
        sale.PayWithStoredValue(100, 0);

        Assert.Equal("points.payment_invalid", Assert.Throws<DomainException>(() => sale.PayWithPoints(50, 50)).Code);
        Assert.Equal((0L, 0L), (sale.PointsUsed, sale.PointsValue));
    }

    [Fact]
    public void PayWithStoredValue_MoreThanLeftAfterPoints_IsRefused()
    {
        var basket = new List<BasketLine> { new("A", 2, 1_000) };
        var sale = Sale.FromQuote(ProgramId, 1, MemberId, "S-1", Start, SaleDate, basket, PricingEngine.Quote(Program, basket, null, SaleDate));
        sale.PayWithPoints(500, 500);

        Assert.Equal("stored_value.payment_invalid", Assert.Throws<DomainException>(() => sale.PayWithStoredValue(1_000, 501)).Code);
        Assert.Equal("stored_value.payment_invalid", Assert.Throws<DomainException>(() => sale.PayWithStoredValue(-1, 10)).Code);
        Assert.Equal("stored_value.payment_invalid", Assert.Throws<DomainException>(() => sale.PayWithStoredValue(10, -1)).Code);
        Assert.Equal((0L, 0L), (sale.StoredPrincipal, sale.StoredBonus));

        sale.PayWithStoredValue(1_000, 500);
        Assert.Equal(1_500, sale.StoredValue);

        var ret = sale.Return("R-1", 1, Start, SaleDate, [(1, 2)]);
        Assert.Equal("stored_value.payment_invalid", Assert.Throws<DomainException>(() => ret.PayWithStoredValue(1, 0)).Code);
    }

    private static Sale PaidSale(StoredSale s)
    {
        var basket = s.Lines.Select((l, i) => new BasketLine($"SKU-{i + 1}", l.Quantity, l.UnitPrice)).ToList();
        var sale = Sale.FromQuote(ProgramId, 1, MemberId, "S-1", Start, SaleDate, basket, PricingEngine.Quote(Program, basket, null, SaleDate));
        Assert.Equal(basket.Sum(b => b.Amount), sale.Paid);
        var value = sale.Paid * s.PointsPercent / 100;
        if (value > 0)
        {
            sale.PayWithPoints(value * s.PointsPerFen, value);
        }

        var stored = (sale.Paid - value) * s.StoredPercent / 100;
        var principal = stored * s.PrincipalPercent / 100;
        sale.PayWithStoredValue(principal, stored - principal);
        Assert.Equal((principal, stored - principal), (sale.StoredPrincipal, sale.StoredBonus));
        return sale;
    }

    private static long FloorShare(long total, long part, long whole) => whole == 0 ? 0 : (long)((Int128)total * part / whole);

    // ---------------------------------------------------------------- shared checks

    /// <summary>The split rules, stated without the purse's formula.</summary>
    private static void AssertSplitFollowsOrder(StoredValueSplit split, long amount, long principal, long bonus, SpendOrder order)
    {
        Assert.Equal(amount, split.Principal + split.Bonus);
        Assert.Equal(amount, split.Total);
        Assert.InRange(split.Principal, 0, principal);
        Assert.InRange(split.Bonus, 0, bonus);
        switch (order)
        {
            case SpendOrder.PrincipalFirst:
                Assert.True(split.Bonus == 0 || split.Principal == principal, $"Principal first took {split.Bonus} bonus with {principal - split.Principal} principal left.");
                break;
            case SpendOrder.BonusFirst:
                Assert.True(split.Principal == 0 || split.Bonus == bonus, $"Bonus first took {split.Principal} principal with {bonus - split.Bonus} bonus left.");
                break;
            default:
                // The bonus part is amount × bonus / balance rounded down: b × T ≤ a × B < (b + 1) × T.
                var total = (Int128)(principal + bonus);
                var exact = (Int128)amount * bonus;
                Assert.True(split.Bonus * total <= exact && exact < (split.Bonus + 1) * total, $"Proportional took {split.Bonus} bonus of {amount} from principal {principal}, bonus {bonus}.");
                break;
        }
    }

    /// <summary>
    /// A purse beside a model of its lots in spending order (oldest first) with what each has
    /// left. Each call works out from the model what the purse should do, then checks it did.
    /// </summary>
    private sealed class CheckedPurse
    {
        private readonly List<ModelLot> _model;
        private readonly List<StoredValueLot> _credited = [];
        private readonly long _initialPrincipal;
        private readonly long _initialBonus;

        public CheckedPurse(IReadOnlyList<LotSpec> lots)
        {
            var given = lots.Select(l => new StoredValueLot(MemberId, ProgramId, l.StoreId, Start.AddHours(-l.HoursBefore), l.Principal, l.Bonus)).ToList();
            Purse = new StoredValuePurse(MemberId, ProgramId, given);
            _model = [.. given.Where(l => l.Principal > 0 || l.Bonus > 0).OrderBy(l => l.IssuedAt).Select(l => new ModelLot(l, true, l.Principal, l.Bonus))];
            _initialPrincipal = given.Sum(l => l.Principal);
            _initialBonus = given.Sum(l => l.Bonus);
            Assert.Equal((_initialPrincipal, _initialBonus), (Purse.Principal, Purse.Bonus));
            Assert.Empty(Purse.Entries);
        }

        public StoredValuePurse Purse { get; }

        /// <summary>The lots, oldest first.</summary>
        public IEnumerable<StoredValueLot> Lots => _model.Select(m => m.Lot);

        private long Principal => _model.Sum(m => m.Principal);

        private long Bonus => _model.Sum(m => m.Bonus);

        public void Credit(StoredValueCause cause, long principal, long bonus, long storeId, DateTime at, string reference)
        {
            var before = Snapshot();
            var invalid = principal < 0 || bonus < 0 || principal + bonus == 0;
            StoredValueLot lot;
            try
            {
                lot = Purse.Credit(cause, principal, bonus, storeId, at, reference);
            }
            catch (DomainException e)
            {
                Assert.True(invalid, $"A credit of {principal} + {bonus} was refused.");
                Assert.Equal(AmountInvalid, e.Code);
                AssertUnchanged(before);
                return;
            }

            Assert.False(invalid, $"A credit of {principal} + {bonus} was accepted.");
            Assert.Equal((MemberId, ProgramId, storeId, at), (lot.MemberId, lot.ProgramId, lot.StoreId, lot.IssuedAt));
            Assert.Equal((principal, bonus, principal, bonus), (lot.Principal, lot.Bonus, lot.PrincipalLeft, lot.BonusLeft));
            AssertAppended(before.Count, [(lot, cause, principal, bonus)], storeId, at, reference);
            _model.Add(new ModelLot(lot, false, principal, bonus));
            _credited.Add(lot);
        }

        public void Spend(long amount, SpendOrder order, long storeId, DateTime at, string reference)
        {
            var before = Snapshot();
            var (principal, bonus) = (Principal, Bonus);
            var expectedError = amount <= 0 ? AmountInvalid : amount > principal + bonus ? Insufficient : null;
            if (expectedError is not null)
            {
                Assert.Equal(expectedError, Assert.Throws<DomainException>(() => Purse.Split(amount, order)).Code);
                Assert.Equal(expectedError, Assert.Throws<DomainException>(() => Purse.Spend(amount, order, storeId, at, reference)).Code);
                AssertUnchanged(before);
                return;
            }

            var quoted = Purse.Split(amount, order);
            AssertUnchanged(before);
            var split = Purse.Spend(amount, order, storeId, at, reference);
            Assert.Equal(quoted, split);
            AssertSplitFollowsOrder(split, amount, principal, bonus, order);
            var draws = Draw(split.Principal, split.Bonus);
            AssertAppended(before.Count, [.. draws.Select(d => (d.Lot, StoredValueCause.Spend, -d.Principal, -d.Bonus))], storeId, at, reference);
        }

        public (long Principal, long BonusForfeited) Refund(long amount, long storeId, DateTime at, string reference)
        {
            var before = Snapshot();
            var refundable = _model.Sum(m => Math.Max(0, m.Principal - m.BonusSpent));
            if (amount <= 0 || amount > refundable)
            {
                Assert.Equal(RefundExceeds, Assert.Throws<DomainException>(() => Purse.Refund(amount, storeId, at, reference)).Code);
                AssertUnchanged(before);
                return (0, 0);
            }

            var result = Purse.Refund(amount, storeId, at, reference);

            // Newest lot first, each up to its principal left less the bonus spent from it.
            var refunds = new List<(StoredValueLot, StoredValueCause, long, long)>();
            var forfeits = new List<(StoredValueLot, StoredValueCause, long, long)>();
            var left = amount;
            foreach (var m in Enumerable.Reverse(_model))
            {
                var can = Math.Max(0, m.Principal - m.BonusSpent);
                var take = Math.Min(left, can);
                if (take == 0)
                {
                    continue;
                }

                var forfeit = take == can ? m.Bonus : (long)((Int128)m.Bonus * take / can);
                m.Principal -= take;
                m.Bonus -= forfeit;
                m.Refunded += take;
                left -= take;
                refunds.Add((m.Lot, StoredValueCause.Refund, -take, 0L));
                if (forfeit > 0)
                {
                    forfeits.Add((m.Lot, StoredValueCause.BonusForfeit, 0L, -forfeit));
                }
            }

            Assert.Equal(0, left);
            Assert.Equal((amount, -forfeits.Sum(f => f.Item4)), result);
            AssertAppended(before.Count, [.. refunds, .. forfeits], storeId, at, reference);
            return result;
        }

        /// <summary>The bonus spent (not forfeited) from a lot, by the model.</summary>
        public long BonusSpentFrom(StoredValueLot lot) => _model.Single(m => ReferenceEquals(m.Lot, lot)).BonusSpent;

        /// <summary>The standing invariants of purse, lots and entries.</summary>
        public void CheckInvariants()
        {
            var entries = Purse.Entries;
            Assert.Equal(_initialPrincipal + entries.Sum(e => e.Principal), Purse.Principal);
            Assert.Equal(_initialBonus + entries.Sum(e => e.Bonus), Purse.Bonus);
            Assert.Equal(Purse.Principal + Purse.Bonus, Purse.Balance);
            Assert.Equal((Principal, Bonus), (Purse.Principal, Purse.Bonus));
            Assert.True(Purse.Principal >= 0 && Purse.Bonus >= 0, $"Principal {Purse.Principal}, bonus {Purse.Bonus}.");
            foreach (var m in _model)
            {
                var lot = m.Lot;
                var onLot = entries.Where(e => ReferenceEquals(e.Lot, lot)).ToList();
                Assert.Equal((m.Initial ? lot.Principal : 0) + onLot.Sum(e => e.Principal), lot.PrincipalLeft);
                Assert.Equal((m.Initial ? lot.Bonus : 0) + onLot.Sum(e => e.Bonus), lot.BonusLeft);
                Assert.Equal((m.Principal, m.Bonus), (lot.PrincipalLeft, lot.BonusLeft));
                Assert.InRange(lot.PrincipalLeft, 0, lot.Principal);
                Assert.InRange(lot.BonusLeft, 0, lot.Bonus);

                // Spent and forfeited bonus as the entries say; no bonus paid out as cash.
                var spentBonus = -onLot.Where(e => e.Cause == StoredValueCause.Spend).Sum(e => e.Bonus);
                var refunded = -onLot.Where(e => e.Cause == StoredValueCause.Refund).Sum(e => e.Principal);
                Assert.Equal((m.BonusSpent, m.Refunded), (spentBonus, refunded));
                Assert.Equal(-onLot.Where(e => e.Cause == StoredValueCause.BonusForfeit).Sum(e => e.Bonus), lot.BonusForfeited);
                Assert.Equal(spentBonus, lot.BonusSpent);
                Assert.True(
                    refunded + spentBonus + lot.BonusLeft <= Math.Max(lot.Principal, lot.Bonus),
                    $"A lot of {lot.Principal} + {lot.Bonus} refunded {refunded} with {spentBonus} bonus spent and {lot.BonusLeft} left.");
            }

            Assert.All(entries, e =>
            {
                Assert.Contains(_model, m => ReferenceEquals(m.Lot, e.Lot));
                Assert.True(e.Principal != 0 || e.Bonus != 0, "An empty entry.");
                var credit = e.Cause is StoredValueCause.TopUp or StoredValueCause.SpendReturn or StoredValueCause.Import;
                Assert.True(credit ? e.Principal >= 0 && e.Bonus >= 0 : e.Principal <= 0 && e.Bonus <= 0, $"A {e.Cause} entry of {e.Principal} + {e.Bonus}.");
            });
            var newLots = Purse.NewLots.ToList();
            Assert.All(_credited, l => Assert.Contains(l, newLots));
        }

        /// <summary>Takes principal and bonus for a spend, each lot in turn oldest first, from the model; one draw per lot touched.</summary>
        private List<(StoredValueLot Lot, long Principal, long Bonus)> Draw(long principal, long bonus)
        {
            var draws = new List<(StoredValueLot, long, long)>();
            foreach (var m in _model)
            {
                var (p, b) = (Math.Min(principal, m.Principal), Math.Min(bonus, m.Bonus));
                if (p > 0 || b > 0)
                {
                    m.Principal -= p;
                    m.Bonus -= b;
                    m.BonusSpent += b;
                    principal -= p;
                    bonus -= b;
                    draws.Add((m.Lot, p, b));
                }
            }

            Assert.Equal((0L, 0L), (principal, bonus));
            return draws;
        }

        private void AssertAppended(int count, IReadOnlyList<(StoredValueLot Lot, StoredValueCause Cause, long Principal, long Bonus)> expected, long storeId, DateTime at, string reference)
        {
            var added = Purse.Entries.Skip(count).ToList();
            Assert.Equal(expected.Count, added.Count);
            for (var i = 0; i < added.Count; i++)
            {
                var (e, x) = (added[i], expected[i]);
                Assert.Same(x.Lot, e.Lot);
                Assert.Equal((x.Cause, x.Principal, x.Bonus), (e.Cause, e.Principal, e.Bonus));
                Assert.Equal((MemberId, ProgramId, storeId, at, reference), (e.MemberId, e.ProgramId, e.StoreId, e.At, e.Reference));
            }
        }

        private Snapshot Snapshot() => new(Purse.Entries.Count, [.. _model.Select(m => (m.Lot.PrincipalLeft, m.Lot.BonusLeft))]);

        private void AssertUnchanged(Snapshot before)
        {
            Assert.Equal(before.Count, Purse.Entries.Count);
            Assert.Equal(before.Left, _model.Select(m => (m.Lot.PrincipalLeft, m.Lot.BonusLeft)));
        }
    }

    private sealed class ModelLot(StoredValueLot lot, bool initial, long principal, long bonus)
    {
        public StoredValueLot Lot { get; } = lot;

        public bool Initial { get; } = initial;

        public long Principal { get; set; } = principal;

        public long Bonus { get; set; } = bonus;

        public long BonusSpent { get; set; }

        public long Refunded { get; set; }
    }

    private sealed record Snapshot(int Count, List<(long Principal, long Bonus)> Left);

    /// <summary>Names the step of a run that broke, keeping the original failure inside.</summary>
    private sealed class StepFailedException(string message, Exception inner) : Exception(message, inner);

    // ---------------------------------------------------------------- generators

    private enum AmountKind
    {
        Fixed,
        PercentOf,
        OffsetFrom,
    }

    /// <summary>An amount stated against the balance it is asked of at the time: fixed, a percentage of it, or it ± 1.</summary>
    private sealed record AmountSpec(AmountKind Kind, long Value)
    {
        public long Resolve(long available) => Kind switch
        {
            AmountKind.Fixed => Value,
            AmountKind.PercentOf => available * Value / 100,
            _ => available + Value,
        };

        public override string ToString() => Kind switch
        {
            AmountKind.Fixed => $"{Value}",
            AmountKind.PercentOf => $"{Value}%",
            _ => $"all{Value:+0;-0;+0}",
        };
    }

    private sealed record LotSpec(int HoursBefore, long StoreId, long Principal, long Bonus);

    private abstract record PurseOp(int HoursLater, long StoreId);

    private sealed record CreditOp(int HoursLater, long StoreId, StoredValueCause Cause, long Principal, long Bonus) : PurseOp(HoursLater, StoreId);

    private sealed record SpendOp(int HoursLater, long StoreId, AmountSpec Amount, SpendOrder Order) : PurseOp(HoursLater, StoreId);

    /// <summary>A refund of an amount stated against what can be refunded, or against the principal left.</summary>
    private sealed record RefundOp(int HoursLater, long StoreId, AmountSpec Amount, bool OfPrincipal) : PurseOp(HoursLater, StoreId);

    private sealed record PurseRun(IReadOnlyList<LotSpec> Lots, IReadOnlyList<PurseOp> Ops)
    {
        public override string ToString() => $"Lots = [{string.Join(", ", Lots)}]; Ops = [{string.Join("; ", Ops)}]";
    }

    private sealed record SplitCase(IReadOnlyList<LotSpec> Lots, AmountSpec Amount, SpendOrder Order)
    {
        public override string ToString() => $"Lots = [{string.Join(", ", Lots)}]; Amount = {Amount}; Order = {Order}";
    }

    private sealed record RefundCase(PurseRun Run, AmountSpec Amount, bool OfPrincipal);

    private sealed record BonusCase(BonusTier[] Tiers, long Amount)
    {
        public override string ToString() => $"Tiers = [{string.Join(", ", Tiers.Select(t => $"{t.Minimum}→{t.Bonus}"))}]; Amount = {Amount}";
    }

    private sealed record StoredLine(int Quantity, long UnitPrice);

    private sealed record StoredSale(IReadOnlyList<StoredLine> Lines, IReadOnlyList<int[]> Rounds, int PointsPercent, int PointsPerFen, int StoredPercent, int PrincipalPercent)
    {
        public override string ToString() =>
            $"Lines = [{string.Join(", ", Lines)}]; Rounds = [{string.Join(" | ", Rounds.Select(r => string.Join(",", r)))}]; " +
            $"Points = {PointsPercent}% × {PointsPerFen}; Stored = {StoredPercent}% of the rest, {PrincipalPercent}% principal";
    }

    private static Gen<int> HoursLaterGen => Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(1, 72)));

    private static Gen<long> StoreGen => Gen.Choose(1, 3).Select(s => (long)s);

    private static Gen<long> Fen(int max) => Gen.Frequency((1, Gen.Constant(0L)), (1, Gen.Choose(1, 9).Select(v => (long)v)), (5, Gen.Choose(1, max).Select(v => (long)v)));

    private static Gen<LotSpec> LotSpecGen =>
        from hours in Gen.Choose(1, 24 * 400)
        from store in StoreGen
        from principal in Fen(50_000)
        from bonus in Fen(10_000)
        select new LotSpec(hours, store, principal, bonus);

    private static Gen<AmountSpec> AmountGen => Gen.Frequency(
        (2, Gen.Frequency((1, Gen.Elements(0, -1)), (6, Gen.Choose(1, 30_000))).Select(v => new AmountSpec(AmountKind.Fixed, v))),
        (5, Gen.Frequency((1, Gen.Constant(100)), (6, Gen.Choose(1, 100)), (1, Gen.Choose(101, 150))).Select(v => new AmountSpec(AmountKind.PercentOf, v))),
        (2, Gen.Elements(-1, 0, 1).Select(v => new AmountSpec(AmountKind.OffsetFrom, v))));

    private static Gen<long> TopUpAmountGen => Gen.Frequency(
        (4, Gen.Choose(100, 150_000).Select(v => (long)v)),
        (2, Gen.Elements(9_999L, 10_000L, 49_999L, 50_000L, 99_999L, 100_000L)));

    private static Gen<PurseOp> PurseOpGen => Gen.Frequency(
        (3, from h in HoursLaterGen
            from s in StoreGen
            from amount in TopUpAmountGen
            select (PurseOp)new CreditOp(h, s, StoredValueCause.TopUp, amount, Policy.BonusFor(amount)?.Bonus ?? 0)),
        (2, from h in HoursLaterGen
            from s in StoreGen
            from cause in Gen.Elements(StoredValueCause.SpendReturn, StoredValueCause.SpendReturn, StoredValueCause.Import)
            from p in Gen.Frequency((1, Gen.Elements(0L, -1L)), (6, Fen(20_000)))
            from b in Gen.Frequency((1, Gen.Elements(0L, -1L)), (6, Fen(5_000)))
            select (PurseOp)new CreditOp(h, s, cause, p, b)),
        (5, from h in HoursLaterGen
            from s in StoreGen
            from amount in AmountGen
            from order in Gen.Elements(SpendOrder.BonusFirst, SpendOrder.PrincipalFirst, SpendOrder.Proportional)
            select (PurseOp)new SpendOp(h, s, amount, order)),
        (2, from h in HoursLaterGen
            from s in StoreGen
            from amount in AmountGen
            from ofPrincipal in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
            select (PurseOp)new RefundOp(h, s, amount, ofPrincipal)));

    private static Gen<PurseRun> PurseRunGen =>
        from lotCount in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(1, 5)))
        from lots in LotSpecGen.ListOf(lotCount)
        from count in Gen.Choose(1, 40)
        from ops in PurseOpGen.ListOf(count)
        select new PurseRun([.. lots], [.. ops]);

    private static Gen<SplitCase> SplitCaseGen =>
        from lotCount in Gen.Choose(1, 4)
        from lots in LotSpecGen.ListOf(lotCount)
        from amount in AmountGen
        from order in Gen.Elements(SpendOrder.BonusFirst, SpendOrder.PrincipalFirst, SpendOrder.Proportional)
        select new SplitCase([.. lots], amount, order);

    private static Gen<RefundCase> RefundCaseGen =>
        from run in PurseRunGen
        from amount in AmountGen
        from ofPrincipal in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new RefundCase(run, amount, ofPrincipal);

    private static Gen<BonusCase> BonusCaseGen =>
        from count in Gen.Choose(0, 5)
        from minima in Gen.Choose(1, 2_000).ListOf(count)
        from bonuses in Gen.Choose(0, 500).ArrayOf(count)
        from anywhere in Gen.Choose(0, 2_200)
        from pick in Gen.Choose(0, 4)
        from offset in Gen.Elements(-1, 0, 0, 1)
        from onThreshold in Gen.Frequency((1, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new BonusCase(
            [.. minima.Distinct().Select((m, i) => new BonusTier { Minimum = m, Bonus = bonuses[i] })],
            onThreshold && count > 0 ? minima[pick % count] + offset : anywhere);

    private static Gen<StoredLine> StoredLineGen =>
        from quantity in Gen.Choose(1, 6)
        from price in Gen.Frequency((1, Gen.Constant(0)), (2, Gen.Choose(1, 9)), (6, Gen.Choose(1, 30_000)))
        select new StoredLine(quantity, price);

    private static Gen<StoredSale> StoredSaleGen =>
        from count in Gen.Choose(1, 5)
        from lines in StoredLineGen.ListOf(count)
        from rounds in Gen.Choose(1, 5)
        from splits in Gen.CollectToArray(lines, l => Gen.Piles(rounds, l.Quantity))
        from pointsPercent in Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Choose(0, 100)), (1, Gen.Constant(100)))
        from pointsPerFen in Gen.Choose(1, 3)
        from storedPercent in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(0, 100)), (3, Gen.Constant(100)))
        from principalPercent in Gen.Frequency((1, Gen.Elements(0, 100)), (3, Gen.Choose(0, 100)))
        select new StoredSale(
            [.. lines],
            [.. Enumerable.Range(0, rounds).Select(r => splits.Select(s => s[r]).ToArray())],
            pointsPercent,
            pointsPerFen,
            storedPercent,
            principalPercent);
}
