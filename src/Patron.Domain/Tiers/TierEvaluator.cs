using Patron.Domain.Programs;

namespace Patron.Domain.Tiers;

/// <summary>What a member has done that tiers may look at. Money in fen.</summary>
public sealed record TierCounters(
    long CumulativeEarnedPoints = 0,
    long CumulativeSpend = 0,
    long LargestPurchase = 0,
    long LargestTopUp = 0,
    long AnnualFeePaid = 0);

/// <summary>
/// Tier qualification. Tiers are listed from the lowest; a member holds the highest tier whose
/// qualification they meet. Manually assigned tiers never come or go by counters. Events only
/// promote; retention and downgrade over a window are the periodic job's business.
/// </summary>
public static class TierEvaluator
{
    public static bool Qualifies(TierDefinition tier, TierCounters c) => tier.Qualification.Kind switch
    {
        TierQualificationKind.Manual => false,
        TierQualificationKind.CumulativePoints => c.CumulativeEarnedPoints >= tier.Qualification.Threshold,
        TierQualificationKind.CumulativeSpend => c.CumulativeSpend >= tier.Qualification.Threshold,
        TierQualificationKind.SinglePurchase => c.LargestPurchase >= tier.Qualification.Threshold,
        TierQualificationKind.SingleTopUp => c.LargestTopUp >= tier.Qualification.Threshold,
        TierQualificationKind.AnnualFee => c.AnnualFeePaid >= tier.Qualification.Threshold,
        _ => false,
    };

    /// <summary>The tier after an event: the current one, or a higher one the counters now reach.</summary>
    public static string? AfterEvent(ProgramDefinition program, string? current, TierCounters counters)
    {
        if (program.Tiers.Count == 0)
        {
            return null;
        }

        var currentRank = current is null ? -1 : IndexOf(program, current);
        if (currentRank >= 0 && program.Tiers[currentRank].Qualification.Kind == TierQualificationKind.Manual && currentRank > 0)
        {
            // A tier granted by head office is not overridden by counters.
            return current;
        }

        var best = Math.Max(currentRank, 0);
        for (var i = program.Tiers.Count - 1; i > best; i--)
        {
            if (Qualifies(program.Tiers[i], counters))
            {
                best = i;
                break;
            }
        }

        return program.Tiers[best].Code;
    }

    /// <summary>
    /// The tier after a return: a tier reached by qualification is kept only while the counters
    /// still reach it; otherwise the member holds the highest lower tier they reach. Returns
    /// never promote, and never touch a tier head office granted.
    /// </summary>
    public static string? AfterReturn(ProgramDefinition program, string? current, TierCounters counters)
    {
        var rank = current is null ? -1 : IndexOf(program, current);
        if (rank <= 0 || program.Tiers[rank].Qualification.Kind == TierQualificationKind.Manual)
        {
            return current;
        }

        for (var i = rank; i > 0; i--)
        {
            if (program.Tiers[i].Qualification.Kind != TierQualificationKind.Manual && Qualifies(program.Tiers[i], counters))
            {
                return program.Tiers[i].Code;
            }
        }

        return program.Tiers[0].Code;
    }

    private static int IndexOf(ProgramDefinition program, string code)
    {
        for (var i = 0; i < program.Tiers.Count; i++)
        {
            if (program.Tiers[i].Code == code)
            {
                return i;
            }
        }

        return -1;
    }
}
