using Patron.Domain.Common;

namespace Patron.Domain.Points;

/// <summary>Why points moved. Every entry names one.</summary>
public enum PointsCause
{
    Sale = 0,
    Return = 1,
    Redemption = 2,
    Adjustment = 3,
    Expiry = 4,
    Transfer = 5,
    Conversion = 6,
    Event = 7,
    Milestone = 8,
    RedemptionCancelled = 9,

    /// <summary>Points used to pay at checkout.</summary>
    Payment = 10,

    /// <summary>Points paid with, given back by a return.</summary>
    PaymentRefund = 11,

    /// <summary>A balance brought over from another system by a member import.</summary>
    Import = 12,

    /// <summary>An open lot (or the debt) of a member merged into another, closed out here.</summary>
    MergeOut = 13,

    /// <summary>A lot (or debt) of a merged member, taken over by the member it was merged into.</summary>
    MergeIn = 14,
}

/// <summary>A credit of points: when earned, when it lapses, and how much of it is left.</summary>
public sealed class PointsLot
{
    private PointsLot()
    {
    }

    public PointsLot(long memberId, DateTime earnedAt, DateTime? expiresAt, long points)
    {
        MemberId = memberId;
        EarnedAt = earnedAt;
        ExpiresAt = expiresAt;
        Points = points;
        Remaining = points;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public DateTime EarnedAt { get; private set; }

    public DateTime? ExpiresAt { get; private set; }

    public long Points { get; private set; }

    public long Remaining { get; internal set; }

    /// <summary>The store where the points were earned or given (liability by store); null when not known.</summary>
    public long? StoreId { get; set; }

    public bool IsExpiredAt(DateTime at) => ExpiresAt is { } e && e <= at;
}

/// <summary>How much of one lot an entry used.</summary>
public sealed record LotDraw(PointsLot Lot, long Points);

/// <summary>
/// One movement of points, signed, with its cause. A credit opens a lot; a debit lists the lots
/// it drew from (in memory only), and the part it could not draw (a return after spending, where
/// the program allows it) is <see cref="DebtIncurred"/>. Stored as the member's ledger.
/// </summary>
public sealed class PointsEntry
{
    private PointsEntry()
    {
        Draws = [];
    }

    internal PointsEntry(long memberId, long points, PointsCause cause, DateTime at, string? reference, PointsLot? lot, IReadOnlyList<LotDraw> draws, long debtIncurred, long debtRepaid)
    {
        MemberId = memberId;
        Points = points;
        Cause = cause;
        At = at;
        Reference = reference;
        Lot = lot;
        Draws = draws;
        DebtIncurred = debtIncurred;
        DebtRepaid = debtRepaid;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public long Points { get; private set; }

    public PointsCause Cause { get; private set; }

    public DateTime At { get; private set; }

    /// <summary>What caused it in words or ids: an order number, a reward code, a reason.</summary>
    public string? Reference { get; private set; }

    public long? LotId { get; private set; }

    public PointsLot? Lot { get; private set; }

    public long DebtIncurred { get; private set; }

    public long DebtRepaid { get; private set; }

    /// <summary>The sale or return it belongs to, if any.</summary>
    public long? SaleId { get; set; }

    /// <summary>The staff member who made it (adjustments, redemptions at the counter).</summary>
    public long? StaffId { get; set; }

    public IReadOnlyList<LotDraw> Draws { get; }
}

/// <summary>
/// A member's points as a ledger of lots (Open Loyalty's account, with integer points and time
/// passed in). The balance is the sum of the entries, which equals the lots' remainders minus
/// any debt. Debits spend the lots that expire first; expiry removes exactly the remainder of
/// the lots that have lapsed, once. Resumed from the stored open lots and debt for each change.
/// </summary>
public sealed class PointsAccount
{
    private readonly List<PointsLot> _lots = [];
    private readonly List<PointsLot> _newLots = [];
    private readonly List<PointsEntry> _entries = [];

    public PointsAccount(long memberId = 0, IEnumerable<PointsLot>? openLots = null, long debt = 0)
    {
        MemberId = memberId;
        _lots.AddRange((openLots ?? []).Where(l => l.Remaining > 0).OrderBy(l => l.Id));
        Debt = debt;
    }

    public long MemberId { get; }

    /// <summary>Lots with points left.</summary>
    public IEnumerable<PointsLot> Lots => _lots.Where(l => l.Remaining > 0);

    /// <summary>Lots opened since the account was resumed, to be stored.</summary>
    public IReadOnlyList<PointsLot> NewLots => _newLots;

    /// <summary>Entries made since the account was resumed, to be stored.</summary>
    public IReadOnlyList<PointsEntry> Entries => _entries;

    /// <summary>Points owed after a return reversed points that had been spent.</summary>
    public long Debt { get; private set; }

    public long Balance => _lots.Sum(l => l.Remaining) - Debt;

    /// <summary>Points that will lapse by <paramref name="horizon"/> unless spent.</summary>
    public long ExpiringBy(DateTime horizon) => Lots.Where(l => l.ExpiresAt is { } e && e <= horizon).Sum(l => l.Remaining);

    /// <summary>Credits points; any debt is repaid from them first.</summary>
    public PointsEntry Earn(long points, PointsCause cause, DateTime at, DateTime? expiresAt, string? reference = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(points);
        var repaid = Math.Min(Debt, points);
        Debt -= repaid;
        var lot = new PointsLot(MemberId, at, expiresAt, points) { Remaining = points - repaid };
        _lots.Add(lot);
        _newLots.Add(lot);
        return Add(new PointsEntry(MemberId, points, cause, at, reference, lot, [], 0, repaid));
    }

