using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Patron.Domain.Common;
using Patron.Domain.Points;
using Patron.Domain.Pricing;
using Patron.Domain.Programs;
using Patron.Domain.Sales;

namespace Patron.Domain.Tests;

/// <summary>
/// Property tests over sequences: many operations on one points ledger, a sale returned in
/// several parts, and the two together. Every step is checked against figures the test works
/// out on its own (what a refusal should be, what expiry should remove, what a full return
/// should give back), so a wrong ledger or a wrong split fails them.
/// </summary>
public class LedgerSequenceProperties
{
    private const string SpecialPrice = "special_price";
    private const long ApprovalAbove = 1_000;
    private const long RequesterId = 11;
    private const long ApproverId = 12;

    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateOnly SaleDate = new(2026, 3, 1);

    /// <summary>The minimal program (1 point per ¥1, rounded down per receipt) with special-price lines earning nothing.</summary>
    private static readonly ProgramDefinition Program = new()
    {
        Code = "T",
        Name = "T",
        Earning = new EarningRules { Excluded = new LineFilter { Flags = [SpecialPrice] } },
    };

    /// <summary>Spelled out here so that the test does not lean on the policy's defaults.</summary>
    private static readonly Dictionary<string, long> Caps = new() { ["admin"] = 100_000, ["store_manager"] = 500 };

    private static readonly AdjustmentPolicy Adjustments = new() { CapByRole = Caps, ApprovalAbove = ApprovalAbove };

    // ---------------------------------------------------------------- 1. one ledger, many operations

    /// <summary>
    /// Random runs of earning (with or without expiry), spending (possibly refused), return-style
    /// debits that may run into debt (bounded by the run's maximum or unbounded), manual
    /// adjustments through the approval policy and explicit expiry, with time moving forward.
    /// After every step the ledger's invariants hold and the step did exactly what it should.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property PointsAccount_RandomOperationSequences_KeepLedgerInvariantsAfterEveryStep() =>
        Prop.ForAll(Arb.From(LedgerRunGen), run =>
        {
            var ledger = new CheckedLedger(run.MaxDebt);
            var at = Start;
            for (var i = 0; i < run.Ops.Count; i++)
            {
                var op = run.Ops[i];
                at = at.AddHours(op.HoursLater);
                try
                {
                    switch (op)
                    {
                        case EarnOp earn:
                            ledger.Earn(earn.Points, PointsCause.Sale, at, earn.ExpiresInHours is { } h ? at.AddHours(h) : null);
                            break;
                        case SpendOp spend:
                            ledger.Spend(spend.Points, PointsCause.Redemption, at, allowDebt: false, maxDebt: null);
                            break;
                        case ReturnDebitOp debit:
                            ledger.Spend(debit.Points, PointsCause.Return, at, allowDebt: true, maxDebt: run.MaxDebt);
                            break;
                        case AdjustOp adjust:
                            Adjust(ledger, adjust, at);
                            break;
                        case ExpireOp:
                            ledger.Expire(at);
                            break;
                        default:
                            throw new InvalidOperationException($"Unknown operation {op}.");
                    }

                    ledger.CheckInvariants();
                }
                catch (Exception e) when (e is not StepFailedException)
                {
                    throw new StepFailedException($"Step {i} ({op}) at {at:O}: {e.Message}", e);
                }
            }
        });

