using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Patron.Domain.Cards;
using Patron.Domain.Common;
using Patron.Domain.Members;

namespace Patron.Domain.Tests;

/// <summary>
/// The card life cycle: loss and replacement, damaged exchange, freezing, lapsing and renewal,
/// as facts for the rules that matter most and as a property running random operations against
/// a transition table the test states on its own.
/// </summary>
public class CardLifeTests
{
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Until = Start.AddYears(1);

    private static Member NewMember() => new(1, "Li Lei", "13800001234", Gender.Unknown, null, null, 1, null, null, "counter", Start);

    private static string Refused(Action act) => Assert.Throws<DomainException>(act).Code;

    // ---------------------------------------------------------------- loss and replacement

    [Fact]
    public void ReplaceBy_AfterReportLost_CarriesValidityAndHolderAndVoidsTheOldCard()
    {
        var member = NewMember();
        var old = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until, holder: "Han Meimei");
        old.ReportLost(Start.AddDays(10));
        Assert.Equal((CardStatus.Lost, Start.AddDays(10)), (old.Status, old.StatusAt));
        Assert.Equal("card.lost", old.RefusalCode);

        var replacement = member.IssueCard("A-2", CardKind.Physical, 2, Start.AddDays(11));
        Assert.Null(replacement.ValidUntil);
        old.ReplaceBy(replacement, damaged: false, Start.AddDays(11));

        Assert.Equal((CardStatus.Replaced, Start.AddDays(11)), (old.Status, old.StatusAt));
        Assert.False(old.IsUsable);
        Assert.Equal("card.replaced", old.RefusalCode);
        Assert.Equal(CardStatus.Active, replacement.Status);
        Assert.True(replacement.IsUsable);
        Assert.Equal(Until, replacement.ValidUntil);
        Assert.Equal(old.Id, replacement.ReplacesCardId);
        Assert.Equal("Han Meimei", replacement.Holder);

