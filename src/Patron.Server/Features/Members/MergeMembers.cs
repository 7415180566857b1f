using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Common;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Domain.StoredValue;
using Patron.Domain.Tiers;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Members;

/// <summary>Which member is kept (the survivor), which is merged into it, and why.</summary>
public sealed record MergeRequest(long? SurvivorId, long? MergedId, string? Reason = null);

/// <summary>One of the two members as the supervisor compares them: phone and ID number masked.</summary>
public sealed record MergeSide(
    long Id,
    string Name,
    string Mobile,
    string? IdNumber,
    DateOnly? Birthday,
    long EnrolStoreId,
    string EnrolStoreName,
    DateTime EnrolledAt,
    string Status,
    string? Tier,
    long Points,
    long PointsDebt,
    long StoredPrincipal,
    long StoredBonus,
    int Cards,
    int Sales,
    int Coupons);

/// <summary>
/// What the merge does with one card of the merged member: <c>moves</c> (as it is) or
/// <c>moves_replaced</c> (moves and is replaced, <see cref="ReplacedBy"/> standing for it).
/// Card numbers by their last four digits.
/// </summary>
public sealed record MergeCard(long Id, string Number, string Kind, string StatusBefore, string StatusAfter, string Outcome, string? ReplacedBy);

/// <summary>The merged member's points that move (open lots less debt) and the survivor's balance after.</summary>
public sealed record MergePoints(long Balance, long Debt, int Lots, long SurvivorBalanceAfter, long SurvivorDebtAfter);

/// <summary>The merged member's stored value that moves (fen) and the survivor's after.</summary>
public sealed record MergeStoredValue(long Principal, long Bonus, int Lots, long SurvivorPrincipalAfter, long SurvivorBonusAfter);

/// <summary>
/// The records that change owner. <see cref="HealthFile"/>: <c>none</c>, <c>kept</c> (the
/// survivor's, the merged member had none), <c>moved</c> (the merged member's, the survivor had
/// none), <c>combined</c> (both files as one, on the survivor) or <c>erased</c> (the latest
/// health-data consent of the two is a withdrawal). <see cref="IdNumber"/>: <c>none</c>,
/// <c>kept</c> (only the survivor has one), <c>moved</c> (the merged member's goes to the
/// survivor) or <c>both</c> (each keeps its own). <see cref="Milestones"/> counts the progress
/// rows that move, <see cref="MilestonesCombined"/> the rules both members had progress on, and
/// <see cref="Purchasers"/> the organisation purchasers that move.
/// </summary>
public sealed record MergeRecords(
    int Sales,
    int Coupons,
    int CouponUses,
    int Redemptions,
    int Entitlements,
    int TopUps,
    int CareTasks,
    int Consents,
    int PendingAdjustments,
    int Milestones,
    int CardEvents,
    string HealthFile,
    string IdNumber,
    int MilestonesCombined,
    int Purchasers);

/// <summary>
/// A merge as previewed or done: both members before, what happens to each card, the points
/// and stored value that move, the records re-pointed, the survivor's tier before and after,
/// and what the supervisor should know (<see cref="Conflicts"/>, stable codes).
/// </summary>
public sealed record MergeView(
    MergeSide Survivor,
    MergeSide Merged,
    bool CardsMayMerge,
    IReadOnlyList<MergeCard> Cards,
    MergePoints Points,
    MergeStoredValue StoredValue,
    MergeRecords Records,
    string? TierBefore,
    string? TierAfter,
    IReadOnlyList<string> Conflicts,
    DateTime? MergedAt = null);

/// <summary>
/// The supervised merge of a duplicate member into the one that is kept, in one transaction.
/// Both members' accounts are locked (in id order, as every ledger change locks them), then
/// their rows and cards. Points and stored value move by ledger entries — the merged member's
/// open lots are closed out (<c>merge_out</c>) and opened again on the survivor (<c>merge_in</c>)
/// with the same earning date, expiry, store and remainder — never by editing entries. Counters
/// add up and the survivor's tier is the higher of the two, promoted further where the
/// combined counters reach a higher tier. Cards move under the program's card policy; sales,
/// coupons, redemptions, entitlements, top-ups, care tasks and consents change owner; the health
/// files, milestone progress and the ID number are combined on the survivor, and purchasers
/// follow to an organisation's file. The merged member stays, inactive, pointing to the
/// survivor. Audited on both members. The preview computes the same without changing anything.
/// </summary>
public sealed class MergeMembers(PatronDb db, MemberLedger ledger, ProgramRules programs, PersonalDataProtector protector, AuditLog audit, TimeProvider clock)
{
    public const int ReasonMaxLength = 200;