    /// <summary>Requests an adjustment under the policy, decides it when it waits for approval, and applies it when it stands.</summary>
    private static void Adjust(CheckedLedger ledger, AdjustOp op, DateTime at)
    {
        var magnitude = Math.Abs(op.Points);
        var expectedError = !Caps.TryGetValue(op.Role, out var cap) ? "adjustment.role_forbidden"
            : magnitude > cap ? "adjustment.over_cap"
            : null;

        PointsAdjustment adjustment;
        try
        {
            adjustment = PointsAdjustment.Request(Adjustments, 1, 7, 1, op.Points, "  stock count correction  ", RequesterId, op.Role, at);
        }
        catch (DomainException e)
        {
            Assert.Equal(expectedError, e.Code);
            return;
        }

        Assert.Null(expectedError);
        Assert.Equal(op.Points, adjustment.Points);
        Assert.Equal("stock count correction", adjustment.Reason);
        if (magnitude > ApprovalAbove)
        {
            Assert.Equal(AdjustmentStatus.Pending, adjustment.Status);

            // The requester cannot approve their own adjustment; a second admin decides it, once.
            Assert.Equal("adjustment.same_approver", Assert.Throws<DomainException>(() => adjustment.Decide(Adjustments, true, RequesterId, "admin", at)).Code);
            adjustment.Decide(Adjustments, op.Approve, ApproverId, "admin", at);
            Assert.Equal(op.Approve ? AdjustmentStatus.Applied : AdjustmentStatus.Rejected, adjustment.Status);
            Assert.Equal("adjustment.not_pending", Assert.Throws<DomainException>(() => adjustment.Decide(Adjustments, true, ApproverId, "admin", at)).Code);
        }
        else
        {
            Assert.Equal(AdjustmentStatus.Applied, adjustment.Status);
        }

        if (adjustment.Status != AdjustmentStatus.Applied)
        {
            return;
        }

        if (op.Points > 0)
        {
            ledger.Earn(op.Points, PointsCause.Adjustment, at, null);
        }
        else
        {
            ledger.Spend(-op.Points, PointsCause.Adjustment, at, allowDebt: false, maxDebt: null);
        }
    }

    // ---------------------------------------------------------------- 2. a sale returned in parts

    /// <summary>
    /// A random basket (some lines special-priced and so earning nothing) is quoted, recorded,
    /// and returned in several parts until every unit is back. The sale's points are spread over
    /// the earning lines; each return adds up; no line gives back more than it earned or was
    /// paid; over-returns are refused without changing anything; and the full return reverses
    /// exactly the sale's points and paid amount.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property SaleReturn_RandomPartialReturnsUntilAllBack_ReverseExactlyWhatTheSaleRecorded() =>
        Prop.ForAll(Arb.From(SaleScenarioGen), scenario =>
        {
            var (sale, quote) = RecordSale(scenario);
            var n = scenario.Lines.Count;

            // Points: 1 per ¥1 of what the earning lines paid, rounded down once per receipt.
            var eligible = scenario.Lines.Where(l => !l.Special).Sum(l => l.Quantity * l.UnitPrice);
            Assert.Equal(eligible, quote.EligibleForPoints);
            Assert.Equal(eligible / 100, quote.Points);
            Assert.Equal(quote.Points, sale.Points);
            Assert.Equal(quote.Payable, sale.Paid);
            Assert.Equal(sale.Points, sale.Lines.Sum(l => l.Points));
            Assert.Equal(sale.Paid, sale.Lines.Sum(l => l.Paid));
            Assert.Equal(n, sale.Lines.Count);
            for (var i = 0; i < n; i++)
            {
                var line = sale.Lines[i];
                var spec = scenario.Lines[i];
                Assert.Equal(i + 1, line.LineNo);
                Assert.Equal(spec.Quantity, line.Quantity);
                Assert.Equal(spec.Quantity * spec.UnitPrice, line.Paid);
                if (spec.Special)
                {
                    Assert.Equal(0, line.Points);
                }
                else
                {
                    // Largest remainder: each earning line gets its exact share rounded down or up, never further off.
                    var exact = (decimal)sale.Points * line.Paid / Math.Max(1, eligible);
                    Assert.InRange(line.Points, (long)decimal.Floor(exact), (long)decimal.Ceiling(exact));
                }
            }

            var returnedQuantity = new int[n];
            var returnedPoints = new long[n];
            var returnedPaid = new long[n];
            long totalPoints = 0;
            long totalPaid = 0;
            var at = Start;
            var number = 0;
            for (var r = 0; r < scenario.Rounds.Count; r++)
            {
                at = at.AddHours(5);
                var request = RoundRequest(scenario.Rounds[r]);
                if (request.Count == 0)
                {
                    continue;
                }

                var ret = sale.Return($"R-{++number}", 1, at, SaleDate, request);
                Assert.Equal(SaleKind.Return, ret.Kind);
                Assert.Equal(request.Count, ret.Lines.Count);
                Assert.Equal(ret.Lines.Sum(l => l.Points), ret.Points);
                Assert.Equal(ret.Lines.Sum(l => l.Paid), ret.Paid);
                foreach (var (lineNo, quantity) in request)
                {
                    var i = lineNo - 1;
                    var back = Assert.Single(ret.Lines, l => l.LineNo == lineNo);
                    var line = sale.Lines[i];
                    Assert.Equal(-quantity, back.Quantity);
                    Assert.True(back.Points <= 0 && back.Paid <= 0, $"Return line {lineNo} gives back {back.Points} points and {back.Paid} fen.");
                    returnedQuantity[i] += quantity;
                    returnedPoints[i] -= back.Points;
                    returnedPaid[i] -= back.Paid;
                    Assert.Equal(returnedQuantity[i], line.ReturnedQuantity);
                    Assert.Equal(returnedPoints[i], line.ReturnedPoints);
                    Assert.InRange(returnedPoints[i], 0, line.Points);
                    Assert.InRange(returnedPaid[i], 0, line.Paid);
                    if (returnedQuantity[i] == line.Quantity)
                    {
                        Assert.Equal(line.Points, returnedPoints[i]);
                        Assert.Equal(line.Paid, returnedPaid[i]);
                    }
                }

                totalPoints += ret.Points;
                totalPaid += ret.Paid;

                // One more unit than is left on some line is refused, and the refusal changes nothing.
                var probe = sale.Lines[scenario.Probes[r] % n];
                var left = probe.Quantity - probe.ReturnedQuantity;
                AssertOverReturnRefused(sale, probe, left + 1, at);
            }

            Assert.Equal(scenario.Lines.Select(l => l.Quantity), returnedQuantity);
            Assert.Equal(-sale.Points, totalPoints);
            Assert.Equal(-sale.Paid, totalPaid);
            foreach (var line in sale.Lines)
            {
                AssertOverReturnRefused(sale, line, 1, at);
            }
        });