        // A void card is neither reported nor replaced again, nor renewed.
        Assert.Equal("card.not_reportable", Refused(() => old.ReportLost(Start.AddDays(12))));
        Assert.Equal("card.not_lost", Refused(() => old.ReplaceBy(member.IssueCard("A-3", CardKind.Physical, 2, Start.AddDays(12)), false, Start.AddDays(12))));
        Assert.Equal("card.not_renewable", Refused(() => old.Renew(Until.AddYears(1), Start.AddDays(12))));
    }

    [Fact]
    public void ReplaceBy_LostCardPastItsValidity_GivesALapsedReplacement()
    {
        var member = NewMember();
        var old = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until);
        old.ReportLost(Until.AddDays(-1));
        var replacement = member.IssueCard("A-2", CardKind.Physical, 1, Until);

        old.ReplaceBy(replacement, damaged: false, Until);

        Assert.Equal(CardStatus.Replaced, old.Status);
        Assert.Equal((CardStatus.Lapsed, Until, Until), (replacement.Status, replacement.StatusAt, replacement.ValidUntil));
        replacement.Renew(Until.AddYears(1), Until.AddDays(1));
        Assert.Equal(CardStatus.Active, replacement.Status);
    }

    [Fact]
    public void ReplaceBy_WithoutReportingLost_IsRefusedNotLostAndChangesNothing()
    {
        var member = NewMember();
        var card = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until);
        var replacement = member.IssueCard("A-2", CardKind.Physical, 1, Start);

        Assert.Equal("card.not_lost", Refused(() => card.ReplaceBy(replacement, damaged: false, Start.AddDays(1))));

        Assert.Equal((CardStatus.Active, Start), (card.Status, card.StatusAt));
        Assert.Equal((CardStatus.Active, (DateTime?)null, (long?)null), (replacement.Status, replacement.ValidUntil, replacement.ReplacesCardId));
    }

    [Fact]
    public void ReplaceBy_Damaged_ExchangesACardInUseButNotALostOne()
    {
        var member = NewMember();
        var card = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until);
        var exchange = member.IssueCard("A-2", CardKind.Physical, 1, Start);
        card.ReplaceBy(exchange, damaged: true, Start.AddDays(1));
        Assert.Equal((CardStatus.Replaced, CardStatus.Active, Until), (card.Status, exchange.Status, exchange.ValidUntil));

        exchange.ReportLost(Start.AddDays(2));
        Assert.Equal("card.not_exchangeable", Refused(() => exchange.ReplaceBy(member.IssueCard("A-3", CardKind.Physical, 1, Start), damaged: true, Start.AddDays(2))));
        Assert.Equal(CardStatus.Lost, exchange.Status);
    }

    [Fact]
    public void ReportLostAndReplaceBy_AnonymousCard_AreRefusedAnonymous()
    {
        var member = NewMember();
        var card = member.IssueCard("X-1", CardKind.Physical, 1, Start, Until, anonymous: true);
        var replacement = member.IssueCard("X-2", CardKind.Physical, 1, Start);

        Assert.Equal("card.anonymous", Refused(() => card.ReportLost(Start.AddDays(1))));
        Assert.Equal("card.anonymous", Refused(() => card.ReplaceBy(replacement, damaged: false, Start.AddDays(1))));
        Assert.Equal("card.anonymous", Refused(() => card.ReplaceBy(replacement, damaged: true, Start.AddDays(1))));

        Assert.Equal((CardStatus.Active, Start), (card.Status, card.StatusAt));
        Assert.Null(replacement.ValidUntil);
    }

    [Fact]
    public void ReplaceBy_SubCard_IsRefused()
    {
        var member = NewMember();
        var sub = member.IssueCard("S-1", CardKind.SubCard, 1, Start, tier: "gold", holder: "Han Meimei");
        sub.ReportLost(Start.AddDays(1));
        Assert.Equal("card.sub_card", Refused(() => sub.ReplaceBy(member.IssueCard("S-2", CardKind.SubCard, 1, Start), false, Start.AddDays(1))));
        Assert.Equal(CardStatus.Lost, sub.Status);
    }

    // ---------------------------------------------------------------- freezing, lapsing, renewal

    [Fact]
    public void Unfreeze_AtOrPastValidity_Lapses_BeforeIt_Reactivates()
    {
        var member = NewMember();
        var early = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until);
        var atEnd = member.IssueCard("A-2", CardKind.Physical, 1, Start, Until);
        var late = member.IssueCard("A-3", CardKind.Physical, 1, Start, Until);
        foreach (var card in member.Cards)
        {
            card.Freeze(Start.AddDays(1));
            Assert.Equal("card.frozen", card.RefusalCode);
        }

        early.Unfreeze(Until.AddTicks(-1));
        atEnd.Unfreeze(Until);
        late.Unfreeze(Until.AddDays(30));

        Assert.Equal(CardStatus.Active, early.Status);
        Assert.Equal((CardStatus.Lapsed, Until), (atEnd.Status, atEnd.StatusAt));
        Assert.Equal((CardStatus.Lapsed, Until.AddDays(30)), (late.Status, late.StatusAt));
        Assert.Equal("card.not_frozen", Refused(() => early.Unfreeze(Until)));
    }

    /// <summary>
    /// Reporting a frozen card lost, or exchanging it for damage, would give an active card in its
    /// place: a freeze undone by whoever may replace cards. Both are refused card.frozen.
    /// </summary>
    [Fact]
    public void ReportLostAndDamagedExchange_FrozenCard_AreRefusedFrozenAndChangeNothing()
    {
        var member = NewMember();
        var card = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until);
        card.Freeze(Start.AddDays(1));

        Assert.Equal("card.frozen", Refused(() => card.ReportLost(Start.AddDays(2))));
        Assert.Equal("card.frozen", Refused(() => card.ReplaceBy(member.IssueCard("A-2", CardKind.Physical, 1, Start.AddDays(2)), damaged: true, Start.AddDays(2))));
        Assert.Equal((CardStatus.Frozen, Start.AddDays(1)), (card.Status, card.StatusAt));

        card.Unfreeze(Start.AddDays(3));
        card.ReportLost(Start.AddDays(4));
        Assert.Equal(CardStatus.Lost, card.Status);
    }

    [Fact]
    public void Lapse_OnlyActsOnActiveCardsAtOrPastValidUntil()
    {
        var member = NewMember();
        var active = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until);
        var endless = member.IssueCard("A-2", CardKind.Virtual, 1, Start);
        var frozen = member.IssueCard("A-3", CardKind.Physical, 1, Start, Until);
        var lost = member.IssueCard("A-4", CardKind.Physical, 1, Start, Until);
        var inactive = member.IssueCard("A-5", CardKind.Physical, 1, Start, Until, inactive: true);
        frozen.Freeze(Start);
        lost.ReportLost(Start);

        Assert.False(active.Lapse(Until.AddTicks(-1)));
        Assert.Equal(CardStatus.Active, active.Status);
        Assert.True(active.Lapse(Until));
        Assert.Equal((CardStatus.Lapsed, Until), (active.Status, active.StatusAt));
        Assert.False(active.Lapse(Until.AddDays(1)));
        Assert.Equal(Until, active.StatusAt);

        var late = Until.AddYears(5);
        Assert.False(endless.Lapse(late));
        Assert.False(frozen.Lapse(late));
        Assert.False(lost.Lapse(late));
        Assert.False(inactive.Lapse(late));
        Assert.Equal(
            (CardStatus.Active, CardStatus.Frozen, CardStatus.Lost, CardStatus.Inactive),
            (endless.Status, frozen.Status, lost.Status, inactive.Status));
    }

    [Fact]
    public void Renew_LapsedCard_BecomesActiveWithTheNewValidity()
    {
        var member = NewMember();
        var card = member.IssueCard("A-1", CardKind.Physical, 1, Start, Until);
        Assert.True(card.Lapse(Until.AddDays(3)));
        Assert.True(card.IsExpiredAt(Until.AddDays(3)));
        Assert.True(card.IsUsable);
        Assert.Null(card.RefusalCode);

        card.Renew(Until.AddYears(1), Until.AddDays(5));

        Assert.Equal((CardStatus.Active, Until.AddDays(5), Until.AddYears(1)), (card.Status, card.StatusAt, card.ValidUntil));
        Assert.False(card.IsExpiredAt(Until.AddDays(5)));

        // Renewing an active card moves its end only.
        card.Renew(Until.AddYears(2), Until.AddDays(6));
        Assert.Equal((CardStatus.Active, Until.AddDays(5), Until.AddYears(2)), (card.Status, card.StatusAt, card.ValidUntil));
    }

    [Fact]
    public void Revoke_OnlySubCards_Once()
    {
        var member = NewMember();
        var principal = member.IssueCard("A-1", CardKind.Physical, 1, Start);
        var sub = member.IssueCard("S-1", CardKind.SubCard, 1, Start, tier: "gold");

        Assert.Equal("card.not_sub_card", Refused(() => principal.Revoke(Start)));
        sub.Revoke(Start.AddDays(1));
        Assert.Equal((CardStatus.Revoked, "card.revoked"), (sub.Status, sub.RefusalCode));
        Assert.Equal("card.revoked", Refused(() => sub.Revoke(Start.AddDays(2))));
        Assert.Equal("card.not_renewable", Refused(() => sub.Renew(null, Start.AddDays(2))));
    }

    // ---------------------------------------------------------------- random runs against a transition table

    /// <summary>
    /// Random operations on one card (after a replacement, on its replacement) with time moving
    /// forward. Each is refused exactly when the table says, with one of the codes that apply,
    /// and changes nothing then; otherwise the card moves where the table says, StatusAt marks
    /// each move, and RefusalCode and IsExpiredAt agree with the status.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property Card_RandomOperationSequences_FollowTheTransitionTable() =>
        Prop.ForAll(Arb.From(CardRunGen), run =>
        {
            var member = NewMember();
            var card = member.IssueCard("C-0", run.Kind, 1, Start, run.ValidDays is { } d ? Start.AddDays(d) : null, anonymous: run.Anonymous, inactive: run.Inactive);
            Assert.Equal(run.Inactive ? CardStatus.Inactive : CardStatus.Active, card.Status);
            var at = Start;
            for (var i = 0; i < run.Ops.Count; i++)
            {
                var op = run.Ops[i];
                at = at.AddHours(op.HoursLater);
                if (op.ToEnd && card.ValidUntil is { } end && end > at)
                {
                    // Straight to the instant the validity ends, where it is already over.
                    at = end;
                }
                try
                {
                    card = Step(member, card, op, at, i);
                }
                catch (Exception e) when (e is not StepFailedException)
                {
                    throw new StepFailedException($"Step {i} ({op}) at {at:O} on a {card.Status} card valid until {card.ValidUntil:O}: {e.Message}", e);
                }
            }
        });

    /// <summary>Applies one operation and checks it against the table; returns the card the run goes on with.</summary>
    private static Card Step(Member member, Card card, CardOp op, DateTime at, int i)
    {
        var (status, statusAt, until) = (card.Status, card.StatusAt, card.ValidUntil);
        var expired = until is { } u && u <= at;
        var inUse = status is CardStatus.Active or CardStatus.Lapsed; // a frozen card stays frozen until unfrozen

        // Every reason the operation is refused; empty when it goes through.
        var refusals = new List<string>();
        void Unless(bool condition, string code)
        {
            if (!condition)
            {
                refusals.Add(code);
            }
        }

        Card? replacement = null;
        CardStatus next = status;
        Action act;
        switch (op.Kind)
        {
            case CardOpKind.ReportLost:
                Unless(status != CardStatus.Frozen, "card.frozen");
                Unless(inUse || status is CardStatus.Inactive or CardStatus.Frozen, "card.not_reportable");
                Unless(!card.Anonymous, "card.anonymous");
                next = CardStatus.Lost;
                act = () => card.ReportLost(at);
                break;
            case CardOpKind.ReplaceLost or CardOpKind.ExchangeDamaged:
                var damaged = op.Kind == CardOpKind.ExchangeDamaged;
                Unless(!card.Anonymous, "card.anonymous");
                Unless(card.Kind != CardKind.SubCard, "card.sub_card");
                Unless(!damaged || status != CardStatus.Frozen, "card.frozen");
                Unless(damaged ? inUse || status == CardStatus.Frozen : status == CardStatus.Lost, damaged ? "card.not_exchangeable" : "card.not_lost");
                next = CardStatus.Replaced;
                replacement = member.IssueCard($"C-{i + 1}", CardKind.Physical, 1, at);
                var r = replacement;
                act = () => card.ReplaceBy(r, damaged, at);
                break;
            case CardOpKind.Freeze:
                Unless(status is CardStatus.Active or CardStatus.Lapsed, "card.not_freezable");
                next = CardStatus.Frozen;
                act = () => card.Freeze(at);
                break;
            case CardOpKind.Unfreeze:
                Unless(status == CardStatus.Frozen, "card.not_frozen");
                next = expired ? CardStatus.Lapsed : CardStatus.Active;
                act = () => card.Unfreeze(at);
                break;
            case CardOpKind.Activate:
                Unless(status == CardStatus.Inactive, "card.not_inactive");
                next = CardStatus.Active;
                act = () => card.Activate(at);
                break;
            case CardOpKind.Revoke:
                Unless(card.Kind == CardKind.SubCard, "card.not_sub_card");
                Unless(status != CardStatus.Revoked, "card.revoked");
                next = CardStatus.Revoked;
                act = () => card.Revoke(at);
                break;
            case CardOpKind.Renew:
                Unless(status is not (CardStatus.Replaced or CardStatus.Revoked), "card.not_renewable");
                next = status == CardStatus.Lapsed ? CardStatus.Active : status;
                act = () => card.Renew(op.RenewDays is { } d ? at.AddDays(d) : null, at);
                break;
            default:
                var lapses = status == CardStatus.Active && expired;
                Assert.Equal(lapses, card.Lapse(at));
                Assert.Equal(lapses ? (CardStatus.Lapsed, at) : (status, statusAt), (card.Status, card.StatusAt));
                CheckConsistent(card, at);
                return card;
        }

        try
        {
            act();
        }
        catch (DomainException e)
        {
            Assert.True(refusals.Count > 0, $"{op.Kind} refused with {e.Code}; the table allows it.");
            Assert.Contains(e.Code, refusals);
            Assert.Equal((status, statusAt, until), (card.Status, card.StatusAt, card.ValidUntil));
            if (replacement is not null)
            {
                Assert.Equal((CardStatus.Active, (DateTime?)null, (long?)null), (replacement.Status, replacement.ValidUntil, replacement.ReplacesCardId));
            }

            CheckConsistent(card, at);
            return card;
        }

        Assert.True(refusals.Count == 0, $"{op.Kind} went through; the table refuses it with {string.Join(", ", refusals)}.");
        Assert.Equal(next, card.Status);
        var moved = op.Kind != CardOpKind.Renew || status == CardStatus.Lapsed;
        Assert.Equal(moved ? at : statusAt, card.StatusAt);
        Assert.Equal(op.Kind == CardOpKind.Renew ? (op.RenewDays is { } days ? at.AddDays(days) : null) : until, card.ValidUntil);
        CheckConsistent(card, at);
        if (replacement is null)
        {
            return card;
        }

        // The replacement takes the old card's validity and holder, lapsed if that validity is over.
        Assert.Equal((until, card.Id, card.Holder), (replacement.ValidUntil, replacement.ReplacesCardId, replacement.Holder));
        Assert.Equal(status == CardStatus.Lapsed || expired ? (CardStatus.Lapsed, at) : (CardStatus.Active, at), (replacement.Status, replacement.StatusAt));
        CheckConsistent(replacement, at);
        return replacement;
    }

    private static void CheckConsistent(Card card, DateTime at)
    {
        var usable = card.Status is CardStatus.Active or CardStatus.Lapsed;
        Assert.Equal(usable, card.IsUsable);
        Assert.Equal(usable ? null : "card." + card.Status.ToString().ToLowerInvariant(), card.RefusalCode);
        Assert.Equal(card.Status == CardStatus.Lapsed || card.ValidUntil <= at, card.IsExpiredAt(at));
    }

    private sealed class StepFailedException(string message, Exception inner) : Exception(message, inner);

    private enum CardOpKind
    {
        ReportLost,
        ReplaceLost,
        ExchangeDamaged,
        Freeze,
        Unfreeze,
        Activate,
        Revoke,
        Renew,
        Lapse,
    }

    private sealed record CardOp(int HoursLater, bool ToEnd, CardOpKind Kind, int? RenewDays);

    private sealed record CardRun(CardKind Kind, bool Anonymous, bool Inactive, int? ValidDays, IReadOnlyList<CardOp> Ops)
    {
        public override string ToString() => $"{Kind}, anonymous {Anonymous}, inactive {Inactive}, valid {ValidDays?.ToString() ?? "∞"} days; Ops = [{string.Join("; ", Ops)}]";
    }

    private static Gen<CardOp> CardOpGen =>
        from hours in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(1, 24 * 20)), (1, Gen.Choose(24 * 20, 24 * 120)))
        from kind in Gen.Frequency(
            (3, Gen.Constant(CardOpKind.ReportLost)),
            (3, Gen.Constant(CardOpKind.ReplaceLost)),
            (2, Gen.Constant(CardOpKind.ExchangeDamaged)),
            (3, Gen.Constant(CardOpKind.Freeze)),
            (3, Gen.Constant(CardOpKind.Unfreeze)),
            (1, Gen.Constant(CardOpKind.Activate)),
            (1, Gen.Constant(CardOpKind.Revoke)),
            (3, Gen.Constant(CardOpKind.Renew)),
            (4, Gen.Constant(CardOpKind.Lapse)))
        from toEnd in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from renew in Gen.Frequency((1, Gen.Constant<int?>(null)), (4, Gen.Choose(-10, 90).Select(d => (int?)d)))
        select new CardOp(hours, toEnd, kind, kind == CardOpKind.Renew ? renew : null);

    private static Gen<CardRun> CardRunGen =>
        from kind in Gen.Elements(CardKind.Physical, CardKind.Virtual, CardKind.SubCard)
        from anonymous in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from inactive in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from validDays in Gen.Frequency((1, Gen.Constant<int?>(null)), (3, Gen.Choose(1, 90).Select(d => (int?)d)))
        from count in Gen.Choose(1, 25)
        from ops in CardOpGen.ListOf(count)
        select new CardRun(kind, anonymous, inactive, validDays, [.. ops]);
}
