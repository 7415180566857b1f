using FsCheck.Xunit;
using Patron.Domain.Common;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Tiers;
using static Patron.Domain.Tests.Samples;

namespace Patron.Domain.Tests;

public class PointsLedgerTests
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static DateTime Local(int y, int m, int d, int h = 12) =>
        TimeZoneInfo.ConvertTimeToUtc(new DateTime(y, m, d, h, 0, 0, DateTimeKind.Unspecified), Shanghai);

    [Fact]
    public void P1_E5_points_earned_on_31_December_survive_the_new_year_clearing()
    {
        var account = new PointsAccount();
        var first = Local(2026, 12, 30);
        var second = Local(2026, 12, 31, 21);
        account.Earn(80, PointsCause.Sale, first, ExpiryCalculator.ExpiresAt(P1.Expiry, first, Shanghai));
        account.Earn(100, PointsCause.Sale, second, ExpiryCalculator.ExpiresAt(P1.Expiry, second, Shanghai));

        Assert.Equal(180, account.Balance);
        Assert.Equal(80, account.ExpiringBy(Local(2027, 1, 1, 0)));
        Assert.Empty(account.Expire(Local(2026, 12, 31, 23).AddMinutes(59)));

        var expired = Assert.Single(account.Expire(Local(2027, 1, 1, 0)));
        Assert.Equal(-80, expired.Points);
        Assert.Equal(PointsCause.Expiry, expired.Cause);
        Assert.Equal(100, account.Balance);
        Assert.Empty(account.Expire(Local(2027, 1, 1, 0))); // exactly once
        Assert.Equal(Local(2028, 1, 1, 0), ExpiryCalculator.ExpiresAt(P1.Expiry, second, Shanghai));
    }

    [Theory]
    [InlineData(ExpiryKind.Never, 0, "2026-03-10", null)]
    [InlineData(ExpiryKind.AfterDays, 30, "2026-03-10", "2026-04-10")]
    [InlineData(ExpiryKind.AfterMonths, 12, "2026-03-10", "2027-03-11")]
    [InlineData(ExpiryKind.EndOfYear, 0, "2026-12-31", "2027-01-01")]
    [InlineData(ExpiryKind.EndOfMonth, 0, "2026-03-10", "2026-04-01")]
    [InlineData(ExpiryKind.EndOfMonth, 2, "2026-12-10", "2027-03-01")]
    [InlineData(ExpiryKind.EndOfQuarter, 0, "2026-05-10", "2026-07-01")]
    [InlineData(ExpiryKind.EndOfQuarter, 1, "2026-11-10", "2027-04-01")]
    public void Expiry_policies_lapse_at_local_midnight_of_the_right_day(ExpiryKind kind, int after, string earned, string? lapses)
    {
        var e = DateOnly.Parse(earned, System.Globalization.CultureInfo.InvariantCulture);
        var at = ExpiryCalculator.ExpiresAt(new ExpiryPolicy { Kind = kind, After = after }, Local(e.Year, e.Month, e.Day), Shanghai);
        if (lapses is null)
        {
            Assert.Null(at);
            return;
        }

        var l = DateOnly.Parse(lapses, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Local(l.Year, l.Month, l.Day, 0), at);
    }

    [Fact]
    public void P1_E2_a_return_removes_the_points_the_line_earned()
    {
        var account = new PointsAccount();
        account.Earn(45, PointsCause.Sale, Local(2026, 3, 19), null, "sale-1");
        var entry = account.Spend(45, PointsCause.Return, Local(2026, 3, 20), "return-1");
        Assert.Equal(0, account.Balance);
        Assert.Equal(0, entry.DebtIncurred);
    }

    [Fact]
    public void Spending_draws_the_lots_that_expire_first()
    {
        var account = new PointsAccount();
        var now = Local(2026, 6, 1);
        var never = account.Earn(50, PointsCause.Sale, now, null).Lot!;
        var late = account.Earn(30, PointsCause.Sale, now, now.AddDays(200)).Lot!;
        var soon = account.Earn(40, PointsCause.Sale, now, now.AddDays(100)).Lot!;

        var spend = account.Spend(60, PointsCause.Redemption, now.AddDays(1));

        Assert.Equal([new LotDraw(soon, 40), new LotDraw(late, 20)], spend.Draws);
        Assert.Equal(50, never.Remaining);
        Assert.Equal(60, account.Balance);
    }

    [Fact]
    public void Lapsed_points_are_never_spent()
    {
        var account = new PointsAccount();
        var now = Local(2026, 6, 1);
        account.Earn(100, PointsCause.Sale, now, now.AddDays(10));
        var e = Assert.Throws<DomainException>(() => account.Spend(50, PointsCause.Redemption, now.AddDays(10)));
        Assert.Equal("points.insufficient", e.Code);
        Assert.Equal(0, account.Balance);
    }

    [Fact]
    public void P3_E5_a_return_after_spending_leaves_a_debt_that_blocks_redemption_until_repaid()
    {
        var account = new PointsAccount();
        var now = Local(2026, 6, 1);
        account.Earn(700, PointsCause.Sale, now, null, "earlier");
        account.Earn(500, PointsCause.Sale, now, null, "to-be-returned");
        account.Spend(1000, PointsCause.Redemption, now, "¥20 coupon");
        Assert.Equal(200, account.Balance);

        var ret = account.Spend(500, PointsCause.Return, now.AddDays(1), "return", allowDebt: P3.PointsDebt.Allowed, maxDebt: P3.PointsDebt.Max == 0 ? null : P3.PointsDebt.Max);
        Assert.Equal(-300, account.Balance);
        Assert.Equal(300, ret.DebtIncurred);
        Assert.Equal("points.insufficient", Assert.Throws<DomainException>(() => account.Spend(1, PointsCause.Redemption, now.AddDays(1))).Code);

        var repay = account.Earn(350, PointsCause.Sale, now.AddDays(2), null);
        Assert.Equal(300, repay.DebtRepaid);
        Assert.Equal(50, account.Balance);
        account.Spend(50, PointsCause.Redemption, now.AddDays(2));
        Assert.Equal(0, account.Balance);
    }

    [Fact]
    public void Debt_is_bounded_by_the_program()
    {
        var account = new PointsAccount();
        var e = Assert.Throws<DomainException>(() => account.Spend(101, PointsCause.Return, Local(2026, 1, 1), allowDebt: true, maxDebt: 100));
        Assert.Equal("points.insufficient", e.Code);
        Assert.Equal(0, account.Balance);
        account.Spend(100, PointsCause.Return, Local(2026, 1, 1), allowDebt: true, maxDebt: 100);
        Assert.Equal(-100, account.Balance);
    }

    [Fact]
    public void P3_E4_crossing_5000_cumulative_points_promotes_to_silver_at_once()
    {
        Assert.Equal("standard", TierEvaluator.AfterEvent(P3, "standard", new TierCounters(CumulativeEarnedPoints: 4900)));
        Assert.Equal("silver", TierEvaluator.AfterEvent(P3, "standard", new TierCounters(CumulativeEarnedPoints: 5050)));
        Assert.Equal("diamond", TierEvaluator.AfterEvent(P3, "standard", new TierCounters(CumulativeEarnedPoints: 40000)));

        // Events never demote: spending points does not lower cumulative earned points, and a lower counter keeps the tier.
        Assert.Equal("gold", TierEvaluator.AfterEvent(P3, "gold", new TierCounters(CumulativeEarnedPoints: 100)));
    }

    [Fact]
    public void P1_gold_is_granted_by_head_office_and_never_reached_or_lost_by_counters()
    {
        Assert.Equal("standard", TierEvaluator.AfterEvent(P1, "standard", new TierCounters(1_000_000, 1_000_000_00, 1_000_000_00)));
        Assert.Equal("gold", TierEvaluator.AfterEvent(P1, "gold", new TierCounters()));
    }

    /// <summary>
    /// Random runs of earning, spending (with and without debt) and expiry: the balance is always
    /// the sum of the entries, lots never go negative or above what they credited, and only debt
    /// makes the balance negative.
    /// </summary>
    [Property(MaxTest = 300)]
    public bool Balance_is_the_sum_of_entries_whatever_happens(int[] operations)
    {
        var account = new PointsAccount();
        var at = Local(2026, 1, 1);
        foreach (var op in operations)
        {
            at = at.AddHours(Math.Abs(op % 97) + 1);
            var amount = (Math.Abs(op / 7) % 500) + 1;
            try
            {
                switch (Math.Abs(op % 4))
                {
                    case 0:
                        account.Earn(amount, PointsCause.Sale, at, op % 3 == 0 ? null : at.AddDays(Math.Abs(op % 30) + 1));
                        break;
                    case 1:
                        account.Spend(amount, PointsCause.Redemption, at);
                        break;
                    case 2:
                        account.Spend(amount, PointsCause.Return, at, allowDebt: true, maxDebt: 1000);
                        break;
                    default:
                        account.Expire(at);
                        break;
                }
            }
            catch (DomainException e) when (e.Code == "points.insufficient")
            {
                // refused spends change nothing; the invariants below still hold
            }

            var sum = account.Entries.Sum(x => x.Points);
            if (sum != account.Balance || account.Debt < 0 || account.Debt > 1000 || account.NewLots.Any(l => l.Remaining < 0 || l.Remaining > l.Points))
            {
                return false;
            }

            if (account.Balance < 0 && account.Debt == 0)
            {
                return false;
            }

            if (account.Debt > 0 && account.Lots.Any())
            {
                return false; // debt is repaid from any new credit before it can sit beside open lots
            }
        }

        return true;
    }
}