    [Fact]
    public void SaleReturn_RefusedOnALaterLine_LeavesEveryLineAsItWas()
    {
        var basket = new List<BasketLine> { new("A", 2, 1000), new("B", 1, 500) };
        var sale = Sale.FromQuote(1, 1, 7, "S-1", Start, SaleDate, basket, PricingEngine.Quote(Program, basket, new PricingMember(null, null), SaleDate));

        Assert.Equal("return.quantity_exceeds", Assert.Throws<DomainException>(() => sale.Return("R-1", 1, Start, SaleDate, [(1, 2), (2, 5)])).Code);
        Assert.Equal("return.line_repeated", Assert.Throws<DomainException>(() => sale.Return("R-2", 1, Start, SaleDate, [(1, 1), (1, 1)])).Code);
        Assert.Equal("return.line_unknown", Assert.Throws<DomainException>(() => sale.Return("R-3", 1, Start, SaleDate, [(1, 1), (9, 1)])).Code);

        Assert.All(sale.Lines, l => Assert.Equal((0, 0L, 0L), (l.ReturnedQuantity, l.ReturnedPoints, l.ReturnedPaid)));
        Assert.Equal(-sale.Points, sale.Return("R-4", 1, Start, SaleDate, [(1, 2), (2, 1)]).Points);
    }

    private static void AssertOverReturnRefused(Sale sale, SaleLine line, int quantity, DateTime at)
    {
        var (returned, points, paid) = (line.ReturnedQuantity, line.ReturnedPoints, line.ReturnedPaid);
        var e = Assert.Throws<DomainException>(() => sale.Return("R-over", 1, at, SaleDate, [(line.LineNo, quantity)]));
        Assert.Equal("return.quantity_exceeds", e.Code);
        Assert.Equal((returned, points, paid), (line.ReturnedQuantity, line.ReturnedPoints, line.ReturnedPaid));
    }

    // ---------------------------------------------------------------- 3. sale, spend, returns on one ledger