    /// <summary>Most cards listed in the audit entry.</summary>
    private const int AuditedCards = 20;

    /// <summary>The answer to a change naming a member that was merged into another: 409 with <c>mergedIntoId</c>.</summary>
    public static ProblemException MergedProblem(long memberId, long survivorId) =>
        new(StatusCodes.Status409Conflict, "member.merged", $"Member {memberId} was merged into member {survivorId}; use that member.")
        {
            Extensions = new Dictionary<string, object?> { ["mergedIntoId"] = survivorId },
        };

    /// <summary>
    /// The same answer for a list of members naming some merged ones: 409 <c>member.merged</c> for
    /// the first, with <c>mergedIntoId</c>, and <c>merged</c> listing each (<c>memberId</c>, <c>mergedIntoId</c>).
    /// </summary>
    public static ProblemException MergedProblem(IReadOnlyList<(long MemberId, long SurvivorId)> merged) =>
        new(StatusCodes.Status409Conflict, "member.merged",
            $"Member {merged[0].MemberId} was merged into member {merged[0].SurvivorId}; use that member." + (merged.Count > 1 ? $" {merged.Count - 1} more named members were merged too." : ""))
        {
            Extensions = new Dictionary<string, object?>
            {
                ["mergedIntoId"] = merged[0].SurvivorId,
                ["merged"] = merged.Select(m => new { memberId = m.MemberId, mergedIntoId = m.SurvivorId }).ToList(),
            },
        };

    /// <summary>What the merge would do, computed on copies of both members: nothing is written or locked.</summary>
    public async Task<MergeView> PreviewAsync(MergeRequest r, CallerScope caller, CancellationToken ct)
    {
        var (survivorId, mergedId, _) = Check(r, reasonRequired: false);
        var now = clock.GetUtcNow().UtcDateTime;
        var members = await db.Members.AsNoTracking().Include(m => m.Cards).Where(m => m.Id == survivorId || m.Id == mergedId).ToListAsync(ct);
        var survivor = Visible(members.FirstOrDefault(m => m.Id == survivorId), caller);
        var merged = Visible(members.FirstOrDefault(m => m.Id == mergedId), caller);
        EnsureScope(survivor, merged, caller);
        Refuse(survivor, merged);
        var rules = await RulesAsync(survivor.ProgramId, now, ct);
        var s = await DetachedSideAsync(survivor, rules.EntryTier?.Code, now, ct);
        var m = await DetachedSideAsync(merged, rules.EntryTier?.Code, now, ct);
        var before = (await SideAsync(s, ct), await SideAsync(m, ct));
        var health = await HealthAsync(survivorId, mergedId, ct);
        var idNumber = IdNumberOutcome(s.Member, m.Member);
        var outcome = await ApplyAsync(s, m, rules, now, ct);
        var milestones = await MilestonesAsync(survivorId, mergedId, tracked: false, ct);
        var purchasers = await PurchasersAsync(survivorId, mergedId, ct);
        var records = new MergeRecords(
            await db.Sales.CountAsync(x => x.MemberId == mergedId, ct),
            await db.Coupons.CountAsync(x => x.MemberId == mergedId, ct),
            await db.CouponUses.CountAsync(x => x.MemberId == mergedId, ct),
            await db.Redemptions.CountAsync(x => x.MemberId == mergedId, ct),
            await db.Entitlements.CountAsync(x => x.MemberId == mergedId, ct),
            await db.TopUps.CountAsync(x => x.MemberId == mergedId, ct),
            await db.CareTasks.CountAsync(x => x.MemberId == mergedId, ct),
            await db.MemberConsents.CountAsync(x => x.MemberId == mergedId, ct),
            await db.PointsAdjustments.CountAsync(x => x.MemberId == mergedId && x.Status == AdjustmentStatus.Pending, ct),
            milestones.Movable,
            await db.CardEvents.CountAsync(x => x.MemberId == mergedId, ct),
            health.Outcome,
            idNumber,
            milestones.Shared.Count,
            purchasers.Move.Count);
        return View(before, outcome, rules, records, Conflicts(outcome, health, idNumber, milestones, purchasers, survivor, rules), null);
    }

