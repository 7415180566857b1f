using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Cards;

/// <summary>
/// Card validity over time, for every program: a principal card whose period has ended is
/// renewed when the member (with the members merged into it) earned the program's renewal
/// points within the period, and lapses otherwise (benefits stop, stored value freezes,
/// history stays); members whose cards lapsed longer ago than the program's purge delay leave
/// the active lists. Each card changes under a guarded update, so any number of nodes may run
/// it at once and a re-run changes nothing.
/// Checkout does not wait for this job: it compares validity with the clock itself.
/// </summary>
public sealed class CardsJob(PatronDb db, ProgramRules programs, TimeProvider clock)
{
    public sealed record Outcome(int Renewed, int Lapsed, int Purged);

    public async Task<Outcome> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var due = await db.Cards.AsNoTracking()
            .Where(c => c.Status == CardStatus.Active && c.Kind != CardKind.SubCard && c.ValidUntil != null && c.ValidUntil <= now)
            .OrderBy(c => c.Id).Select(c => new { c.Id, c.ProgramId }).Take(10_000).ToListAsync(ct);
        int renewed = 0, lapsed = 0, purged = 0;
        foreach (var card in due)
        {
            var rules = await RulesAsync(card.ProgramId, now, ct);
            if (rules is null)
            {
                continue;
            }

            var outcome = await Transactions.RunAsync(db, async ct =>
            {
                var touched = await db.Database.ExecuteSqlAsync($"UPDATE cards SET status = status WHERE id = {card.Id} AND status = 0", ct);
                var c = touched == 0 ? null : await db.Cards.FirstAsync(x => x.Id == card.Id, ct);
                if (c?.ValidUntil is not { } until || until > now)
                {
                    return 0;
                }

                var v = rules.Cards.Validity;
                if (v.RenewalPoints is { } needed && v.Until(until) is { } next)
                {
                    var start = until - (next - until);
                    // Earned by the member and by the members merged into it (their entries stay under their own ids).
                    var memberId = c.MemberId;
                    var person = db.Members.Where(m => m.Id == memberId || m.MergedIntoId == memberId).Select(m => m.Id);
                    var earned = await db.PointsEntries.Where(e => person.Contains(e.MemberId) && e.Cause == PointsCause.Sale && e.At >= start && e.At < until)
                        .SumAsync(e => (long?)e.Points, ct) ?? 0;
                    if (earned >= needed)
                    {
                        c.Renew(next, now);
                        db.CardEvents.Add(new CardEvent(c.Id, c.MemberId, c.ProgramId, CardEventKind.Renewed, 0, c.IssuedStoreId, now, null, $"{earned} points earned in the period"));
                        return 1;
                    }
                }

                c.Lapse(now);
                db.CardEvents.Add(new CardEvent(c.Id, c.MemberId, c.ProgramId, CardEventKind.Lapsed, 0, c.IssuedStoreId, now, null, null));
                return 2;
            }, ct);
            renewed += outcome == 1 ? 1 : 0;
            lapsed += outcome == 2 ? 1 : 0;
        }

        foreach (var programId in await db.Cards.Where(c => c.Status == CardStatus.Lapsed).Select(c => c.ProgramId).Distinct().ToListAsync(ct))
        {
            if ((await RulesAsync(programId, now, ct))?.Cards.Validity.PurgeAfterDays is not { } days)
            {
                continue;
            }

            var before = now.AddDays(-days);
            var stale = await db.Members
                .Where(m => m.ProgramId == programId && m.Status == MemberStatus.Active)
                .Where(m => db.Cards.Any(c => c.MemberId == m.Id && c.Kind != CardKind.SubCard && c.Status == CardStatus.Lapsed && c.StatusAt <= before))
                .Where(m => !db.Cards.Any(c => c.MemberId == m.Id && c.Kind != CardKind.SubCard && (c.Status == CardStatus.Active || c.Status == CardStatus.Frozen || c.Status == CardStatus.Lost)))
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, MemberStatus.Inactive), ct);
            purged += stale;
        }

        return new Outcome(renewed, lapsed, purged);
    }

    private async Task<ProgramDefinition?> RulesAsync(long programId, DateTime now, CancellationToken ct)
    {
        try
        {
            var zone = await programs.ZoneAsync(programId, ct);
            return await programs.InForceAsync(programId, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, zone)), ct);
        }
        catch (Infrastructure.Problems.ProblemException e) when (e.Code == "program.not_in_force")
        {
            return null;
        }
    }
}
