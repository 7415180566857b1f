using Patron.Domain.Cards;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Domain.StoredValue;

namespace Patron.Domain.Tests;

/// <summary>
/// Merging a duplicate member: which cards move and which are replaced under the program's card
/// policy, the refusals, points lots and debt carried over as they were, stored value carried
/// with the bonus already spent (so refunds stay the same), and counters added up.
/// </summary>
public class MemberMergeTests
{
    private static readonly DateTime Start = new(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    private static Member NewMember(long id, long programId = 1)
    {
        var member = new Member(programId, "Li Lei", "1380000" + id.ToString("D4", System.Globalization.CultureInfo.InvariantCulture), Gender.Unknown, null, null, 1, null, null, "store", Start);
        typeof(Member).GetProperty(nameof(Member.Id))!.SetValue(member, id);
        return member;
    }

    [Fact]
    public void MergeInto_OnePrincipalCardPerMember_ReplacesTheMergedPrincipalCards_SubCardsMoveAsTheyAre()
    {
        var survivor = NewMember(1);
        var kept = survivor.IssueCard("S-1", CardKind.Virtual, 1, Start);
        var merged = NewMember(2);
        var physical = merged.IssueCard("M-1", CardKind.Physical, 1, Start);
        var blank = merged.IssueCard("M-2", CardKind.Physical, 1, Start, inactive: true);
        var sub = merged.IssueCard("M-3", CardKind.SubCard, 1, Start, holder: "Han Meimei");

        var moves = merged.MergeInto(survivor, cardsMayMerge: false, Start.AddDays(1));

        Assert.Equal([CardStatus.Replaced, CardStatus.Replaced, CardStatus.Active], moves.Select(m => m.Card.Status));
        Assert.Equal([true, true, false], moves.Select(m => m.Replaced));
        Assert.All(moves.Where(m => m.Replaced), m => Assert.Same(kept, m.ReplacedBy));
        Assert.Equal((CardStatus.Active, CardStatus.Inactive), (moves[0].Before, moves[1].Before));
        Assert.Equal([kept, physical, blank, sub], survivor.Cards);
        Assert.All(survivor.Cards, c => Assert.Same(survivor, c.Member));
        Assert.Empty(merged.Cards);
        Assert.Single(survivor.Cards, c => c.IsPrincipal && c.Status == CardStatus.Active);
        Assert.Equal((MemberStatus.Inactive, (long?)1, (DateTime?)Start.AddDays(1)), (merged.Status, merged.MergedIntoId, merged.MergedAt));
    }

    [Fact]
    public void MergeInto_SurvivorWithoutACardInUse_KeepsTheMergedMembersActiveCard_ReplacesTheRest()
    {
        var survivor = NewMember(1);
        survivor.IssueCard("S-1", CardKind.Physical, 1, Start).ReportLost(Start);
        var merged = NewMember(2);
        var older = merged.IssueCard("M-1", CardKind.Physical, 1, Start);
        var newer = merged.IssueCard("M-2", CardKind.Virtual, 1, Start.AddDays(3));

        var moves = merged.MergeInto(survivor, cardsMayMerge: false, Start.AddDays(5));

        Assert.Equal((CardStatus.Replaced, CardStatus.Active), (older.Status, newer.Status));
        Assert.Same(newer, moves.Single(m => m.Replaced).ReplacedBy);
        Assert.Single(survivor.Cards, c => c.IsPrincipal && c.Status == CardStatus.Active);
    }

    [Fact]
    public void MergeInto_SurvivorsCardLapsed_TheMergedMembersActiveCardMovesActive_TheLapsedOneStaysLapsed()
    {
        var survivor = NewMember(1);
        var lapsed = survivor.IssueCard("S-1", CardKind.Physical, 1, Start, validUntil: Start.AddDays(1));
        Assert.True(lapsed.Lapse(Start.AddDays(2)));
        var merged = NewMember(2);
        var active = merged.IssueCard("M-1", CardKind.Physical, 1, Start.AddDays(1));
        var older = merged.IssueCard("M-2", CardKind.Virtual, 1, Start, validUntil: Start.AddDays(1));
        Assert.True(older.Lapse(Start.AddDays(2)));

        var moves = merged.MergeInto(survivor, cardsMayMerge: false, Start.AddDays(3));

        Assert.Equal((CardStatus.Lapsed, CardStatus.Active, CardStatus.Replaced), (lapsed.Status, active.Status, older.Status));
        Assert.False(moves.Single(m => m.Card == active).Replaced);
        Assert.Same(active, moves.Single(m => m.Card == older).ReplacedBy);
        Assert.Single(survivor.Cards, c => c.IsPrincipal && c.Status == CardStatus.Active);
    }

    [Fact]
    public void MergeInto_SurvivorsCardLapsed_MergedMembersLapsedCardMovesAsItIs_NeverTwoActive()
    {
        var survivor = NewMember(1);
        var kept = survivor.IssueCard("S-1", CardKind.Physical, 1, Start, validUntil: Start.AddDays(1));
        Assert.True(kept.Lapse(Start.AddDays(2)));
        var merged = NewMember(2);
        var theirs = merged.IssueCard("M-1", CardKind.Physical, 1, Start, validUntil: Start.AddDays(1));
        Assert.True(theirs.Lapse(Start.AddDays(2)));
        merged.IssueCard("M-2", CardKind.Physical, 1, Start).ReportLost(Start);

        var moves = merged.MergeInto(survivor, cardsMayMerge: false, Start.AddDays(3));

        Assert.Equal((CardStatus.Lapsed, CardStatus.Lapsed), (kept.Status, theirs.Status));
        Assert.Same(theirs, Assert.Single(moves, m => m.Replaced).ReplacedBy);
        Assert.DoesNotContain(survivor.Cards, c => c.IsPrincipal && c.Status == CardStatus.Active);

        // With an active card of its own, the survivor keeps it and a lapsed card of the merged member is replaced.
        var other = NewMember(3);
        var active = other.IssueCard("O-1", CardKind.Physical, 1, Start);
        var third = NewMember(4);
        var lapsed = third.IssueCard("T-1", CardKind.Physical, 1, Start, validUntil: Start.AddDays(1));
        Assert.True(lapsed.Lapse(Start.AddDays(2)));
        Assert.Same(active, Assert.Single(third.MergeInto(other, cardsMayMerge: false, Start.AddDays(3))).ReplacedBy);
        Assert.Equal((CardStatus.Active, CardStatus.Replaced), (active.Status, lapsed.Status));
    }

    [Fact]
    public void MergeInto_TheSurvivorTakesTheMergedMembersIdNumberWhenItHasNone_BothKeepTheirsOtherwise()
    {
        var id = new ProtectedIdNumber("hash-2", "cipher-2", "1234");
        var survivor = NewMember(1);
        var merged = new Member(1, "Li Lei", "13800000002", Gender.Unknown, null, id, 1, null, null, "store", Start);

        merged.MergeInto(survivor, false, Start);

        Assert.Equal(("hash-2", "cipher-2", "1234"), (survivor.IdNumberHash, survivor.IdNumberCipher, survivor.IdNumberTail));
        Assert.True(merged is { IdNumberHash: null, IdNumberCipher: null, IdNumberTail: null });

        var own = new Member(1, "Han Meimei", "13800000003", Gender.Unknown, null, new ProtectedIdNumber("hash-3", "cipher-3", "5678"), 1, null, null, "store", Start);
        var other = new Member(1, "Han Meimei", "13800000004", Gender.Unknown, null, new ProtectedIdNumber("hash-4", "cipher-4", "9012"), 1, null, null, "store", Start);
        typeof(Member).GetProperty(nameof(Member.Id))!.SetValue(own, 3L);
        typeof(Member).GetProperty(nameof(Member.Id))!.SetValue(other, 4L);
        other.MergeInto(own, false, Start);
        Assert.Equal(("hash-3", "hash-4"), (own.IdNumberHash, other.IdNumberHash));
    }

    [Fact]
    public void CombineHealth_UnitesBothFiles_EachEntryOnce_TheSurvivorsMedicineWhenBothTakeIt()
    {
        var survivor = new HealthProfile
        {
            Conditions = ["高血压"],
            Allergies = ["Penicillin"],
            Medicines = [new LongTermMedicine("氨氯地平", "SKU-1", 1, 28)],
        };
        var merged = new HealthProfile
        {
            Conditions = ["高血压", "糖尿病"],
            Allergies = ["penicillin", "磺胺"],
            Medicines = [new LongTermMedicine("氨氯地平", "sku-1", 2, 14), new LongTermMedicine("氨氯地平", "SKU-9", 1, 7), new LongTermMedicine("二甲双胍", null, 3, 60)],
        };

        var combined = MemberMerge.CombineHealth(survivor, merged);

        Assert.NotNull(combined);
        Assert.Equal(["高血压", "糖尿病"], combined.Conditions);
        Assert.Equal(["Penicillin", "磺胺"], combined.Allergies);
        Assert.Equal([("氨氯地平", "SKU-1", 1m), ("氨氯地平", "SKU-9", 1m), ("二甲双胍", null, 3m)], combined.Medicines.Select(m => (m.Name, m.Sku, m.DailyDose)));
    }

    [Fact]
    public void CombineHealth_OverTheLimits_IsNull()
    {
        var half = HealthProfile.MaxItems / 2 + 1;
        var a = new HealthProfile { Allergies = [.. Enumerable.Range(0, half).Select(i => $"A{i}")] };
        var b = new HealthProfile { Allergies = [.. Enumerable.Range(0, half).Select(i => $"B{i}")] };
        Assert.Null(MemberMerge.CombineHealth(a, b));
        Assert.NotNull(MemberMerge.CombineHealth(a, a));

        var pills = new HealthProfile { Medicines = [.. Enumerable.Range(0, half).Select(i => new LongTermMedicine($"M{i}", null, 1, 10))] };
        var others = new HealthProfile { Medicines = [.. Enumerable.Range(0, half).Select(i => new LongTermMedicine($"N{i}", null, 1, 10))] };
        Assert.Null(MemberMerge.CombineHealth(pills, others));
    }

    [Fact]
    public void MilestoneAbsorb_AtMostOneRewarded_AddsTheCounters_BothRewarded_KeepsTheFurther()
    {
        var rule = new MilestoneRule
        {
            Id = "m",
            Counter = MilestoneCounter.Spend,
            Steps = [new MilestoneStep { Threshold = 100, Points = 10 }, new MilestoneStep { Threshold = 300, Points = 30 }, new MilestoneStep { Threshold = 600, Points = 60 }],
        };

        // Neither rewarded: the sum passes the first step, given at the next purchase.
        var survivor = new MilestoneProgress(1, "m");
        var merged = new MilestoneProgress(2, "m");
        survivor.Advance(rule, 60, 2026);
        merged.Advance(rule, 70, 2026);
        Assert.True(survivor.Absorb(merged));
        Assert.Equal((130L, 0), (survivor.Counter, survivor.NextStep));
        Assert.Equal([10L], survivor.Advance(rule, 1, 2026).Select(s => s.Points));

        // One rewarded (the merged member's first step): the counters add, the next step is the further.
        survivor = new MilestoneProgress(1, "m");
        merged = new MilestoneProgress(2, "m");
        survivor.Advance(rule, 90, 2026);
        merged.Advance(rule, 150, 2026);
        Assert.True(survivor.Absorb(merged));
        Assert.Equal((240L, 1), (survivor.Counter, survivor.NextStep));
        Assert.Equal([30L], survivor.Advance(rule, 60, 2026).Select(s => s.Points));

        // Both rewarded: the first step was given twice; the further progress is kept, not the sum.
        survivor = new MilestoneProgress(1, "m");
        merged = new MilestoneProgress(2, "m");
        survivor.Advance(rule, 120, 2026);
        merged.Advance(rule, 350, 2026);
        Assert.False(survivor.Absorb(merged));
        Assert.Equal((350L, 2), (survivor.Counter, survivor.NextStep));

        survivor = new MilestoneProgress(1, "m");
        merged = new MilestoneProgress(2, "m");
        survivor.Advance(rule, 350, 2026);
        merged.Advance(rule, 120, 2026);
        Assert.False(survivor.Absorb(merged));
        Assert.Equal((350L, 2), (survivor.Counter, survivor.NextStep));
    }

    [Fact]
    public void MilestoneAbsorb_ResetLadders_CompletedRoundsOfTheYearAddUp()
    {
        var rule = new MilestoneRule { Id = "r", ResetAfterLast = true, Steps = [new MilestoneStep { Threshold = 100, Points = 1 }] };
        var survivor = new MilestoneProgress(1, "r");
        var merged = new MilestoneProgress(2, "r");
        survivor.Advance(rule, 150, 2026);
        merged.Advance(rule, 260, 2026);

        Assert.True(survivor.Absorb(merged));

        Assert.Equal((110L, 0, 2026, 3), (survivor.Counter, survivor.NextStep, survivor.ResetsYear, survivor.Resets));
        Assert.Single(survivor.Advance(rule, 1, 2026));
    }

    [Fact]
    public void MergeInto_WhenCardsMayMerge_EveryCardMovesAsItIs()
    {
        var survivor = NewMember(1);
        survivor.IssueCard("S-1", CardKind.Physical, 1, Start);
        var merged = NewMember(2);
        merged.IssueCard("M-1", CardKind.Physical, 1, Start);
        merged.IssueCard("M-2", CardKind.Physical, 1, Start).ReportLost(Start);

        var moves = merged.MergeInto(survivor, cardsMayMerge: true, Start.AddDays(1));

        Assert.All(moves, m => Assert.Equal(m.Before, m.Card.Status));
        Assert.Equal(2, survivor.Cards.Count(c => c.Status == CardStatus.Active));
    }

    [Fact]
    public void MergeInto_Refusals_LeaveBothMembersAsTheyWere()
    {
        var survivor = NewMember(1);
        var card = survivor.IssueCard("S-1", CardKind.Physical, 1, Start);
        string Refused(Member s, Member m) => Assert.Throws<DomainException>(() => m.MergeInto(s, false, Start)).Code;

        Assert.Equal("merge.same_member", Refused(survivor, survivor));
        Assert.Equal("merge.program_mismatch", Refused(survivor, NewMember(3, programId: 2)));
        var erased = NewMember(4);
        erased.Anonymise(Start);
        Assert.Equal("merge.anonymised", Refused(survivor, erased));
        var frozen = NewMember(5);
        frozen.IssueCard("F-1", CardKind.Physical, 1, Start).Freeze(Start);
        Assert.Equal("merge.card_frozen", Refused(survivor, frozen));
        Assert.Single(frozen.Cards);

        var merged = NewMember(6);
        merged.MergeInto(survivor, false, Start);
        Assert.Equal("merge.already_merged", Refused(survivor, merged));
        Assert.Equal("merge.already_merged", Refused(merged, NewMember(7)));
        Assert.Equal(CardStatus.Active, card.Status);
    }

    [Fact]
    public void Points_CloseOutAndTakeOver_CarryEachLotWithItsExpiryAndStore_AndTheDebtAsDebt()
    {
        var expires = Start.AddDays(100);
        var merged = new PointsAccount(2);
        merged.Earn(100, PointsCause.Sale, Start.AddDays(-200), Start.AddDays(-1)); // lapsed: expires, never moves
        merged.Earn(80, PointsCause.Sale, Start.AddDays(-10), expires);
        merged.NewLots[1].StoreId = 9;
        merged.Earn(20, PointsCause.Event, Start.AddDays(-5), null);

        var carry = merged.CloseOutForMerge(Start, "merge:2>1", defaultStoreId: 4);

        Assert.Equal(0, merged.Balance);
        Assert.Equal(new (DateTime, DateTime?, long, long?)[] { (Start.AddDays(-10), expires, 80, 9), (Start.AddDays(-5), null, 20, 4) },
            carry.Lots.Select(l => (l.EarnedAt, l.ExpiresAt, l.Points, l.StoreId)));
        Assert.Equal(-100, merged.Entries.Single(e => e.Cause == PointsCause.Expiry).Points);
        Assert.Equal(-100, merged.Entries.Where(e => e.Cause == PointsCause.MergeOut).Sum(e => e.Points));
        Assert.Equal(0, merged.Entries.Sum(e => e.Points));

        var survivor = new PointsAccount(1);
        survivor.Earn(50, PointsCause.Sale, Start, null);
        survivor.TakeOver(carry with { Debt = 30 }, Start, "merge:2>1");
        Assert.Equal((120L, 30L), (survivor.Balance, survivor.Debt));
        Assert.Equal([50L, 80L, 20L], survivor.Lots.Select(l => l.Remaining));
        Assert.Equal(survivor.Balance, survivor.Entries.Sum(e => e.Points));

        // A debt closed out: the merged balance goes to zero with one credit that repays it.
        var owing = new PointsAccount(3, [], debt: 30);
        var owed = owing.CloseOutForMerge(Start, null, 4);
        Assert.Equal((30L, 0L, 0L), (owed.Debt, owing.Debt, owing.Balance));
        Assert.Equal(30, owing.Entries.Single().DebtRepaid);
    }

    [Fact]
    public void StoredValue_CloseOutAndTakeOver_KeepPrincipalBonusStoreAndWhatCanBeRefunded()
    {
        var merged = new StoredValuePurse(2, 1, []);
        merged.Credit(StoredValueCause.TopUp, 100_000, 10_000, 7, Start.AddDays(-30), "T-1");
        merged.Credit(StoredValueCause.TopUp, 5_000, 0, 8, Start.AddDays(-20), "T-2");
        merged.Spend(22_000, SpendOrder.BonusFirst, 7, Start.AddDays(-10), "S-1");
        var refundable = merged.Refundable;
        var (principal, bonus) = (merged.Principal, merged.Bonus);

        var carried = merged.CloseOutForMerge(Start, "merge:2>1");
        Assert.Equal((0L, 0L), (merged.Principal, merged.Bonus));
        Assert.Equal((-principal, -bonus), (merged.Entries.Where(e => e.Cause == StoredValueCause.MergeOut).Sum(e => e.Principal), merged.Entries.Where(e => e.Cause == StoredValueCause.MergeOut).Sum(e => e.Bonus)));

        var survivor = new StoredValuePurse(1, 1, []);
        survivor.Credit(StoredValueCause.TopUp, 3_000, 0, 7, Start.AddDays(-1), "T-3");
        var entries = survivor.TakeOver([.. carried.Select(c => c with { TopUpId = 55 })], Start, "merge:2>1");

        Assert.Equal((principal + 3_000, bonus), (survivor.Principal, survivor.Bonus));
        Assert.Equal(refundable + 3_000, survivor.Refundable);
        Assert.Equal([7L, 8L], entries.Select(e => e.StoreId));
        Assert.Equal([Start.AddDays(-30), Start.AddDays(-20)], entries.Select(e => e.Lot.IssuedAt));
        Assert.All(entries, e => Assert.Equal((StoredValueCause.MergeIn, (long?)55), (e.Cause, e.TopUpId)));

        // The bonus spent before the merge still keeps that much principal from being paid out.
        var (paid, _) = survivor.Refund(survivor.Refundable, 7, Start, "refund");
        Assert.Equal(principal + 3_000 - 10_000, paid);
    }

    [Fact]
    public void Absorb_AddsTheCountersUp_TheLaterYearWins_AndClearsTheMergedAccount()
    {
        var survivor = new MemberAccount(1, 1, "standard", Start);
        survivor.CountSpend(30_000, 2026, Start);
        survivor.CountEarned(300);
        survivor.CountTopUp(5_000);
        var merged = new MemberAccount(2, 1, "silver", Start);
        merged.CountSpend(20_000, 2025, Start.AddYears(-1));
        merged.CountSpend(10_000, 2026, Start.AddDays(2));
        merged.CountEarned(200);
        merged.CountTopUp(8_000);

        survivor.Absorb(merged, Start.AddDays(3));

        Assert.Equal((500L, 60_000L, 40_000L, 2026, 30_000L, 8_000L), (survivor.CumulativeEarned, survivor.CumulativeSpend, survivor.YearSpend, survivor.SpendYear, survivor.LargestPurchase, survivor.LargestTopUp));
        Assert.Equal(Start.AddDays(2), survivor.LastPurchaseAt);
        Assert.Equal((0L, 0L, 0L, (string?)null), (merged.CumulativeEarned, merged.CumulativeSpend, merged.YearSpend, merged.Tier));
    }
}
