using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Domain.Tiers;

namespace Patron.Domain.Tests;

/// <summary>Counters that tiers, milestones and entitlements read, under late sales and returns.</summary>
public class AccountCountersTests
{
    private static readonly DateTime Jan2 = new(2027, 1, 2, 2, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void CountSpend_LateSaleOfLastYear_CountsInTotalsButKeepsThisYearsSpend()
    {
        var account = new MemberAccount(1, 1, "standard", Jan2);
        account.CountSpend(400_000, 2027, Jan2);
        account.CountSpend(10_000, 2026, Jan2.AddDays(-2)); // an offline sale of 31 Dec synced later
        account.CountSpend(10_000, 2027, Jan2.AddHours(1));

        Assert.Equal(2027, account.SpendYear);
        Assert.Equal(410_000, account.YearSpend);
        Assert.Equal(420_000, account.CumulativeSpend);
        Assert.Equal(Jan2.AddHours(1), account.LastPurchaseAt);
    }

    [Fact]
    public void CountReturn_OfLastYearsSale_LeavesThisYearsSpend()
    {
        var account = new MemberAccount(1, 1, null, Jan2);
        account.CountSpend(50_000, 2027, Jan2);
        account.CountReturn(20_000, 2026);
        Assert.Equal(50_000, account.YearSpend);
        Assert.Equal(30_000, account.CumulativeSpend);
        account.CountReturn(20_000, 2027);
        Assert.Equal(30_000, account.YearSpend);
    }

    [Fact]
    public void Downgrade_RestartsQualification_FromTheCountersOfThatDay()
    {
        var account = new MemberAccount(1, 1, "vip", Jan2);
        account.CountSpend(150_000, 2027, Jan2);
        account.CountEarned(1_500);
        account.Downgrade("member", Jan2.AddYears(1));

        Assert.Equal(new TierCounters(0, 0, 0, 0), account.Counters);
        Assert.Equal(150_000, account.CumulativeSpend);
        account.CountSpend(60_000, 2028, Jan2.AddYears(1));
        Assert.Equal(60_000, account.Counters.CumulativeSpend);
        Assert.Equal(60_000, account.Counters.LargestPurchase);
    }

    [Fact]
    public void AfterReturn_DropsOnlyAQualifiedTierTheCountersNoLongerReach()
    {
        var program = Samples.P3;
        Assert.Equal("silver", TierEvaluator.AfterReturn(program, "gold", new TierCounters(CumulativeEarnedPoints: 9_999)));
        Assert.Equal("standard", TierEvaluator.AfterReturn(program, "gold", new TierCounters(CumulativeEarnedPoints: 10)));
        Assert.Equal("gold", TierEvaluator.AfterReturn(program, "gold", new TierCounters(CumulativeEarnedPoints: 30_000)));

        var p1 = Samples.P1; // gold is granted by head office
        Assert.Equal("gold", TierEvaluator.AfterReturn(p1, "gold", new TierCounters()));
    }

    [Fact]
    public void Milestone_RetreatAfterAReturn_DoesNotGiveAPassedStepAgain()
    {
        var rule = new MilestoneRule
        {
            Id = "m",
            Steps = [new MilestoneStep { Threshold = 100, Points = 10 }, new MilestoneStep { Threshold = 300, Points = 30 }],
        };
        var progress = new MilestoneProgress(1, "m");
        Assert.Single(progress.Advance(rule, 150, 2026));
        progress.Retreat(150);
        Assert.Equal(0, progress.Counter);
        Assert.Empty(progress.Advance(rule, 150, 2026));
        Assert.Equal(30, Assert.Single(progress.Advance(rule, 150, 2026)).Points);
    }

    [Fact]
    public void Milestone_LateEventOfLastYear_KeepsThisYearsResetCount()
    {
        var rule = new MilestoneRule { Id = "m", ResetAfterLast = true, Steps = [new MilestoneStep { Threshold = 100, Points = 1 }] };
        var progress = new MilestoneProgress(1, "m");
        progress.Advance(rule, 200, 2027);
        Assert.Equal(2, progress.Resets);
        progress.Advance(rule, 100, 2026);
        Assert.Equal((2027, 2), (progress.ResetsYear, progress.Resets));
    }
}
