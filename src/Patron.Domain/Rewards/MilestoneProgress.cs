using Patron.Domain.Programs;

namespace Patron.Domain.Rewards;

/// <summary>
/// A member's place on one milestone rule: the running counter, the next step to reach, and
/// how many times the ladder was completed and reset in the current year.
/// </summary>
public sealed class MilestoneProgress
{
    private MilestoneProgress()
    {
        RuleId = "";
    }

    public MilestoneProgress(long memberId, string ruleId)
    {
        MemberId = memberId;
        RuleId = ruleId;
    }

    public long MemberId { get; private set; }

    public string RuleId { get; private set; }

    public long Counter { get; private set; }

    public int NextStep { get; private set; }

    public int ResetsYear { get; private set; }

    public int Resets { get; private set; }

    /// <summary>Adds to the counter and returns the steps reached, in order (a large amount may pass several).</summary>
    public IReadOnlyList<MilestoneStep> Advance(MilestoneRule rule, long amount, int localYear)
    {
        if (localYear > ResetsYear)
        {
            ResetsYear = localYear;
            Resets = 0;
        }

        var reached = new List<MilestoneStep>();
        if (amount <= 0 || rule.Steps.Count == 0)
        {
            return reached;
        }

        Counter += amount;
        while (NextStep < rule.Steps.Count && Counter >= rule.Steps[NextStep].Threshold)
        {
            reached.Add(rule.Steps[NextStep]);
            NextStep++;
            if (NextStep == rule.Steps.Count && rule.ResetAfterLast)
            {
                Counter -= rule.Steps[^1].Threshold;
                NextStep = 0;
                if (localYear == ResetsYear)
                {
                    Resets++;
                }
            }
        }

        return reached;
    }

    /// <summary>
    /// Takes over a duplicate member's progress on the same rule when the two are merged. The
    /// counters add up when at most one of the two has had a step rewarded: the person's
    /// purchases then count once toward each step, as on one membership (the next step stays
    /// the further of the two; a step the sum already passes is given at the next purchase).
    /// When both have had steps rewarded, the lower steps were already given twice: adding
    /// would let the same purchases reach the higher steps again, so the further progress of
    /// the two is kept (by step, then counter) and false is returned for the supervisor to know.
    /// Completed ladders this year add up (the later year wins).
    /// </summary>
    public bool Absorb(MilestoneProgress other)
    {
        if (other.ResetsYear > ResetsYear)
        {
            (ResetsYear, Resets) = (other.ResetsYear, other.Resets);
        }
        else if (other.ResetsYear == ResetsYear)
        {
            Resets += other.Resets;
        }

        var added = NextStep == 0 || other.NextStep == 0;
        if (added)
        {
            Counter += other.Counter;
            NextStep = Math.Max(NextStep, other.NextStep);
        }
        else if (other.NextStep > NextStep || (other.NextStep == NextStep && other.Counter > Counter))
        {
            (Counter, NextStep) = (other.Counter, other.NextStep);
        }

        return added;
    }

    /// <summary>
    /// A return takes its amount off the counter (never below zero). Rewards already given stay
    /// given, and the steps passed stay passed: buying again only moves the counter back up.
    /// </summary>
    public void Retreat(long amount) => Counter = Math.Max(0, Counter - Math.Max(0, amount));
}
