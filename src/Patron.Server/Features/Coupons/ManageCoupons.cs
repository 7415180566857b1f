using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Coupons;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Coupons;

/// <summary>
/// Coupons from a template: to members named by id or card number (a bulk list), or as bearer
/// coupons (<see cref="Bearer"/> of them). A campaign names itself in <see cref="Campaign"/>;
/// staff give a <see cref="Reason"/>, which the audit log keeps.
/// </summary>
public sealed record IssueCouponsRequest(
    string? Template,
    IReadOnlyList<long>? MemberIds = null,
    IReadOnlyList<string>? CardNumbers = null,
    int? Bearer = null,
    string? Reason = null,
    string? Campaign = null,
    long? ProgramId = null,
    long? StoreId = null);

public sealed record CouponView(
    long Id,
    string Code,
    string Template,
    string Name,
    string Kind,
    long Value,
    decimal PercentOff,
    long Cap,
    long MinimumSpend,
    string Status,
    long? MemberId,
    int UsesLeft,
    string Source,
    DateTime IssuedAt,
    DateTime? StartsAt,
    DateTime? ExpiresAt,
    DateTime? UsedAt,
    string? Terms)
{
    public static CouponView From(Coupon c)
    {
        var t = c.Template;
        return new(c.Id, c.Code, c.TemplateCode, c.Name, Codes.Of(c.Kind), c.Value, t.PercentOff, t.Cap, t.MinimumSpend, Codes.Of(c.Status), c.MemberId, c.UsesLeft,
            Codes.Of(c.Source), c.IssuedAt, c.StartsAt, c.ExpiresAt, c.UsedAt, c.Terms);
    }
}

public sealed record IssueCouponsResult(string Template, int Issued, IReadOnlyList<CouponView> Coupons);

public sealed record VoidCouponRequest(string? Reason);

/// <summary>A template in force and what became of it: issued, used, still open, and what the uses cost.</summary>
public sealed record TemplateView(CouponTemplate Template, int Issued, int Used, int Open, long Discount, long Cost);

/// <summary>Lower-case snake codes of enum values, as the API and the program file spell them.</summary>
public static class Codes
{
    public static string Of<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}