    /// <summary>
    /// Points from earlier purchases plus a recorded sale's points are credited, part of the
    /// balance is spent, then every return reverses its points as a debit that may run into
    /// debt. The balance tracks earned − spent − returned at each step, the debt is exactly what
    /// the balance is below zero, and in the end the sale's points are gone entirely.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property PointsAccount_SaleSpendThenReturns_EndsAtEarnedMinusSpentMinusReturned() =>
        Prop.ForAll(Arb.From(CombinedScenarioGen), scenario =>
        {
            var ledger = new CheckedLedger(maxDebt: null);
            var at = Start;
            if (scenario.Prior > 0)
            {
                ledger.Earn(scenario.Prior, PointsCause.Sale, at, null);
            }

            var (sale, _) = RecordSale(scenario.Sale);
            at = at.AddHours(1);
            if (sale.Points > 0)
            {
                ledger.Earn(sale.Points, PointsCause.Sale, at, null);
            }

            var earned = scenario.Prior + sale.Points;
            var spent = earned * scenario.SpendPercent / 100;
            if (spent > 0)
            {
                at = at.AddHours(1);
                Assert.True(ledger.Spend(spent, PointsCause.Redemption, at, allowDebt: false, maxDebt: null), "A spend within the balance was refused.");
            }

            long returned = 0;
            var number = 0;
            foreach (var round in scenario.Sale.Rounds)
            {
                var request = RoundRequest(round);
                if (request.Count == 0)
                {
                    continue;
                }

                at = at.AddHours(3);
                var ret = sale.Return($"R-{++number}", 1, at, SaleDate, request);
                if (ret.Points != 0)
                {
                    Assert.True(ledger.Spend(-ret.Points, PointsCause.Return, at, allowDebt: true, maxDebt: null), "An unbounded return debit was refused.");
                    returned -= ret.Points;
                }

                ledger.CheckInvariants();
                Assert.Equal(earned - spent - returned, ledger.Account.Balance);
                Assert.Equal(Math.Max(0, -ledger.Account.Balance), ledger.Account.Debt);
            }

            Assert.Equal(sale.Points, returned);
            Assert.Equal(scenario.Prior - spent, ledger.Account.Balance);
            Assert.Equal(Math.Max(0, spent - scenario.Prior), ledger.Account.Debt);
        });

    // ---------------------------------------------------------------- shared helpers

    private static (Sale Sale, Quote Quote) RecordSale(SaleScenario scenario)
    {
        var basket = scenario.Lines
            .Select((l, i) => new BasketLine($"SKU-{i + 1}", l.Quantity, l.UnitPrice, Flags: l.Special ? [SpecialPrice] : null))
            .ToList();
        var quote = PricingEngine.Quote(Program, basket, new PricingMember(null, null), SaleDate);
        return (Sale.FromQuote(1, 1, 7, "S-1", Start, SaleDate, basket, quote), quote);
    }

    /// <summary>The lines a return round names: every line with a positive quantity in it.</summary>
    private static List<(int LineNo, int Quantity)> RoundRequest(int[] round) =>
        round.Select((q, i) => (LineNo: i + 1, Quantity: q)).Where(x => x.Quantity > 0).ToList();

    /// <summary>
    /// A <see cref="PointsAccount"/> wrapped so that each call is checked against what the test
    /// expects from the state just before it: the refusal rule, the debt moved, the lots drawn,
    /// and the expiry entries written.
    /// </summary>
    private sealed class CheckedLedger(long? maxDebt)
    {
        private readonly List<PointsLot> _lots = [];

        public PointsAccount Account { get; } = new(memberId: 7);