    /// <summary>Two members side by side (masked), for the supervisor to choose which one to keep; no refusal is checked yet.</summary>
    public async Task<(MergeSide A, MergeSide B)> CompareAsync(long a, long b, CallerScope caller, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var members = await db.Members.AsNoTracking().Include(m => m.Cards).Where(m => m.Id == a || m.Id == b).ToListAsync(ct);
        var x = Visible(members.FirstOrDefault(m => m.Id == a), caller);
        var y = Visible(members.FirstOrDefault(m => m.Id == b), caller);
        EnsureScope(x, y, caller);
        var local = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, await programs.ZoneAsync(x.ProgramId, ct)));
        var entryTier = (await programs.TryInForceAsync(x.ProgramId, local, ct))?.EntryTier?.Code;
        return (await SideAsync(await DetachedSideAsync(x, entryTier, now, ct), ct), await SideAsync(await DetachedSideAsync(y, entryTier, now, ct), ct));
    }

    /// <summary>Merges, all in one transaction; a refusal changes nothing.</summary>
    public async Task<MergeView> MergeAsync(MergeRequest r, CallerScope caller, CancellationToken ct)
    {
        var (survivorId, mergedId, reason) = Check(r, reasonRequired: true);
        var probe = await db.Members.AsNoTracking().Include(m => m.Cards).Where(m => m.Id == survivorId || m.Id == mergedId).ToListAsync(ct);
        EnsureScope(Visible(probe.FirstOrDefault(m => m.Id == survivorId), caller), Visible(probe.FirstOrDefault(m => m.Id == mergedId), caller), caller);
        Refuse(probe.First(m => m.Id == survivorId), probe.First(m => m.Id == mergedId));

        return await Transactions.RunAsync(db, async ct =>
        {
            var now = clock.GetUtcNow().UtcDateTime;

            // Accounts first, in id order, as every ledger change takes them: a sale, top-up or
            // redemption of either member waits for the merge or the merge waits for it.
            var locked = new Dictionary<long, LockedMember>();
            foreach (var id in new[] { survivorId, mergedId }.Order())
            {
                try
                {
                    locked[id] = await ledger.OpenAsync(id, caller, now, ct);
                }
                catch (ProblemException p) when (p.Code == "member.merged")
                {
                    throw Refusal(new DomainError("merge.already_merged", "One of the two members was already merged into another member."));
                }
            }

            // Then their rows (consent, health file and erasure take these) and their cards.
            foreach (var id in new[] { survivorId, mergedId }.Order())
            {
                await db.LockMemberAsync(id, ct);
            }

            foreach (var id in new[] { survivorId, mergedId }.Order())
            {
                await db.Database.ExecuteSqlAsync($"UPDATE cards SET status = status WHERE member_id = {id}", ct);
            }

            var s = await LockedSideAsync(locked[survivorId], ct);
            var m = await LockedSideAsync(locked[mergedId], ct);
            EnsureScope(s.Member, m.Member, caller);
            Refuse(s.Member, m.Member);
            var rules = locked[survivorId].Rules;
            var before = (await SideAsync(s, ct), await SideAsync(m, ct));
            var health = await HealthAsync(survivorId, mergedId, ct);
            var idNumber = IdNumberOutcome(s.Member, m.Member);
            var milestones = await MilestonesAsync(survivorId, mergedId, tracked: true, ct);
            var purchasers = await PurchasersAsync(survivorId, mergedId, ct);
            var outcome = await ApplyAsync(s, m, rules, now, ct);
            var storeId = caller.DefaultStoreId ?? s.Member.EnrolStoreId;

            // The moved cards' history goes with them; each card records the merge.
            var cardEvents = await db.CardEvents.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct);
            foreach (var move in outcome.Cards)
            {
                var note = $"merged from member {mergedId} into member {survivorId}" + (move.Replaced ? "; replaced" : "");
                db.CardEvents.Add(new CardEvent(move.Card.Id, survivorId, move.Card.ProgramId, CardEventKind.Merged, 0, storeId, now, caller.StaffId, note, move.ReplacedBy?.Id));
            }

            // Records of things change owner.
            var records = new MergeRecords(
                await db.Sales.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.Coupons.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.CouponUses.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.Redemptions.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.Entitlements.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.TopUps.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.CareTasks.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.MemberConsents.Where(x => x.MemberId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.PointsAdjustments.Where(x => x.MemberId == mergedId && x.Status == AdjustmentStatus.Pending).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct),
                await db.Database.ExecuteSqlAsync($"UPDATE milestone_progress SET member_id = {survivorId} WHERE member_id = {mergedId} AND rule_id NOT IN (SELECT rule_id FROM milestone_progress WHERE member_id = {survivorId})", ct),
                cardEvents,
                health.Outcome,
                idNumber,
                milestones.Shared.Count,
                purchasers.Move.Count);

            // Milestone rules both had progress on: the survivor's row took the merged one's over (MilestonesAsync); the merged row goes.
            db.MilestoneProgress.RemoveRange(milestones.Shared);
            await MoveHealthAsync(survivorId, mergedId, health, now, caller.StaffId, ct);

            // The ID number moved by MergeInto: cleared on the merged row first, then set on the
            // survivor's, so the unique index (program, ID number) never sees it twice.
            if (idNumber == "moved")
            {
                await db.Members.Where(x => x.Id == mergedId).ExecuteUpdateAsync(
                    u => u.SetProperty(x => x.IdNumberHash, (string?)null).SetProperty(x => x.IdNumberCipher, (string?)null).SetProperty(x => x.IdNumberTail, (string?)null), ct);
                var (hash, cipher, tail) = (s.Member.IdNumberHash, s.Member.IdNumberCipher, s.Member.IdNumberTail);
                await db.Members.Where(x => x.Id == survivorId).ExecuteUpdateAsync(
                    u => u.SetProperty(x => x.IdNumberHash, hash).SetProperty(x => x.IdNumberCipher, cipher).SetProperty(x => x.IdNumberTail, tail), ct);
            }

            // The member file: the survivor keeps its own; the merged member's moves when the survivor has none.
            if (!await db.MemberProfiles.AnyAsync(p => p.MemberId == survivorId, ct))
            {
                await db.Database.ExecuteSqlAsync($"UPDATE member_profiles SET member_id = {survivorId} WHERE member_id = {mergedId}", ct);
            }

            // Purchasers follow only to an organisation's file, up to its limit; the rest stay.
            if (purchasers.Move.Count > 0)
            {
                var moving = purchasers.Move;
                await db.MemberPurchasers.Where(p => p.MemberId == mergedId && moving.Contains(p.Id)).ExecuteUpdateAsync(u => u.SetProperty(x => x.MemberId, survivorId), ct);
            }

            // Members merged into the merged one now point to the survivor: one step always finds the person.
            await db.Members.Where(x => x.MergedIntoId == mergedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MergedIntoId, (long?)survivorId), ct);

            if (outcome.TierAfter != outcome.TierBefore)
            {
                db.TierChanges.Add(new TierChange(survivorId, outcome.TierBefore, outcome.TierAfter, TierChangeReason.Merge, now, caller.StaffId, $"merged member {mergedId}"));
            }

            if (outcome.MergedTier is not null)
            {
                db.TierChanges.Add(new TierChange(mergedId, outcome.MergedTier, null, TierChangeReason.Merge, now, caller.StaffId, $"merged into member {survivorId}"));
            }

            ledger.Stage(locked[mergedId], staffId: caller.StaffId);
            ledger.Stage(locked[survivorId], staffId: caller.StaffId);
            var view = View(before, outcome, rules, records, Conflicts(outcome, health, idNumber, milestones, purchasers, s.Member, rules), now);
            var detail = new
            {
                survivorId,
                mergedId,
                reason,
                points = new { view.Points.Balance, view.Points.Debt, view.Points.Lots },
                storedValue = new { view.StoredValue.Principal, view.StoredValue.Bonus, view.StoredValue.Lots },
                cards = view.Cards.Take(AuditedCards).Select(c => new { card = c.Number, c.StatusBefore, c.StatusAfter, c.Outcome }),
                records,
                tierBefore = view.TierBefore,
                tierAfter = view.TierAfter,
                conflicts = view.Conflicts,
            };
            audit.Record(caller, "member.merged", storeId, survivorId, "member", mergedId, detail);
            audit.Record(caller, "member.merged", storeId, mergedId, "member", survivorId, detail);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    private static (long SurvivorId, long MergedId, string? Reason) Check(MergeRequest r, bool reasonRequired)
    {
        var errors = new FieldErrors();
        if (r.SurvivorId is not > 0)
        {
            errors.Add("survivorId", "merge.member_required", "Name the member to keep.");
        }

        if (r.MergedId is not > 0)
        {
            errors.Add("mergedId", "merge.member_required", "Name the member to merge into the one kept.");
        }
        else if (r.MergedId == r.SurvivorId)
        {
            errors.Add("mergedId", "merge.same_member", "A member cannot be merged into itself.");
        }

        var reason = r.Reason?.Trim();
        if (reasonRequired && (string.IsNullOrEmpty(reason) || reason.Length > ReasonMaxLength))
        {
            errors.Add("reason", "merge.reason_required", $"Give the reason for the merge (at most {ReasonMaxLength} characters); it is kept in the audit log.");
        }

        errors.ThrowIfAny();
        return (r.SurvivorId!.Value, r.MergedId!.Value, reason);
    }

    private static Member Visible(Member? member, CallerScope caller) =>
        member is not null && caller.CanSeeProgram(member.ProgramId) ? member : throw Problem.NotFound("member.not_found", "The member does not exist.");

    /// <summary>Head office merges any two members; a store manager only two members of their own stores.</summary>
    private static void EnsureScope(Member survivor, Member merged, CallerScope caller)
    {
        if (!caller.AllStores && !(caller.CanActAs(survivor.EnrolStoreId) && caller.CanActAs(merged.EnrolStoreId)))
        {
            throw Problem.Forbidden("scope.store_forbidden", "Only head office, or the manager of both members' stores, may merge them.");
        }
    }

    private static void Refuse(Member survivor, Member merged)
    {
        if (MemberMerge.Refusal(survivor, merged) is { } refusal)
        {
            throw Refusal(refusal);
        }
    }

    private static ProblemException Refusal(DomainError e) => e.Code switch
    {
        "merge.same_member" => Problem.Invalid(e.Code, e.Message, e.Field),
        "merge.already_merged" => Problem.Conflict(e.Code, e.Message),
        _ => new ProblemException(StatusCodes.Status422UnprocessableEntity, e.Code, e.Message),
    };

    private async Task<ProgramDefinition> RulesAsync(long programId, DateTime now, CancellationToken ct) =>
        await programs.InForceAsync(programId, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, await programs.ZoneAsync(programId, ct))), ct);

    /// <summary>A member as the preview works on it: detached copies, so nothing it does is saved.</summary>
    private async Task<Side> DetachedSideAsync(Member member, string? entryTier, DateTime now, CancellationToken ct)
    {
        var account = await db.MemberAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.MemberId == member.Id, ct)
            ?? new MemberAccount(member.Id, member.ProgramId, entryTier, now);
        var lots = await db.PointsLots.AsNoTracking().Where(l => l.MemberId == member.Id && l.Remaining > 0).ToListAsync(ct);
        var valueLots = await db.StoredValueLots.AsNoTracking().Where(l => l.MemberId == member.Id && (l.PrincipalLeft > 0 || l.BonusLeft > 0)).ToListAsync(ct);
        return new Side(member, account, new PointsAccount(member.Id, lots, account.Debt), new StoredValuePurse(member.Id, member.ProgramId, valueLots));
    }

    /// <summary>A member opened for the merge: its ledger (already locked), its row read again after the lock, its cards.</summary>
    private async Task<Side> LockedSideAsync(LockedMember m, CancellationToken ct)
    {
        await db.Entry(m.Member).ReloadAsync(ct);
        await db.Entry(m.Member).Collection(x => x.Cards).LoadAsync(ct);
        return new Side(m.Member, m.Account, m.Points, await ledger.OpenPurseAsync(m, ct));
    }

    private async Task<MergeSide> SideAsync(Side side, CancellationToken ct)
    {
        var m = side.Member;
        var store = await db.Stores.AsNoTracking().Where(s => s.Id == m.EnrolStoreId).Select(s => s.Name).FirstAsync(ct);
        return new MergeSide(
            m.Id,
            m.Name,
            m.MaskedMobile,
            m.IdNumberTail is null ? null : m.MaskedIdNumber,
            m.Birthday,
            m.EnrolStoreId,
            store,
            m.EnrolledAt,
            m.Status.ToString().ToLowerInvariant(),
            side.Account.Tier,
            side.Points.Balance,
            side.Points.Debt,
            side.Purse.Principal,
            side.Purse.Bonus,
            m.Cards.Count,
            await db.Sales.CountAsync(x => x.MemberId == m.Id, ct),
            await db.Coupons.CountAsync(x => x.MemberId == m.Id && x.Status == Domain.Coupons.CouponStatus.Issued, ct));
    }

    /// <summary>
    /// The merge itself on the two members' domain objects (tracked for the merge, copies for the
    /// preview): points and stored value closed out and taken over, counters added, the tier,
    /// the cards. Entries are left to <see cref="MemberLedger.Stage"/>.
    /// </summary>
    private async Task<Outcome> ApplyAsync(Side s, Side m, ProgramDefinition rules, DateTime now, CancellationToken ct)
    {
        var reference = $"merge:{m.Member.Id}>{s.Member.Id}";
        var points = m.Points.CloseOutForMerge(now, reference, m.Member.EnrolStoreId);
        s.Points.TakeOver(points, now, reference);

        var value = m.Purse.CloseOutForMerge(now, reference);
        var sourceLots = value.Select(v => v.SourceLotId).ToList();
        var topUps = (await db.StoredValueEntries.AsNoTracking()
                .Where(e => sourceLots.Contains(e.LotId) && (e.Cause == StoredValueCause.TopUp || e.Cause == StoredValueCause.MergeIn) && e.TopUpId != null)
                .Select(e => new { e.LotId, e.TopUpId })
                .ToListAsync(ct))
            .GroupBy(e => e.LotId).ToDictionary(g => g.Key, g => g.First().TopUpId);
        s.Purse.TakeOver([.. value.Select(v => v with { TopUpId = topUps.GetValueOrDefault(v.SourceLotId) })], now, reference);

        // The higher tier of the two (with its own retention window), then whatever the combined counters reach.
        var tierBefore = s.Account.Tier;
        var (mergedTier, mergedSince) = (m.Account.Tier, m.Account.TierSince);
        s.Account.Absorb(m.Account, now);
        if (Rank(rules, mergedTier) > Rank(rules, s.Account.Tier))
        {
            s.Account.TakeTier(mergedTier, mergedSince);
        }

        var next = TierEvaluator.AfterEvent(rules, s.Account.Tier, s.Account.Counters);
        if (next != s.Account.Tier)
        {
            s.Account.SetTier(next, now);
        }

        List<CardMove> cards;
        try
        {
            cards = [.. m.Member.MergeInto(s.Member, rules.Cards.AllowMerge, now)];
        }
        catch (DomainException e)
        {
            throw Refusal(e.Errors[0]);
        }

        return new Outcome(cards, points, value, tierBefore, s.Account.Tier, mergedTier, s, m);
    }

    private static int Rank(ProgramDefinition rules, string? tier)
    {
        for (var i = 0; i < rules.Tiers.Count; i++)
        {
            if (rules.Tiers[i].Code == tier)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The two health files and the health-data consent the survivor will have (the latest record
    /// of the two members). With consent and a file on each, the two are combined (read here, so
    /// the preview refuses as the merge does): <c>merge.health_too_large</c> (422) when their union
    /// is over the health profile's limits.
    /// </summary>
    private async Task<Health> HealthAsync(long survivorId, long mergedId, CancellationToken ct)
    {
        var files = await db.MemberHealth.AsNoTracking().Where(h => h.MemberId == survivorId || h.MemberId == mergedId).Select(h => new { h.MemberId, h.Cipher }).ToListAsync(ct);
        var survivorFile = files.FirstOrDefault(f => f.MemberId == survivorId);
        var mergedFile = files.FirstOrDefault(f => f.MemberId == mergedId);
        var consent = await db.MemberConsents.Where(c => (c.MemberId == survivorId || c.MemberId == mergedId) && c.Kind == ConsentKinds.Health)
            .OrderByDescending(c => c.At).ThenByDescending(c => c.Id).Select(c => (bool?)c.Granted).FirstOrDefaultAsync(ct) == true;
        HealthProfile? combined = null;
        if (consent && survivorFile is not null && mergedFile is not null)
        {
            combined = MemberMerge.CombineHealth(protector.UnprotectHealth(survivorFile.Cipher), protector.UnprotectHealth(mergedFile.Cipher))
                ?? throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "merge.health_too_large",
                    $"Together the two health files hold more than {HealthProfile.MaxItems} conditions, allergies or medicines; shorten one of them before merging.");
        }

        var outcome = (survivorFile is not null, mergedFile is not null) switch
        {
            (false, false) => "none",
            _ when !consent => "erased",
            (true, true) => "combined",
            (true, false) => "kept",
            _ => "moved",
        };
        return new Health(survivorFile is not null, mergedFile is not null, consent, outcome, combined);
    }

    /// <summary>
    /// The merged member's health file moves when the survivor has none; when both have one (and
    /// consent), the survivor's holds both (<see cref="MemberMerge.CombineHealth"/>) and the merged
    /// member's goes (its consents went to the survivor: health data is never held without them).
    /// When the latest health-data consent of the two is a withdrawal, the health files and
    /// follow-up readings go, as a withdrawal does.
    /// </summary>
    private async Task MoveHealthAsync(long survivorId, long mergedId, Health health, DateTime now, long? staffId, CancellationToken ct)
    {
        if (health is { SurvivorHas: false, MergedHas: true })
        {
            await db.Database.ExecuteSqlAsync($"UPDATE member_health SET member_id = {survivorId} WHERE member_id = {mergedId}", ct);
        }
        else if (health.MergedHas)
        {
            if (health.Combined is { } combined)
            {
                var row = await db.MemberHealth.FirstAsync(h => h.MemberId == survivorId, ct);
                row.Replace(protector.ProtectHealth(combined), now, staffId);
            }

            await db.MemberHealth.Where(h => h.MemberId == mergedId).ExecuteDeleteAsync(ct);
        }

        if (!health.Consent)
        {
            await db.MemberHealth.Where(h => h.MemberId == survivorId).ExecuteDeleteAsync(ct);
            await db.Database.ExecuteSqlAsync($"UPDATE care_tasks SET cipher = NULL WHERE member_id = {survivorId}", ct);
        }
    }

    /// <summary>
    /// Milestone progress: the merged member's rows for rules the survivor has none on move as
    /// they are (<see cref="Milestones.Movable"/>); where both have progress, the survivor's row
    /// takes the merged one's over (<see cref="MilestoneProgress.Absorb"/>: counters added, or the
    /// further of the two kept when both already had steps rewarded) and the merged row is
    /// returned in <see cref="Milestones.Shared"/> to be deleted. Tracked for the merge, copies for the preview.
    /// </summary>
    private async Task<Milestones> MilestonesAsync(long survivorId, long mergedId, bool tracked, CancellationToken ct)
    {
        var rows = tracked ? db.MilestoneProgress : db.MilestoneProgress.AsNoTracking();
        var all = await rows.Where(p => p.MemberId == survivorId || p.MemberId == mergedId).ToListAsync(ct);
        var survivors = all.Where(p => p.MemberId == survivorId).ToDictionary(p => p.RuleId);
        var shared = new List<MilestoneProgress>();
        var movable = 0;
        var largerKept = 0;
        foreach (var merged in all.Where(p => p.MemberId == mergedId).OrderBy(p => p.RuleId, StringComparer.Ordinal))
        {
            if (!survivors.TryGetValue(merged.RuleId, out var kept))
            {
                movable++;
                continue;
            }

            shared.Add(merged);
            largerKept += kept.Absorb(merged) ? 0 : 1;
        }

        return new Milestones(movable, shared, largerKept);
    }

    /// <summary>
    /// The merged member's purchasers (people buying for an organisation) move only when the
    /// survivor's file after the merge is an organisation's: those whose phone the survivor does
    /// not list yet, oldest first, up to <see cref="MemberPurchaser.MaxPerMember"/> in all. The
    /// rest stay with the merged member.
    /// </summary>
    private async Task<Purchasers> PurchasersAsync(long survivorId, long mergedId, CancellationToken ct)
    {
        var theirs = await db.MemberPurchasers.AsNoTracking().Where(p => p.MemberId == mergedId).OrderBy(p => p.Id).Select(p => new { p.Id, p.Mobile }).ToListAsync(ct);
        if (theirs.Count == 0)
        {
            return new Purchasers([], 0, 0);
        }

        var kind = await db.MemberProfiles.Where(p => p.MemberId == survivorId).Select(p => (MemberKind?)p.Kind).FirstOrDefaultAsync(ct)
            ?? await db.MemberProfiles.Where(p => p.MemberId == mergedId).Select(p => (MemberKind?)p.Kind).FirstOrDefaultAsync(ct);
        if (kind != MemberKind.Organisation)
        {
            return new Purchasers([], 0, theirs.Count);
        }

        var listed = (await db.MemberPurchasers.AsNoTracking().Where(p => p.MemberId == survivorId).Select(p => p.Mobile).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var room = Math.Max(0, MemberPurchaser.MaxPerMember - listed.Count);
        var move = new List<long>();
        var overLimit = 0;
        foreach (var p in theirs)
        {
            if (!listed.Add(p.Mobile))
            {
                continue; // the survivor lists this phone already
            }

            if (move.Count < room)
            {
                move.Add(p.Id);
            }
            else
            {
                overLimit++;
            }
        }

        return new Purchasers(move, overLimit, 0);
    }

    /// <summary>What becomes of the ID numbers (see <see cref="MergeRecords.IdNumber"/>).</summary>
    private static string IdNumberOutcome(Member survivor, Member merged) => (survivor.IdNumberHash is not null, merged.IdNumberHash is not null) switch
    {
        (false, false) => "none",
        (true, false) => "kept",
        (false, true) => "moved",
        (true, true) => "both",
    };

    private static List<string> Conflicts(Outcome o, Health health, string idNumber, Milestones milestones, Purchasers purchasers, Member survivor, ProgramDefinition rules)
    {
        var conflicts = new List<string>();
        if (health.Outcome == "erased")
        {
            conflicts.Add("health.erased");
        }

        if (idNumber == "both")
        {
            conflicts.Add("id_number.both_on_file");
        }

        if (milestones.LargerKept > 0)
        {
            conflicts.Add("milestones.larger_kept");
        }

        if (purchasers.OverLimit > 0)
        {
            conflicts.Add("purchasers.over_limit");
        }

        if (purchasers.Stay > 0)
        {
            conflicts.Add("purchasers.stay");
        }

        if (o.Points.Debt > 0)
        {
            conflicts.Add("points.debt");
        }

        var subCards = survivor.Cards.Count(c => c.Kind == CardKind.SubCard && c.Status != CardStatus.Revoked && c.Status != CardStatus.Replaced);
        if (o.Cards.Any(c => c.Card.Kind == CardKind.SubCard) && subCards > rules.Cards.SubCards.Max)
        {
            conflicts.Add("cards.sub_cards_over_limit");
        }

        return conflicts;
    }

    private static MergeView View((MergeSide Survivor, MergeSide Merged) before, Outcome o, ProgramDefinition rules, MergeRecords records, List<string> conflicts, DateTime? mergedAt) => new(
        before.Survivor,
        before.Merged,
        rules.Cards.AllowMerge,
        [.. o.Cards.Select(c => new MergeCard(
            c.Card.Id,
            Masking.Tail(c.Card.Number),
            Cards.CardView.Name(c.Card.Kind),
            c.Before.ToString().ToLowerInvariant(),
            c.Card.Status.ToString().ToLowerInvariant(),
            c.Replaced ? "moves_replaced" : "moves",
            c.ReplacedBy is { } by ? Masking.Tail(by.Number) : null))],
        new MergePoints(o.Points.Balance, o.Points.Debt, o.Points.Lots.Count, o.Survivor.Points.Balance, o.Survivor.Points.Debt),
        new MergeStoredValue(o.Value.Sum(v => v.Principal), o.Value.Sum(v => v.Bonus), o.Value.Count, o.Survivor.Purse.Principal, o.Survivor.Purse.Bonus),
        records,
        o.TierBefore,
        o.TierAfter,
        conflicts,
        mergedAt);

    private sealed record Side(Member Member, MemberAccount Account, PointsAccount Points, StoredValuePurse Purse);

    private sealed record Outcome(IReadOnlyList<CardMove> Cards, PointsCarry Points, IReadOnlyList<CarriedValue> Value, string? TierBefore, string? TierAfter, string? MergedTier, Side Survivor, Side Merged);

    private sealed record Health(bool SurvivorHas, bool MergedHas, bool Consent, string Outcome, HealthProfile? Combined);

    /// <summary>Progress rows that move; the merged member's rows on rules both had (deleted once taken over); how many of those kept the further progress instead of adding.</summary>
    private sealed record Milestones(int Movable, List<MilestoneProgress> Shared, int LargerKept);

    /// <summary>Purchaser rows that move; how many more would pass the limit; how many stay because the survivor is no organisation.</summary>
    private sealed record Purchasers(List<long> Move, int OverLimit, int Stay);
}
