using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.StoredValue;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.StoredValue;

public sealed record StoredValueEntryView(long Id, DateTime At, string Cause, long Principal, long Bonus, long StoreId, string? Reference, long? SaleId, long? TopUpId);

public sealed record TopUpView(long Id, DateTime At, string OrderNumber, long StoreId, long Amount, long Bonus, int SubCards, IReadOnlyList<string> Gifts);

/// <summary>A member's stored value: the balance (principal, bonus, frozen or not), recent entries and top-ups.</summary>
public sealed record StoredValueSummary(StoredValueBalance Balance, IReadOnlyList<StoredValueEntryView> Entries, IReadOnlyList<TopUpView> TopUps)
{
    /// <summary>What a refund can pay back: per lot, the principal left less the bonus already spent from it.</summary>
    public long Refundable { get; init; }
}

public sealed class StoredValueQueries(PatronDb db, TimeProvider clock)
{
    public const int Shown = 100;

    public async Task<StoredValueSummary> GetAsync(long memberId, CallerScope caller, CancellationToken ct, bool history = true)
    {
        var programId = await db.Members.Where(m => m.Id == memberId).Select(m => (long?)m.ProgramId).FirstOrDefaultAsync(ct);
        if (programId is not { } p || !caller.CanSeeProgram(p))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }

        var account = await db.MemberAccounts.AsNoTracking().Where(a => a.MemberId == memberId).Select(a => new { a.StoredPrincipal, a.StoredBonus }).FirstOrDefaultAsync(ct);
        var balance = await TopUpStoredValue.BalanceAsync(db, memberId, account?.StoredPrincipal ?? 0, account?.StoredBonus ?? 0, clock.GetUtcNow().UtcDateTime, ct);
        var lots = await db.StoredValueLots.AsNoTracking().Where(l => l.MemberId == memberId && l.PrincipalLeft > 0).ToListAsync(ct);
        var refundable = lots.Sum(l => l.Refundable);
        if (!history)
        {
            return new StoredValueSummary(balance, [], []) { Refundable = refundable };
        }

        var entries = await db.StoredValueEntries.AsNoTracking().Where(e => e.MemberId == memberId)
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(Shown).ToListAsync(ct);
        var topUps = await db.TopUps.AsNoTracking().Where(t => t.MemberId == memberId).OrderByDescending(t => t.At).Take(50).ToListAsync(ct);
        return new StoredValueSummary(
            balance,
            [.. entries.Select(e => new StoredValueEntryView(e.Id, e.At, Cause(e.Cause), e.Principal, e.Bonus, e.StoreId, e.Reference, e.SaleId, e.TopUpId))],
            [.. topUps.Select(t => new TopUpView(t.Id, t.At, t.OrderNumber, t.StoreId, t.Amount, t.Bonus, t.SubCards, t.GiftList))])
        {
            Refundable = refundable,
        };
    }

    public static string Cause(StoredValueCause cause) => cause switch
    {
        StoredValueCause.TopUp => "top_up",
        StoredValueCause.SpendReturn => "spend_return",
        StoredValueCause.BonusForfeit => "bonus_forfeit",
        StoredValueCause.MergeOut => "merge_out",
        StoredValueCause.MergeIn => "merge_in",
        _ => cause.ToString().ToLowerInvariant(),
    };
}
