namespace Patron.Domain.Programs;

public enum ValidityKind
{
    /// <summary>Cards never lapse.</summary>
    None = 0,
    Days = 1,
    Years = 2,
}

/// <summary>
/// How long a card is valid and how it stays valid: from issue for <see cref="Length"/> days or
/// years; each purchase or top-up may restart the period; a renewal (by fee, or automatically by
/// points earned in the period) extends it; otherwise the card lapses and its benefits stop.
/// </summary>
public sealed record CardValidity
{
    public ValidityKind Kind { get; init; } = ValidityKind.None;

    public int Length { get; init; }

    /// <summary>Each purchase restarts the period from the day of purchase.</summary>
    public bool RestartOnPurchase { get; init; }

    /// <summary>Each top-up restarts the period (also after the card lapsed: a top-up renews it).</summary>
    public bool RestartOnTopUp { get; init; }

    /// <summary>Fee (fen) for a renewal at the counter; null when cards cannot be renewed for a fee.</summary>
    public long? RenewalFee { get; init; }

    /// <summary>Points earned within the period that renew the card automatically when it ends; null for none.</summary>
    public long? RenewalPoints { get; init; }

    /// <summary>Days after lapsing when the member leaves the active lists (history is kept); null for never.</summary>
    public int? PurgeAfterDays { get; init; }

    /// <summary>The end of a period starting at <paramref name="fromUtc"/>, or null when cards do not lapse.</summary>
    public DateTime? Until(DateTime fromUtc) => Kind switch
    {
        ValidityKind.Days => fromUtc.AddDays(Length),
        ValidityKind.Years => fromUtc.AddYears(Length),
        _ => null,
    };
}

/// <summary>What replacing a card costs (fen), and whether the first replacement is free.</summary>
public sealed record ReplacementFees
{
    public long Lost { get; init; }

    public long Damaged { get; init; }

    public bool FirstFree { get; init; }
}

/// <summary>Linked cards a principal member may hand to other people: they carry a tier's benefits and no balance.</summary>
public sealed record SubCardPolicy
{
    /// <summary>How many active sub-cards a member may hold (0: none beyond what top-ups give).</summary>
    public int Max { get; init; }

    /// <summary>The tier a sub-card issued at the counter carries; null for the principal's tier at issue.</summary>
    public string? Tier { get; init; }
}

/// <summary>Cards of a program: fees, validity, replacement, sub-cards and anonymous cards.</summary>
public sealed record CardPolicy
{
    /// <summary>Fee (fen) for issuing a card, charged once.</summary>
    public long Fee { get; init; }

    /// <summary>Fee (fen) a member pays each year to keep the card (counts toward annual_fee tiers); 0 for none.</summary>
    public long AnnualFee { get; init; }

    public CardValidity Validity { get; init; } = new();

    public ReplacementFees Replacement { get; init; } = new();

    public SubCardPolicy SubCards { get; init; } = new();

    /// <summary>Whether anonymous (不记名) cards are sold; they cannot be reported lost or replaced.</summary>
    public bool Anonymous { get; init; }

    /// <summary>Whether two members' cards may be merged into one (their points then combine).</summary>
    public bool AllowMerge { get; init; }
}

public enum SpendOrder
{
    BonusFirst = 0,
    PrincipalFirst = 1,
    Proportional = 2,
}

/// <summary>
/// A top-up threshold: a single top-up of at least <see cref="Minimum"/> fen adds
/// <see cref="Bonus"/> fen, issues sub-cards and records gifts. Tier cards come from tiers that
/// qualify by single_top_up. The highest threshold reached applies, alone.
/// </summary>
public sealed record BonusTier
{
    public long Minimum { get; init; }

    public long Bonus { get; init; }

    public int SubCards { get; init; }

    /// <summary>The tier the sub-cards carry; null for the member's tier after the top-up.</summary>
    public string? SubCardTier { get; init; }

    /// <summary>Gift items handed over with the top-up (recorded as issued).</summary>
    public IReadOnlyList<string> Gifts { get; init; } = [];
}

/// <summary>
/// Prepaid balances (储值): top-ups with bonus tiers, principal and bonus kept apart, the order
/// they are spent in, and refunds of unspent principal. A balance is never forfeited: when the
/// card lapses it is frozen until a top-up renews the card.
/// </summary>
public sealed record StoredValuePolicy
{
    public bool Enabled { get; init; }

    /// <summary>Smallest top-up (fen).</summary>
    public long MinimumTopUp { get; init; } = 100;

    /// <summary>Largest top-up (fen) in one go.</summary>
    public long MaximumTopUp { get; init; } = 100_000_000;

    public IReadOnlyList<BonusTier> BonusTiers { get; init; } = [];

    public SpendOrder SpendOrder { get; init; } = SpendOrder.PrincipalFirst;

    /// <summary>Whether unspent principal may be paid back to the member.</summary>
    public bool Refundable { get; init; } = true;

    public BonusTier? BonusFor(long amount) => BonusTiers.Where(t => t.Minimum <= amount).OrderByDescending(t => t.Minimum).FirstOrDefault();
}
