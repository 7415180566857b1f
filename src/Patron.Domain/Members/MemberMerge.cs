using Patron.Domain.Cards;
using Patron.Domain.Common;

namespace Patron.Domain.Members;

/// <summary>What a merge did with one card: its status before, whether it was replaced, and the card that stands for it.</summary>
public sealed record CardMove(Card Card, CardStatus Before, bool Replaced, Card? ReplacedBy);

/// <summary>The rules of merging a duplicate member into the one that is kept.</summary>
public static class MemberMerge
{
    /// <summary>Why <paramref name="merged"/> cannot be merged into <paramref name="survivor"/>; null when it can.</summary>
    public static DomainError? Refusal(Member survivor, Member merged)
    {
        if (survivor.Id == merged.Id)
        {
            return new("merge.same_member", "A member cannot be merged into itself.", "mergedId");
        }

        if (survivor.ProgramId != merged.ProgramId)
        {
            return new("merge.program_mismatch", "Only members of the same program can be merged.");
        }

        if (merged.MergedIntoId is not null || survivor.MergedIntoId is not null)
        {
            return new("merge.already_merged", "One of the two members was already merged into another member.");
        }

        if (merged.AnonymisedAt is not null || survivor.AnonymisedAt is not null)
        {
            return new("merge.anonymised", "One of the two members had their personal data erased; an erased member is not merged.");
        }

        if (survivor.Cards.Concat(merged.Cards).Any(c => c.Status == CardStatus.Frozen))
        {
            return new("merge.card_frozen", "A card of one of the two members is frozen; settle and unfreeze it before merging.");
        }

        return null;
    }

    /// <summary>The principal card a member uses: active before lapsed, the newest first; null when none is in use.</summary>
    public static Card? CardInUse(IEnumerable<Card> cards) =>
        cards.Where(c => c.IsPrincipal && c.Status is CardStatus.Active or CardStatus.Lapsed)
            .OrderBy(c => c.Status == CardStatus.Active ? 0 : 1).ThenByDescending(c => c.IssuedAt).ThenByDescending(c => c.Id)
            .FirstOrDefault();

    /// <summary>A member's active principal card, the newest first; null when it has none (a lapsed card does not count).</summary>
    public static Card? ActiveCard(IEnumerable<Card> cards) =>
        cards.Where(c => c.IsPrincipal && c.Status == CardStatus.Active)
            .OrderByDescending(c => c.IssuedAt).ThenByDescending(c => c.Id)
            .FirstOrDefault();

    /// <summary>
    /// The two members' health profiles as one, for the survivor: conditions and allergies of
    /// both (case-insensitive, each once, the survivor's first), the medicines of both (one per
    /// name and SKU, the survivor's where both take the same), cleaned by
    /// <see cref="HealthProfile.Normalize"/>. Null when the union is over the profile's limits.
    /// </summary>
    public static HealthProfile? CombineHealth(HealthProfile survivor, HealthProfile merged)
    {
        static List<string> Union(IReadOnlyList<string> a, IReadOnlyList<string> b) =>
            [.. a.Concat(b).Select(x => (x ?? "").Trim()).Where(x => x.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase)];

        var medicines = new List<LongTermMedicine>();
        foreach (var m in survivor.Medicines.Concat(merged.Medicines))
        {
            if (!medicines.Any(x => SameMedicine(x, m)))
            {
                medicines.Add(m);
            }
        }

        var (profile, _) = HealthProfile.Normalize(Union(survivor.Conditions, merged.Conditions), Union(survivor.Allergies, merged.Allergies), medicines);
        return profile;
    }

    private static bool SameMedicine(LongTermMedicine a, LongTermMedicine b) =>
        string.Equals(a.Name.Trim(), b.Name.Trim(), StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.Sku?.Trim() ?? "", b.Sku?.Trim() ?? "", StringComparison.OrdinalIgnoreCase);
}