        public void Earn(long points, PointsCause cause, DateTime at, DateTime? expiresAt)
        {
            var (balance, debt, count) = (Account.Balance, Account.Debt, Account.Entries.Count);
            var entry = Account.Earn(points, cause, at, expiresAt);
            var repaid = Math.Min(debt, points);

            Assert.Equal(count + 1, Account.Entries.Count);
            Assert.Same(entry, Account.Entries[^1]);
            Assert.Equal(points, entry.Points);
            Assert.Equal(cause, entry.Cause);
            Assert.Equal(repaid, entry.DebtRepaid);
            Assert.Equal(0, entry.DebtIncurred);
            var lot = Assert.IsType<PointsLot>(entry.Lot);
            Assert.Equal(points, lot.Points);
            Assert.Equal(points - repaid, lot.Remaining);
            Assert.Equal(expiresAt, lot.ExpiresAt);
            Assert.Equal(debt - repaid, Account.Debt);
            Assert.Equal(balance + points, Account.Balance);
            _lots.Add(lot);
        }

        /// <summary>Debits and checks the outcome; true when the debit was made, false when it was (rightly) refused.</summary>
        public bool Spend(long points, PointsCause cause, DateTime at, bool allowDebt, long? maxDebt)
        {
            var (balance, debt, count) = (Account.Balance, Account.Debt, Account.Entries.Count);
            var before = Snapshot();
            var lapsed = LapsedAt(before, at);
            var lapsedPoints = lapsed.Sum(l => before[l]);

            // Lapsed points are never spent; the rest becomes debt only where allowed and within the limit.
            var available = Math.Max(0, balance - lapsedPoints);
            var shortfall = Math.Max(0, points - available);
            var refusalExpected = shortfall > 0 && (!allowDebt || (maxDebt is { } max && debt + shortfall > max));

            PointsEntry? entry = null;
            try
            {
                entry = Account.Spend(points, cause, at, "ref", allowDebt, maxDebt);
            }
            catch (DomainException e)
            {
                Assert.Equal("points.insufficient", e.Code);
            }

            Assert.True(refusalExpected == (entry is null), $"Spend of {points} (available {available}, debt {debt}, allowDebt {allowDebt}, max {maxDebt}): refusal expected {refusalExpected}, refused {entry is null}.");
            var added = Account.Entries.Skip(count).ToList();
            CheckExpiries(before, lapsed, entry is null ? added : added.SkipLast(1).ToList());

            if (entry is null)
            {
                // A refusal moves nothing. The debit expires lapsed lots before it looks at the
                // balance and that expiry stays even when it is refused; with nothing lapsed, the
                // ledger is exactly as it was.
                Assert.Equal(debt, Account.Debt);
                Assert.Equal(balance - lapsedPoints, Account.Balance);
                if (lapsed.Count == 0)
                {
                    Assert.Equal(count, Account.Entries.Count);
                    Assert.Equal(balance, Account.Balance);
                }

                return false;
            }

            Assert.Same(entry, added[^1]);
            Assert.Equal(-points, entry.Points);
            Assert.Equal(cause, entry.Cause);
            Assert.Null(entry.Lot);
            Assert.Equal(shortfall, entry.DebtIncurred);
            Assert.Equal(0, entry.DebtRepaid);
            Assert.Equal(debt + shortfall, Account.Debt);
            Assert.Equal(balance - lapsedPoints - points, Account.Balance);
            if (!allowDebt)
            {
                Assert.True(Account.Balance >= 0, $"A spend without debt left the balance at {Account.Balance}.");
            }

            // The draws cover what was not debt, from distinct live lots, soonest expiry first.
            Assert.Equal(points - shortfall, entry.Draws.Sum(d => d.Points));
            Assert.All(entry.Draws, d => Assert.True(d.Points > 0 && !lapsed.Contains(d.Lot) && before[d.Lot] - d.Points == d.Lot.Remaining, $"Bad draw of {d.Points} from a lot that had {before[d.Lot]}."));
            Assert.Equal(entry.Draws.Count, entry.Draws.Select(d => d.Lot).Distinct().Count());
            Assert.All(entry.Draws.SkipLast(1), d => Assert.Equal(0, d.Lot.Remaining));
            if (entry.Draws.Count > 0)
            {
                var lastKey = ExpiryKey(entry.Draws[^1].Lot);
                Assert.All(Account.Lots.Where(l => entry.Draws.All(d => d.Lot != l)), l => Assert.True(ExpiryKey(l) >= lastKey, "A lot expiring sooner was left while a later one was drawn."));
            }

            return true;
        }