    /// <summary>
    /// Debits points, oldest-expiring lots first (lots that never expire last), after expiring
    /// whatever has lapsed by <paramref name="at"/>. Refused with <c>points.insufficient</c> when
    /// the balance does not cover it, unless <paramref name="allowDebt"/> lets the rest become
    /// debt up to <paramref name="maxDebt"/> (null: no limit).
    /// </summary>
    public PointsEntry Spend(long points, PointsCause cause, DateTime at, string? reference = null, bool allowDebt = false, long? maxDebt = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(points);
        Expire(at); // lapsed points are never spent
        var available = Math.Max(0, Balance);
        var shortfall = Math.Max(0, points - available);
        if (shortfall > 0 && (!allowDebt || (maxDebt is { } max && Debt + shortfall > max)))
        {
            throw new DomainException(new DomainError("points.insufficient", $"Not enough points: {available} available, {points} needed."));
        }

        var draws = new List<LotDraw>();
        var left = points - shortfall;
        foreach (var lot in Lots.OrderBy(l => l.ExpiresAt ?? DateTime.MaxValue).ToList())
        {
            if (left == 0)
            {
                break;
            }

            var take = Math.Min(left, lot.Remaining);
            lot.Remaining -= take;
            left -= take;
            draws.Add(new LotDraw(lot, take));
        }

        Debt += shortfall;
        return Add(new PointsEntry(MemberId, -points, cause, at, reference, null, draws, shortfall, 0));
    }

    /// <summary>Removes the remainder of every lot lapsed at <paramref name="at"/>; one entry per lot, at its lapse time.</summary>
    public IReadOnlyList<PointsEntry> Expire(DateTime at)
    {
        var expired = new List<PointsEntry>();
        foreach (var lot in Lots.Where(l => l.IsExpiredAt(at)).OrderBy(l => l.ExpiresAt).ToList())
        {
            var points = lot.Remaining;
            lot.Remaining = 0;
            expired.Add(Add(new PointsEntry(MemberId, -points, PointsCause.Expiry, lot.ExpiresAt!.Value, null, lot, [new LotDraw(lot, points)], 0, 0)));
        }

        return expired;
    }

    /// <summary>
    /// Closes the account for a merge into another member: whatever has lapsed expires first,
    /// then every open lot is drawn to zero by a <see cref="PointsCause.MergeOut"/> entry of its
    /// own and the debt is cleared by one entry, so the balance is zero. Returns what the
    /// surviving member takes over: each lot's earning time, expiry, remainder and store (the
    /// member's enrolment store, <paramref name="defaultStoreId"/>, where the lot named none).
    /// </summary>
    public PointsCarry CloseOutForMerge(DateTime at, string? reference, long defaultStoreId)
    {
        Expire(at);
        var carried = new List<CarriedPoints>();
        foreach (var lot in Lots.OrderBy(l => l.EarnedAt).ThenBy(l => l.Id).ToList())
        {
            var points = lot.Remaining;
            lot.Remaining = 0;
            carried.Add(new CarriedPoints(lot.EarnedAt, lot.ExpiresAt, points, lot.StoreId ?? defaultStoreId));
            Add(new PointsEntry(MemberId, -points, PointsCause.MergeOut, at, reference, lot, [new LotDraw(lot, points)], 0, 0));
        }

        var debt = Debt;
        if (debt > 0)
        {
            Debt = 0;
            Add(new PointsEntry(MemberId, debt, PointsCause.MergeOut, at, reference, null, [], 0, debt));
        }

        return new PointsCarry(carried, debt);
    }

    /// <summary>
    /// Takes over what a merged member's account carried: each lot again, with the same earning
    /// time, expiry, store and remainder (a <see cref="PointsCause.MergeIn"/> entry each), and
    /// the debt as debt. Nothing is netted, so the lots and the liability by store and month
    /// stay what they were; the next points earned repay the debt as always.
    /// </summary>
    public void TakeOver(PointsCarry carry, DateTime at, string? reference)
    {
        foreach (var c in carry.Lots)
        {
            var lot = new PointsLot(MemberId, c.EarnedAt, c.ExpiresAt, c.Points) { StoreId = c.StoreId };
            _lots.Add(lot);
            _newLots.Add(lot);
            Add(new PointsEntry(MemberId, c.Points, PointsCause.MergeIn, at, reference, lot, [], 0, 0));
        }

        if (carry.Debt > 0)
        {
            Debt += carry.Debt;
            Add(new PointsEntry(MemberId, -carry.Debt, PointsCause.MergeIn, at, reference, null, [], carry.Debt, 0));
        }
    }

    private PointsEntry Add(PointsEntry entry)
    {
        _entries.Add(entry);
        return entry;
    }
}

/// <summary>One lot a merge carries from one member to another.</summary>
public sealed record CarriedPoints(DateTime EarnedAt, DateTime? ExpiresAt, long Points, long? StoreId);

/// <summary>What a merged member's points account hands over: its open lots and its debt.</summary>
public sealed record PointsCarry(IReadOnlyList<CarriedPoints> Lots, long Debt)
{
    public long Balance => Lots.Sum(l => l.Points) - Debt;
}