public sealed class ManageCoupons(PatronDb db, ProgramRules programs, CouponIssuer issuer, AuditLog audit, TimeProvider clock)
{
    public async Task<IssueCouponsResult> IssueAsync(IssueCouponsRequest r, CallerScope caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var code = (r.Template ?? "").Trim();
        var reason = r.Reason?.Trim();
        var campaign = r.Campaign?.Trim();
        var members = r.MemberIds ?? [];
        var cards = (r.CardNumbers ?? []).Select(c => (c ?? "").Trim()).Where(c => c.Length > 0).ToList();
        if (code.Length == 0)
        {
            errors.Add("template", "coupon.template_required", "Choose a coupon template.");
        }

        if (string.IsNullOrEmpty(reason) && string.IsNullOrEmpty(campaign))
        {
            errors.Add("reason", "coupon.reason_required", "Give a reason (or name the campaign) for issuing coupons.");
        }

        if ((reason?.Length ?? 0) > 100 || (campaign?.Length ?? 0) > 100)
        {
            errors.Add("reason", "coupon.reason_too_long", "A reason or campaign name is at most 100 characters.");
        }

        var wanted = members.Count + cards.Count + (r.Bearer ?? 0);
        if (r.Bearer is < 0 || wanted is < 1 or > CouponIssuer.MaxPerRequest || (r.Bearer > 0 && members.Count + cards.Count > 0))
        {
            errors.Add("memberIds", "coupon.recipients_invalid", $"Name 1–{CouponIssuer.MaxPerRequest} members (by id or card number), or ask for bearer coupons, not both.");
        }

        if (errors.Any)
        {
            throw Problem.Invalid(errors.All);
        }

        var storeProgram = r.StoreId is { } named ? await db.Stores.Where(x => x.Id == named).Select(x => (long?)x.ProgramId).FirstOrDefaultAsync(ct) : null;
        var programId = r.ProgramId ?? storeProgram ?? (caller.ProgramIds.Count == 1 ? caller.ProgramIds.First() : (long?)null)
            ?? throw Problem.Invalid("coupon.program_required", "Name the program (or the issuing store).", "programId");
        if (r.StoreId is not null && storeProgram != programId)
        {
            throw Problem.Invalid("store.not_found", "The store does not exist in this program.", "storeId");
        }

        if (!caller.CanSeeProgram(programId))
        {
            throw Problem.NotFound("program.not_found", "The program does not exist.");
        }

        long? storeId = r.StoreId ?? caller.DefaultStoreId;
        if (storeId is { } s)
        {
            caller.EnsureCanActAs(s);
        }
        else if (!caller.AllStores)
        {
            throw Problem.Invalid("coupon.store_required", "Name the store that issues the coupons.", "storeId");
        }

        var atUtc = clock.GetUtcNow().UtcDateTime;
        var zone = await programs.ZoneAsync(programId, ct);
        var rules = await programs.InForceAsync(programId, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(atUtc, zone)), ct);
        var template = rules.Coupons.Find(code) ?? throw Problem.Invalid("coupon.template_unknown", $"The program has no coupon template {code}.", "template");
        return await Transactions.RunAsync(db, async ct =>
        {
            var holders = new List<long?>(wanted);
            if (members.Count > 0)
            {
                // The members' rows first, as a merge takes them: a merge of one of them either
                // committed before (and the member is refused below) or waits for these coupons
                // and moves them with everything else.
                var ids = members.Distinct().ToList();
                await db.Members.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, m => m.Status), ct);
                var found = await db.Members.Where(m => ids.Contains(m.Id) && m.ProgramId == programId).Select(m => new { m.Id, m.MergedIntoId }).ToListAsync(ct);
                if (found.Count != ids.Count)
                {
                    var missing = ids.Except(found.Select(m => m.Id)).First();
                    throw Problem.Invalid("member.not_found", $"Member {missing} does not exist in this program.", "memberIds");
                }

                var merged = ids.Join(found.Where(m => m.MergedIntoId is not null), id => id, m => m.Id, (id, m) => (id, m.MergedIntoId!.Value)).ToList();
                if (merged.Count > 0)
                {
                    throw Members.MergeMembers.MergedProblem(merged);
                }

                holders.AddRange(members.Select(m => (long?)m));
            }

