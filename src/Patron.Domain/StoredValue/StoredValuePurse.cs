using Patron.Domain.Common;
using Patron.Domain.Programs;

namespace Patron.Domain.StoredValue;

/// <summary>Why stored value moved. Every entry names one.</summary>
public enum StoredValueCause
{
    TopUp = 0,

    /// <summary>Paid at checkout.</summary>
    Spend = 1,

    /// <summary>Given back by a return of a sale paid with stored value.</summary>
    SpendReturn = 2,

    /// <summary>Unspent principal paid back to the member.</summary>
    Refund = 3,

    /// <summary>Bonus that lapsed because the principal it came with was refunded.</summary>
    BonusForfeit = 4,

    /// <summary>A balance brought over from another system.</summary>
    Import = 5,

    /// <summary>An open lot of a member merged into another, closed out here.</summary>
    MergeOut = 6,

    /// <summary>A lot of a merged member, taken over by the member it was merged into.</summary>
    MergeIn = 7,
}

/// <summary>
/// A credit of stored value, where and when it was sold: principal (money paid) and bonus
/// (given), each with what is left, and the bonus that lapsed with refunds. Liability is the sum
/// of what lots have left, by the store and month they were sold in.
/// </summary>
public sealed class StoredValueLot
{
    private StoredValueLot()
    {
    }

    public StoredValueLot(long memberId, long programId, long storeId, DateTime issuedAt, long principal, long bonus)
    {
        MemberId = memberId;
        ProgramId = programId;
        StoreId = storeId;
        IssuedAt = issuedAt;
        Principal = principal;
        Bonus = bonus;
        PrincipalLeft = principal;
        BonusLeft = bonus;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public long ProgramId { get; private set; }

    public long StoreId { get; private set; }

    public DateTime IssuedAt { get; private set; }

    public long Principal { get; private set; }

    public long Bonus { get; private set; }

    public long PrincipalLeft { get; internal set; }

    public long BonusLeft { get; internal set; }

    /// <summary>Bonus that lapsed because principal of this lot was refunded.</summary>
    public long BonusForfeited { get; internal set; }

    /// <summary>Bonus spent (paid with), as opposed to forfeited or still left.</summary>
    public long BonusSpent => Bonus - BonusLeft - BonusForfeited;

    /// <summary>
    /// Principal that may be paid back in cash: what is left less the bonus already spent, so a
    /// refund never turns bonus into cash.
    /// </summary>
    public long Refundable => Math.Max(0, PrincipalLeft - BonusSpent);
}

/// <summary>One movement of stored value on one lot, signed, in fen, split into principal and bonus.</summary>
public sealed class StoredValueEntry
{
    private StoredValueEntry()
    {
        Lot = null!;
    }

    internal StoredValueEntry(StoredValueLot lot, StoredValueCause cause, long principal, long bonus, long storeId, DateTime at, string? reference)
    {
        Lot = lot;
        MemberId = lot.MemberId;
        ProgramId = lot.ProgramId;
        Cause = cause;
        Principal = principal;
        Bonus = bonus;
        StoreId = storeId;
        At = at;
        Reference = reference;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public long ProgramId { get; private set; }

    public long LotId { get; private set; }

    public StoredValueLot Lot { get; private set; }

    public StoredValueCause Cause { get; private set; }

    public long Principal { get; private set; }

    public long Bonus { get; private set; }

    /// <summary>The store where it happened.</summary>
    public long StoreId { get; private set; }

    public DateTime At { get; private set; }

    public string? Reference { get; private set; }

    public long? SaleId { get; set; }

    public long? TopUpId { get; set; }

    public long? StaffId { get; set; }
}

/// <summary>How much of a payment came from principal and how much from bonus.</summary>
public readonly record struct StoredValueSplit(long Principal, long Bonus)
{
    public long Total => Principal + Bonus;
}

/// <summary>
/// A member's stored value: the open lots, spent oldest first within principal and within bonus
/// in the program's order. Balances are the sum of the lots, which are the sum of the entries;
/// nothing goes below zero and a refund never pays back more than the unspent principal less the
/// bonus already spent.
/// </summary>
public sealed class StoredValuePurse
{
    private readonly List<StoredValueLot> _lots;
    private readonly List<StoredValueEntry> _entries = [];

    public StoredValuePurse(long memberId, long programId, IEnumerable<StoredValueLot> openLots)
    {
        MemberId = memberId;
        ProgramId = programId;
        _lots = [.. openLots.Where(l => l.PrincipalLeft > 0 || l.BonusLeft > 0).OrderBy(l => l.IssuedAt).ThenBy(l => l.Id)];
    }