        public void Expire(DateTime at)
        {
            var (balance, debt, count) = (Account.Balance, Account.Debt, Account.Entries.Count);
            var before = Snapshot();
            var lapsed = LapsedAt(before, at);

            var expired = Account.Expire(at);
            Assert.Equal(Account.Entries.Skip(count), expired);
            CheckExpiries(before, lapsed, expired);
            Assert.Equal(balance - lapsed.Sum(l => before[l]), Account.Balance);
            Assert.Equal(debt, Account.Debt);

            // Expiring again at the same time finds nothing left to remove.
            var countAfter = Account.Entries.Count;
            Assert.Empty(Account.Expire(at));
            Assert.Equal(countAfter, Account.Entries.Count);
        }

        /// <summary>The ledger's standing invariants, checked after every step.</summary>
        public void CheckInvariants()
        {
            Assert.Equal(Account.Entries.Sum(e => e.Points), Account.Balance);
            Assert.Equal(Account.Lots.Sum(l => l.Remaining) - Account.Debt, Account.Balance);
            Assert.All(_lots, l => Assert.InRange(l.Remaining, 0, l.Points));
            Assert.Equal(_lots.Where(l => l.Remaining > 0), Account.Lots);
            Assert.Equal(_lots, Account.NewLots);
            Assert.True(Account.Debt >= 0, $"Debt is {Account.Debt}.");
            if (maxDebt is { } max)
            {
                Assert.True(Account.Debt <= max, $"Debt {Account.Debt} is above the limit {max}.");
            }

            // Credits repay debt first, so debt never sits beside points still to spend.
            Assert.True(Account.Debt == 0 || !Account.Lots.Any(), $"Debt {Account.Debt} beside open lots.");
        }

        private Dictionary<PointsLot, long> Snapshot() => _lots.ToDictionary(l => l, l => l.Remaining);

        /// <summary>Lots with points left whose lapse time has come (a lot lapses at its expiry instant, not after it).</summary>
        private static HashSet<PointsLot> LapsedAt(Dictionary<PointsLot, long> before, DateTime at) =>
            before.Where(x => x.Value > 0 && x.Key.ExpiresAt is { } e && e <= at).Select(x => x.Key).ToHashSet();

        private static DateTime ExpiryKey(PointsLot lot) => lot.ExpiresAt ?? DateTime.MaxValue;

        /// <summary>One expiry entry per lapsed lot, removing exactly what that lot had left, dated when it lapsed.</summary>
        private static void CheckExpiries(Dictionary<PointsLot, long> before, HashSet<PointsLot> lapsed, IReadOnlyList<PointsEntry> entries)
        {
            Assert.Equal(lapsed.Count, entries.Count);
            Assert.Equal(entries.Count, entries.Select(e => e.Lot).Distinct().Count());
            foreach (var e in entries)
            {
                Assert.Equal(PointsCause.Expiry, e.Cause);
                var lot = Assert.IsType<PointsLot>(e.Lot);
                Assert.Contains(lot, lapsed);
                Assert.Equal(-before[lot], e.Points);
                Assert.Equal(0, lot.Remaining);
                Assert.Equal(lot.ExpiresAt, e.At);
                Assert.Equal([new LotDraw(lot, before[lot])], e.Draws);
                Assert.Equal(0, e.DebtIncurred);
                Assert.Equal(0, e.DebtRepaid);
            }
        }
    }

    /// <summary>Names the step of a run that broke, keeping the original failure inside.</summary>
    private sealed class StepFailedException(string message, Exception inner) : Exception(message, inner);

    // ---------------------------------------------------------------- generators

    private abstract record LedgerOp(int HoursLater);

    private sealed record EarnOp(int HoursLater, long Points, int? ExpiresInHours) : LedgerOp(HoursLater);

    private sealed record SpendOp(int HoursLater, long Points) : LedgerOp(HoursLater);

    private sealed record ReturnDebitOp(int HoursLater, long Points) : LedgerOp(HoursLater);