            if (cards.Count > 0)
            {
                // The cards' rows before their holders are read: a merge moving a card waits, or has moved it already.
                await db.Cards.Where(c => cards.Contains(c.Number) && c.ProgramId == programId).ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, c => c.Status), ct);
                var byNumber = await db.Cards.Where(c => cards.Contains(c.Number) && c.ProgramId == programId).Select(c => new { c.Number, c.MemberId }).ToListAsync(ct);
                var missing = cards.FirstOrDefault(n => byNumber.All(c => c.Number != n));
                if (missing is not null)
                {
                    throw Problem.Invalid("card.not_found", $"No card {Masking.Tail(missing)} in this program.", "cardNumbers");
                }

                holders.AddRange(cards.Select(n => (long?)byNumber.First(c => c.Number == n).MemberId));
            }

            if (r.Bearer is > 0 and var n)
            {
                holders.AddRange(Enumerable.Repeat<long?>(null, n));
            }

            var source = string.IsNullOrEmpty(campaign) ? CouponSource.Manual : CouponSource.Campaign;
            var coupons = await issuer.IssueAsync(programId, template, holders, source, campaign ?? reason, storeId, caller.StaffId, atUtc, zone, ct);
            await db.SaveChangesAsync(ct);
            foreach (var c in coupons)
            {
                audit.Record(caller, "coupon.issued", storeId, c.MemberId, "coupon", c.Id, new { template = code, reason, campaign });
            }

            await db.SaveChangesAsync(ct);
            return new IssueCouponsResult(code, coupons.Count, [.. coupons.Take(1000).Select(CouponView.From)]);
        }, ct);
    }

    /// <summary>Voids an unused coupon, with the reason; audited.</summary>
    public async Task<CouponView> VoidAsync(string code, VoidCouponRequest r, CallerScope caller, CancellationToken ct)
    {
        var reason = r.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 100)
        {
            throw Problem.Invalid("coupon.reason_required", "Give a reason of at most 100 characters.", "reason");
        }

        return await Transactions.RunAsync(db, async ct =>
        {
            var coupon = await FindAsync(code, caller, ct);
            if (!caller.AllStores && (coupon.StoreId is not { } issuedAt || !caller.CanActAs(issuedAt)))
            {
                throw Problem.Forbidden("scope.store_forbidden", "Only head office or the issuing store may void this coupon.");
            }

            // Guarded: a sale taking the coupon at the same moment wins or loses as a whole.
            var now = clock.GetUtcNow().UtcDateTime;
            var full = coupon.MemberId is null ? coupon.Template.Uses : 1;
            if (await db.Database.ExecuteSqlAsync($"UPDATE coupons SET status = 2, used_at = {now} WHERE id = {coupon.Id} AND status = 0 AND uses_left = {full}", ct) == 0)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "coupon.not_voidable", $"{coupon.Name} is {Codes.Of(coupon.Status)} or partly used; only an unused coupon can be voided.");
            }

            await db.Entry(coupon).ReloadAsync(ct);
            audit.Record(caller, "coupon.voided", coupon.StoreId, coupon.MemberId, "coupon", coupon.Id, new { code = Masking.Tail(coupon.Code), reason });
            await db.SaveChangesAsync(ct);
            return CouponView.From(coupon);
        }, ct);
    }

    public async Task<CouponView> GetAsync(string code, CallerScope caller, CancellationToken ct) => CouponView.From(await FindAsync(code, caller, ct));

    public async Task<IReadOnlyList<CouponView>> ForMemberAsync(long memberId, bool all, CallerScope caller, CancellationToken ct)
    {
        var programId = await db.Members.Where(m => m.Id == memberId).Select(m => (long?)m.ProgramId).FirstOrDefaultAsync(ct);
        if (programId is not { } p || !caller.CanSeeProgram(p))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var query = db.Coupons.AsNoTracking().Where(c => c.MemberId == memberId);
        if (!all)
        {
            query = query.Where(c => c.Status == CouponStatus.Issued && (c.ExpiresAt == null || c.ExpiresAt > now));
        }

        var list = await query.OrderByDescending(c => c.IssuedAt).ThenByDescending(c => c.Id).Take(200).ToListAsync(ct);
        return [.. list.Select(CouponView.From)];
    }

    /// <summary>The templates of a program in force with what became of their coupons.</summary>
    public async Task<IReadOnlyList<TemplateView>> TemplatesAsync(long programId, CallerScope caller, CancellationToken ct)
    {
        if (!caller.CanSeeProgram(programId))
        {
            throw Problem.NotFound("program.not_found", "The program does not exist.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var zone = await programs.ZoneAsync(programId, ct);
        var rules = await programs.TryInForceAsync(programId, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, zone)), ct);
        if (rules is null)
        {
            return [];
        }

        var issued = await db.Coupons.Where(c => c.ProgramId == programId)
            .GroupBy(c => c.TemplateCode)
            .Select(g => new { g.Key, Issued = g.Count(), Used = g.Count(c => c.Status == CouponStatus.Used), Open = g.Count(c => c.Status == CouponStatus.Issued && (c.ExpiresAt == null || c.ExpiresAt > now)) })
            .ToDictionaryAsync(x => x.Key, ct);
        var uses = await (from u in db.CouponUses
                          join c in db.Coupons on u.CouponId equals c.Id
                          where u.ProgramId == programId && !u.Restored
                          group u by c.TemplateCode into g
                          select new { g.Key, Discount = g.Sum(u => u.Discount), Cost = g.Sum(u => u.Cost) }).ToDictionaryAsync(x => x.Key, ct);
        return [.. rules.Coupons.Templates.Select(t =>
        {
            var i = issued.GetValueOrDefault(t.Code);
            var u = uses.GetValueOrDefault(t.Code);
            return new TemplateView(t, i?.Issued ?? 0, i?.Used ?? 0, i?.Open ?? 0, u?.Discount ?? 0, u?.Cost ?? 0);
        })];
    }

    private async Task<Coupon> FindAsync(string code, CallerScope caller, CancellationToken ct)
    {
        var normal = (code ?? "").Trim().ToUpperInvariant();
        var coupon = await db.Coupons.FirstOrDefaultAsync(c => c.Code == normal, ct);
        if (coupon is null || !caller.CanSeeProgram(coupon.ProgramId))
        {
            throw Problem.NotFound("coupon.not_found", "No coupon with this code.");
        }

        return coupon;
    }
}
