using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Coupons;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Coupons;

/// <summary>
/// Creates coupons from a template inside the caller's transaction, within the template's
/// per-member and total limits. A limited template takes the program row's lock first, so two
/// issuers racing for the last coupons of a template never both get them.
/// </summary>
public sealed class CouponIssuer(PatronDb db)
{
    /// <summary>Most coupons one request may issue (a bulk list or a bearer batch).</summary>
    public const int MaxPerRequest = 10_000;

    /// <param name="holders">One entry per coupon: its member, or null for a bearer coupon.</param>
    /// <param name="skipWhenFull">Issue nothing (instead of refusing) when a limit is reached: a welcome coupon past its limit is simply not given.</param>
    public async Task<List<Coupon>> IssueAsync(long programId, CouponTemplate template, IReadOnlyList<long?> holders, CouponSource source, string? sourceRef,
        long? storeId, long? staffId, DateTime atUtc, TimeZoneInfo zone, CancellationToken ct, bool skipWhenFull = false)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Issue coupons inside a transaction.");
        }

        if (template.Total is not null || template.PerMember is not null)
        {
            await db.Database.ExecuteSqlAsync($"UPDATE programs SET id = id WHERE id = {programId}", ct);
        }

        if (template.Total is { } total)
        {
            var issued = await db.Coupons.CountAsync(c => c.ProgramId == programId && c.TemplateCode == template.Code, ct);
            if (issued + holders.Count > total && skipWhenFull)
            {
                return [];
            }

            if (issued + holders.Count > total)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "coupon.total_reached",
                    $"{template.Name}: {total} may be issued in all, {issued} already are; {holders.Count} more would exceed it.");
            }
        }

        if (template.PerMember is { } per)
        {
            var asked = holders.OfType<long>().GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
            var ids = asked.Keys.ToList();
            var held = await db.Coupons.Where(c => c.ProgramId == programId && c.TemplateCode == template.Code && c.MemberId != null && ids.Contains(c.MemberId.Value))
                .GroupBy(c => c.MemberId!.Value).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
            var over = asked.Where(a => held.GetValueOrDefault(a.Key) + a.Value > per).Select(a => a.Key).ToList();
            if (over.Count > 0 && skipWhenFull)
            {
                return [];
            }

            if (over.Count > 0)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "coupon.member_limit",
                    $"{template.Name}: at most {per} per member; {over.Count} member(s) already hold that many (member {over[0]} first).");
            }
        }

        var (starts, expires) = template.Window(atUtc, zone);
        var coupons = holders.Select(h => new Coupon(programId, h, template, source, sourceRef, atUtc, starts, expires) { StoreId = storeId, IssuedByStaffId = staffId }).ToList();
        db.Coupons.AddRange(coupons);
        return coupons;
    }
}