    private sealed record AdjustOp(int HoursLater, long Points, string Role, bool Approve) : LedgerOp(HoursLater);

    private sealed record ExpireOp(int HoursLater) : LedgerOp(HoursLater);

    private sealed record LedgerRun(long? MaxDebt, IReadOnlyList<LedgerOp> Ops)
    {
        public override string ToString() => $"MaxDebt = {MaxDebt?.ToString() ?? "none"}; {string.Join("; ", Ops)}";
    }

    private sealed record LineSpec(int Quantity, long UnitPrice, bool Special);

    /// <summary>A basket, and its return in rounds: Rounds[r][i] units of line i + 1 go back in round r.</summary>
    private sealed record SaleScenario(IReadOnlyList<LineSpec> Lines, IReadOnlyList<int[]> Rounds, int[] Probes)
    {
        public override string ToString() =>
            $"Lines = [{string.Join(", ", Lines)}]; Rounds = [{string.Join(" | ", Rounds.Select(r => string.Join(",", r)))}]; Probes = [{string.Join(",", Probes)}]";
    }

    private sealed record CombinedScenario(long Prior, int SpendPercent, SaleScenario Sale);

    /// <summary>Mostly some time passes, sometimes none (several operations at one instant).</summary>
    private static Gen<int> HoursLaterGen => Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(1, 48)));

    private static Gen<int?> ExpiresInHoursGen =>
        Gen.Frequency((1, Gen.Constant<int?>(null)), (3, Gen.Choose(1, 240).Select(h => (int?)h)));

    private static Gen<LedgerOp> LedgerOpGen => Gen.Frequency(
        (4, from h in HoursLaterGen from p in Gen.Choose(1, 500) from e in ExpiresInHoursGen select (LedgerOp)new EarnOp(h, p, e)),
        (3, from h in HoursLaterGen from p in Gen.Choose(1, 600) select (LedgerOp)new SpendOp(h, p)),
        (2, from h in HoursLaterGen from p in Gen.Choose(1, 600) select (LedgerOp)new ReturnDebitOp(h, p)),
        (2, from h in HoursLaterGen
            from p in Gen.Frequency((3, Gen.Choose(1, 500)), (2, Gen.Choose(501, 1_500)), (1, Gen.Elements(500, 501, 1_000, 1_001)))
            from negative in Gen.Elements(true, false)
            from role in Gen.Elements("admin", "admin", "store_manager", "cashier")
            from approve in Gen.Elements(true, false)
            select (LedgerOp)new AdjustOp(h, negative ? -p : p, role, approve)),
        (2, HoursLaterGen.Select(h => (LedgerOp)new ExpireOp(h))));

    private static Gen<LedgerRun> LedgerRunGen =>
        from maxDebt in Gen.Frequency((1, Gen.Constant<long?>(null)), (2, Gen.Choose(0, 800).Select(m => (long?)m)))
        from count in Gen.Choose(1, 40)
        from ops in LedgerOpGen.ListOf(count)
        select new LedgerRun(maxDebt, ops.ToList());

    private static Gen<LineSpec> LineSpecGen =>
        from quantity in Gen.Choose(1, 5)
        from price in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Choose(1, 99)), (6, Gen.Choose(0, 50_000)))
        from special in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new LineSpec(quantity, price, special);

    private static Gen<SaleScenario> SaleScenarioGen =>
        from count in Gen.Choose(1, 6)
        from lines in LineSpecGen.ListOf(count)
        from rounds in Gen.Choose(1, 5)
        from splits in Gen.CollectToArray(lines, l => Gen.Piles(rounds, l.Quantity))
        from probes in Gen.Choose(0, 1_000).ArrayOf(rounds)
        select new SaleScenario(
            lines.ToList(),
            Enumerable.Range(0, rounds).Select(r => splits.Select(s => s[r]).ToArray()).ToList(),
            probes);

    private static Gen<CombinedScenario> CombinedScenarioGen =>
        from prior in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(1, 3_000)))
        from percent in Gen.Choose(0, 100)
        from sale in SaleScenarioGen
        select new CombinedScenario(prior, percent, sale);
}