    public long MemberId { get; }

    public long ProgramId { get; }

    public long Principal => _lots.Sum(l => l.PrincipalLeft);

    public long Bonus => _lots.Sum(l => l.BonusLeft);

    public long Balance => Principal + Bonus;

    /// <summary>Entries made since the purse was opened.</summary>
    public IReadOnlyList<StoredValueEntry> Entries => _entries;

    public IEnumerable<StoredValueLot> NewLots => _entries.Where(e => e.Lot.Id == 0).Select(e => e.Lot).Distinct();

    /// <summary>Adds money paid (principal) and its bonus as a new lot sold at <paramref name="storeId"/>.</summary>
    public StoredValueLot Credit(StoredValueCause cause, long principal, long bonus, long storeId, DateTime at, string? reference)
    {
        if (principal < 0 || bonus < 0 || principal + bonus == 0)
        {
            throw new DomainException(new DomainError("stored_value.amount_invalid", "A credit adds a positive amount.", "amount"));
        }

        var lot = new StoredValueLot(MemberId, ProgramId, storeId, at, principal, bonus);
        _lots.Add(lot);
        _entries.Add(new StoredValueEntry(lot, cause, principal, bonus, storeId, at, reference));
        return lot;
    }

    /// <summary>How a payment of <paramref name="amount"/> splits between principal and bonus under <paramref name="order"/>.</summary>
    public StoredValueSplit Split(long amount, SpendOrder order)
    {
        if (amount <= 0)
        {
            throw new DomainException(new DomainError("stored_value.amount_invalid", "A payment takes a positive amount.", "amount"));
        }

        var (principal, bonus) = (Principal, Bonus);
        if (amount > principal + bonus)
        {
            throw new DomainException(new DomainError("stored_value.insufficient",
                $"The balance is ¥{(principal + bonus) / 100m:0.00} (principal ¥{principal / 100m:0.00}, bonus ¥{bonus / 100m:0.00}); ¥{amount / 100m:0.00} was asked.", "amount"));
        }

        long fromBonus = order switch
        {
            SpendOrder.BonusFirst => Math.Min(amount, bonus),
            SpendOrder.PrincipalFirst => amount - Math.Min(amount, principal),
            _ => (long)((Int128)amount * bonus / (principal + bonus)),
        };

        // Proportional rounding favours principal; never take more of either than there is.
        fromBonus = Math.Max(fromBonus, amount - principal);
        return new StoredValueSplit(amount - fromBonus, fromBonus);
    }

    /// <summary>Pays <paramref name="amount"/> in the program's order; returns the split.</summary>
    public StoredValueSplit Spend(long amount, SpendOrder order, long storeId, DateTime at, string? reference)
    {
        var split = Split(amount, order);
        Draw(StoredValueCause.Spend, split.Principal, split.Bonus, storeId, at, reference);
        return split;
    }

    /// <summary>
    /// What can be refunded: per lot, the principal left less the bonus already spent from it.
    /// </summary>
    public long Refundable => _lots.Sum(l => l.Refundable);

    /// <summary>
    /// Pays back principal, newest lot first, never more than a lot's refundable principal (its
    /// principal left less the bonus already spent from it), so a refund never pays out bonus.
    /// Each lot drawn forfeits its remaining bonus in proportion to the share of its refundable
    /// principal refunded, rounded down, and all of it when that is refunded in full.
    /// </summary>
    public (long Principal, long BonusForfeited) Refund(long amount, long storeId, DateTime at, string? reference)
    {
        var refundable = Refundable;
        if (amount <= 0 || amount > refundable)
        {
            var spent = _lots.Sum(l => Math.Min(l.PrincipalLeft, l.BonusSpent));
            throw new DomainException(new DomainError("stored_value.refund_exceeds",
                $"At most ¥{refundable / 100m:0.00} can be refunded: the unspent principal, ¥{Principal / 100m:0.00}, less the bonus already spent, ¥{spent / 100m:0.00}; ¥{amount / 100m:0.00} was asked.",
                "amount"));
        }

        var refunds = new List<(StoredValueLot Lot, long Principal)>();
        var forfeits = new List<(StoredValueLot Lot, long Bonus)>();
        var left = amount;
        foreach (var lot in Enumerable.Reverse(_lots))
        {
            var can = lot.Refundable;
            var take = Math.Min(left, can);
            if (take == 0)
            {
                continue;
            }

            var forfeit = take == can ? lot.BonusLeft : (long)((Int128)lot.BonusLeft * take / can);
            lot.PrincipalLeft -= take;
            lot.BonusLeft -= forfeit;
            lot.BonusForfeited += forfeit;
            left -= take;
            refunds.Add((lot, take));
            if (forfeit > 0)
            {
                forfeits.Add((lot, forfeit));
            }

            if (left == 0)
            {
                break;
            }
        }

        if (left != 0)
        {
            throw new InvalidOperationException("Stored value lots do not cover a checked refund.");
        }

        _entries.AddRange(refunds.Select(r => new StoredValueEntry(r.Lot, StoredValueCause.Refund, -r.Principal, 0, storeId, at, reference)));
        _entries.AddRange(forfeits.Select(f => new StoredValueEntry(f.Lot, StoredValueCause.BonusForfeit, 0, -f.Bonus, storeId, at, reference)));
        return (amount, forfeits.Sum(f => f.Bonus));
    }

