namespace Patron.Domain.Points;

/// <summary>
/// A member's running state in their program: points balance and debt (the sum of the ledger),
/// tier, and the counters tiers, milestones and entitlements look at. One row per member,
/// locked (PostgreSQL) or version-checked for every change.
/// </summary>
public sealed class MemberAccount
{
    private MemberAccount()
    {
    }

    public MemberAccount(long memberId, long programId, string? tier, DateTime nowUtc)
    {
        MemberId = memberId;
        ProgramId = programId;
        Tier = tier;
        TierSince = nowUtc;
    }

    public long MemberId { get; private set; }

    public long ProgramId { get; private set; }

    public long Balance { get; private set; }

    public long Debt { get; private set; }

    public string? Tier { get; private set; }

    public DateTime TierSince { get; private set; }

    public long CumulativeEarned { get; private set; }

    public long CumulativeSpend { get; private set; }

    public long LargestPurchase { get; private set; }

    public long LargestTopUp { get; private set; }

    /// <summary>Annual fee paid for the current year of membership (annual_fee tiers), fen.</summary>
    public long AnnualFeePaid { get; private set; }

    /// <summary>Stored value: unspent principal (money paid in), fen; the sum of the lots.</summary>
    public long StoredPrincipal { get; private set; }

    /// <summary>Stored value: unspent bonus, fen.</summary>
    public long StoredBonus { get; private set; }

    /// <summary>The calendar year <see cref="YearSpend"/> counts (local time).</summary>
    public int SpendYear { get; private set; }

    public long YearSpend { get; private set; }

    public DateTime? LastPurchaseAt { get; private set; }

    /// <summary>Optimistic concurrency: bumped on every change.</summary>
    public long RowVersion { get; private set; }

    /// <summary>Earned points before the last retention downgrade: tier qualification counts from there.</summary>
    public long TierBaseEarned { get; private set; }

    /// <summary>Spend before the last retention downgrade.</summary>
    public long TierBaseSpend { get; private set; }

    /// <summary>What tier qualification looks at: the counters since the last retention downgrade.</summary>
    public Tiers.TierCounters Counters => new(CumulativeEarned - TierBaseEarned, CumulativeSpend - TierBaseSpend, LargestPurchase, LargestTopUp, AnnualFeePaid);

    /// <summary>Takes the balance and debt from the account after its entries were made.</summary>
    public void Sync(PointsAccount account)
    {
        Balance = account.Balance;
        Debt = account.Debt;
        RowVersion++;
    }

    /// <summary>Takes the stored-value balances from the purse after its entries were made.</summary>
    public void Sync(StoredValue.StoredValuePurse purse)
    {
        StoredPrincipal = purse.Principal;
        StoredBonus = purse.Bonus;
        RowVersion++;
    }

    public void CountAnnualFee(long fee) => AnnualFeePaid = Math.Max(0, fee);

    /// <summary>Counts a purchase in the spend counters.</summary>
    public void CountSpend(long paid, int localYear, DateTime atUtc)
    {
        if (localYear > SpendYear)
        {
            SpendYear = localYear;
            YearSpend = 0;
        }

        CumulativeSpend = Math.Max(0, CumulativeSpend + paid);
        if (localYear == SpendYear)
        {
            // A late (offline) sale of an earlier year counts in the totals, not in this year.
            YearSpend = Math.Max(0, YearSpend + paid);
        }

        if (paid > 0)
        {
            LargestPurchase = Math.Max(LargestPurchase, paid);
            LastPurchaseAt = LastPurchaseAt is { } last && last > atUtc ? last : atUtc;
        }
    }

    /// <summary>Takes a return off the spend counters; the year's spend only when the sale was in the year being counted.</summary>
    public void CountReturn(long refunded, int saleLocalYear)
    {
        CumulativeSpend = Math.Max(0, CumulativeSpend - refunded);
        TierBaseSpend = Math.Min(TierBaseSpend, CumulativeSpend);
        if (SpendYear == saleLocalYear)
        {
            YearSpend = Math.Max(0, YearSpend - refunded);
        }
    }

    /// <summary>Counts earned points toward tiers (returns take them back; spending does not).</summary>
    public void CountEarned(long points)
    {
        CumulativeEarned = Math.Max(0, CumulativeEarned + points);
        TierBaseEarned = Math.Min(TierBaseEarned, CumulativeEarned);
    }

    public void CountTopUp(long amount) => LargestTopUp = Math.Max(LargestTopUp, amount);

    /// <summary>After a return: the largest single purchase still standing (recomputed from the sales).</summary>
    public void CorrectLargestPurchase(long largestStanding) => LargestPurchase = Math.Min(LargestPurchase, Math.Max(0, largestStanding));

    /// <summary>
    /// A retention downgrade: the member moves to <paramref name="tier"/> and qualifies again
    /// only by what they do from now on (cumulative counters start over for tiers, single
    /// purchase and top-up records are cleared). The cumulative figures themselves are kept.
    /// </summary>
    public void Downgrade(string? tier, DateTime atUtc)
    {
        TierBaseEarned = CumulativeEarned;
        TierBaseSpend = CumulativeSpend;
        LargestPurchase = 0;
        LargestTopUp = 0;
        SetTier(tier, atUtc);
    }

    /// <summary>
    /// Takes over the counters of a member merged into this one: cumulative points and spend
    /// (with their bases since a retention downgrade) add up, this year's spend adds up when both
    /// count the same year (the later year wins otherwise), the single-purchase, single-top-up
    /// and annual-fee records keep the larger, the last purchase the later. The merged account's
    /// counters are cleared and it holds no tier, so nothing is counted twice. Balances are not
    /// touched here: they move by ledger entries and <see cref="Sync(PointsAccount)"/>.
    /// </summary>
    public void Absorb(MemberAccount merged, DateTime atUtc)
    {
        CumulativeEarned += merged.CumulativeEarned;
        TierBaseEarned += merged.TierBaseEarned;
        CumulativeSpend += merged.CumulativeSpend;
        TierBaseSpend += merged.TierBaseSpend;
        LargestPurchase = Math.Max(LargestPurchase, merged.LargestPurchase);
        LargestTopUp = Math.Max(LargestTopUp, merged.LargestTopUp);
        AnnualFeePaid = Math.Max(AnnualFeePaid, merged.AnnualFeePaid);
        if (merged.SpendYear == SpendYear)
        {
            YearSpend += merged.YearSpend;
        }
        else if (merged.SpendYear > SpendYear)
        {
            SpendYear = merged.SpendYear;
            YearSpend = merged.YearSpend;
        }

        LastPurchaseAt = (LastPurchaseAt, merged.LastPurchaseAt) switch
        {
            ({ } a, { } b) => a > b ? a : b,
            (var a, var b) => a ?? b,
        };
        RowVersion++;

        merged.CumulativeEarned = 0;
        merged.TierBaseEarned = 0;
        merged.CumulativeSpend = 0;
        merged.TierBaseSpend = 0;
        merged.LargestPurchase = 0;
        merged.LargestTopUp = 0;
        merged.AnnualFeePaid = 0;
        merged.YearSpend = 0;
        merged.SetTier(null, atUtc);
    }

    /// <summary>Takes a tier held since <paramref name="sinceUtc"/> (a merged member's higher tier, with its own retention window).</summary>
    public void TakeTier(string? tier, DateTime sinceUtc)
    {
        Tier = tier;
        TierSince = sinceUtc;
        RowVersion++;
    }

    public void SetTier(string? tier, DateTime atUtc)
    {
        Tier = tier;
        TierSince = atUtc;
        RowVersion++;
    }
}
