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
}

/// <summary>A credit of points: when earned, when it lapses, and how much of it is left.</summary>
public sealed class PointsLot(long id, DateTime earnedAt, DateTime? expiresAt, long points)
{
    public long Id { get; } = id;

    public DateTime EarnedAt { get; } = earnedAt;

    public DateTime? ExpiresAt { get; } = expiresAt;

    public long Points { get; } = points;

    public long Remaining { get; internal set; } = points;

    public bool IsExpiredAt(DateTime at) => ExpiresAt is { } e && e <= at;
}

/// <summary>How much of one lot an entry used.</summary>
public sealed record LotDraw(long LotId, long Points);

/// <summary>
/// One movement of points, signed. A debit lists the lots it drew from; the part it could not
/// draw (a return after spending, where the program allows it) is <see cref="DebtIncurred"/>.
/// </summary>
public sealed record PointsEntry(
    long Points,
    PointsCause Cause,
    DateTime At,
    string? Reference,
    long? LotId,
    IReadOnlyList<LotDraw> Draws,
    long DebtIncurred,
    long DebtRepaid);

/// <summary>
/// A member's points as a ledger of lots (Open Loyalty's account, with integer points and time
/// passed in). The balance is the sum of the entries, which equals the lots' remainders minus
/// any debt. Debits spend the lots that expire first; expiry removes exactly the remainder of
/// the lots that have lapsed, once.
/// </summary>
public sealed class PointsAccount
{
    private readonly List<PointsLot> _lots = [];
    private readonly List<PointsEntry> _entries = [];
    private long _nextLotId = 1;

    public PointsAccount()
    {
    }

    /// <summary>Resumes an account from stored open lots, debt and balance (entries are not reloaded).</summary>
    public PointsAccount(IEnumerable<PointsLot> openLots, long debt, long nextLotId)
    {
        _lots.AddRange(openLots);
        Debt = debt;
        _nextLotId = nextLotId;
    }

    public IReadOnlyList<PointsLot> Lots => _lots;

    /// <summary>Entries made since the account was created or resumed.</summary>
    public IReadOnlyList<PointsEntry> Entries => _entries;

    /// <summary>Points owed after a return reversed points that had been spent.</summary>
    public long Debt { get; private set; }

    public long Balance => _lots.Sum(l => l.Remaining) - Debt;

    /// <summary>Points that will lapse by <paramref name="horizon"/> unless spent.</summary>
    public long ExpiringBy(DateTime horizon) => _lots.Where(l => l.Remaining > 0 && l.ExpiresAt is { } e && e <= horizon).Sum(l => l.Remaining);

    /// <summary>Credits points; any debt is repaid from them first.</summary>
    public PointsEntry Earn(long points, PointsCause cause, DateTime at, DateTime? expiresAt, string? reference = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(points);
        var repaid = Math.Min(Debt, points);
        Debt -= repaid;
        var lot = new PointsLot(_nextLotId++, at, expiresAt, points) { Remaining = points - repaid };
        _lots.Add(lot);
        return Add(new PointsEntry(points, cause, at, reference, lot.Id, [], 0, repaid));
    }

    /// <summary>
    /// Debits points, oldest-expiring lots first (lots that never expire last), after expiring
    /// whatever has lapsed by <paramref name="at"/>. Refused with
    /// <c>points.insufficient</c> when the balance does not cover it, unless <paramref name="maxDebt"/>
    /// lets the rest become debt (null: no limit).
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
        foreach (var lot in _lots.OrderBy(l => l.ExpiresAt ?? DateTime.MaxValue).ThenBy(l => l.Id))
        {
            if (left == 0)
            {
                break;
            }

            var take = Math.Min(left, lot.Remaining);
            lot.Remaining -= take;
            left -= take;
            draws.Add(new LotDraw(lot.Id, take));
        }

        Debt += shortfall;
        _entries.Add(new PointsEntry(-points, cause, at, reference, null, draws, shortfall, 0));
        DropEmptyLots();
        return _entries[^1];
    }

    /// <summary>Removes the remainder of every lot lapsed at <paramref name="at"/>; one entry per lot.</summary>
    public IReadOnlyList<PointsEntry> Expire(DateTime at)
    {
        var expired = new List<PointsEntry>();
        foreach (var lot in _lots.Where(l => l.Remaining > 0 && l.IsExpiredAt(at)).OrderBy(l => l.ExpiresAt).ThenBy(l => l.Id).ToList())
        {
            var points = lot.Remaining;
            lot.Remaining = 0;
            expired.Add(Add(new PointsEntry(-points, PointsCause.Expiry, lot.ExpiresAt!.Value, null, null, [new LotDraw(lot.Id, points)], 0, 0)));
        }

        DropEmptyLots();
        return expired;
    }

    private PointsEntry Add(PointsEntry entry)
    {
        _entries.Add(entry);
        DropEmptyLots();
        return entry;
    }

    private void DropEmptyLots() => _lots.RemoveAll(l => l.Remaining == 0);
}