    /// <summary>
    /// Closes the purse for a merge into another member: every open lot is drawn to zero by a
    /// <see cref="StoredValueCause.MergeOut"/> entry at the store it was sold in. Returns each
    /// lot as the surviving member takes it over: store and time of sale, principal and bonus
    /// left, and the bonus already spent from it (which keeps that much principal from being
    /// refunded in cash, as before).
    /// </summary>
    public IReadOnlyList<CarriedValue> CloseOutForMerge(DateTime at, string? reference)
    {
        var carried = new List<CarriedValue>();
        foreach (var lot in _lots.Where(l => l.PrincipalLeft > 0 || l.BonusLeft > 0).ToList())
        {
            carried.Add(new CarriedValue(lot.Id, lot.StoreId, lot.IssuedAt, lot.PrincipalLeft, lot.BonusLeft, lot.BonusSpent));
            _entries.Add(new StoredValueEntry(lot, StoredValueCause.MergeOut, -lot.PrincipalLeft, -lot.BonusLeft, lot.StoreId, at, reference));
            lot.PrincipalLeft = 0;
            lot.BonusLeft = 0;
        }

        return carried;
    }

    /// <summary>
    /// Takes over a merged member's lots: each becomes a lot of this purse sold at the same store
    /// and time, holding the same principal and bonus (a <see cref="StoredValueCause.MergeIn"/>
    /// entry each), and remembering the bonus already spent from it, so liability by store and
    /// month and what may be refunded are unchanged. The entries name the top-up the money came
    /// from, so a refund still recognises money that bought benefits.
    /// </summary>
    public IReadOnlyList<StoredValueEntry> TakeOver(IEnumerable<CarriedValue> lots, DateTime at, string? reference)
    {
        var made = new List<StoredValueEntry>();
        foreach (var c in lots)
        {
            var lot = new StoredValueLot(MemberId, ProgramId, c.StoreId, c.IssuedAt, c.Principal, c.Bonus + c.BonusSpent) { BonusLeft = c.Bonus };
            _lots.Add(lot);
            var entry = new StoredValueEntry(lot, StoredValueCause.MergeIn, c.Principal, c.Bonus, c.StoreId, at, reference) { TopUpId = c.TopUpId };
            _entries.Add(entry);
            made.Add(entry);
        }

        _lots.Sort((a, b) => a.IssuedAt != b.IssuedAt ? a.IssuedAt.CompareTo(b.IssuedAt) : a.Id.CompareTo(b.Id));
        return made;
    }

    private void Draw(StoredValueCause cause, long principal, long bonus, long storeId, DateTime at, string? reference)
    {
        var taken = new Dictionary<StoredValueLot, (long P, long B)>();
        foreach (var lot in _lots)
        {
            var p = Math.Min(principal, lot.PrincipalLeft);
            var b = Math.Min(bonus, lot.BonusLeft);
            if (p == 0 && b == 0)
            {
                continue;
            }

            lot.PrincipalLeft -= p;
            lot.BonusLeft -= b;
            principal -= p;
            bonus -= b;
            taken[lot] = (p, b);
        }

        if (principal != 0 || bonus != 0)
        {
            throw new InvalidOperationException("Stored value lots do not cover a checked draw.");
        }

        foreach (var (lot, (p, b)) in taken)
        {
            _entries.Add(new StoredValueEntry(lot, cause, -p, -b, storeId, at, reference));
        }
    }
}

/// <summary>One stored-value lot a merge carries over, with the top-up its money came from when known.</summary>
public sealed record CarriedValue(long SourceLotId, long StoreId, DateTime IssuedAt, long Principal, long Bonus, long BonusSpent, long? TopUpId = null)
{
    public long Total => Principal + Bonus;
}
