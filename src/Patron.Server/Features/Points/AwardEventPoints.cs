using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Points;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Points;

/// <summary>
/// Fixed points for an event other features report (a referral, a survey, an activity), as the
/// program's <c>eventPoints</c> set them. Awarded once per (member, event, reference): the
/// activity that calls again with the same reference gets the first answer back.
/// </summary>
public sealed class AwardEventPoints(PatronDb db, MemberLedger ledger, EarningEffects effects, TimeProvider clock)
{
    public async Task<long> AwardAsync(long memberId, string eventCode, string reference, CallerScope? caller, CancellationToken ct)
    {
        var key = $"{eventCode}:{reference}";
        if (key.Length > 200)
        {
            throw Problem.Invalid("event.reference_invalid", "The event code and reference are at most 200 characters together.", "reference");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        return await Transactions.RunAsync(db, async ct =>
        {
            var m = await ledger.OpenAsync(memberId, caller, now, ct);
            if (!m.Rules.EventPoints.TryGetValue(eventCode, out var points))
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "event.unknown", $"The program gives no points for the event {eventCode}.");
            }

            if (await db.PointsEntries.AnyAsync(e => e.MemberId == memberId && e.Cause == PointsCause.Event && e.Reference == key, ct))
            {
                return 0;
            }

            m.Points.Earn(points, PointsCause.Event, now, m.ExpiresAt(now), key);
            await effects.ApplyAsync(m, now, 0, 0, ct);
            ledger.Stage(m, null, caller?.StaffId);
            return points;
        }, ct);
    }
}
