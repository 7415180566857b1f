using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.StoredValue;
using Patron.Domain.Tiers;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Points;

/// <summary>
/// One member's ledger opened for a change inside the caller's transaction: the account row is
/// locked first (a guarded update, which takes the row lock on PostgreSQL and the write lock on
/// SQLite), then the open lots are loaded. Whatever the domain records in <see cref="Points"/> is
/// written back by <see cref="Stage"/>, so the balance on the account always equals the ledger.
/// </summary>
public sealed class LockedMember(Member member, MemberAccount account, PointsAccount points, ProgramDefinition rules, TimeZoneInfo zone)
{
    public Member Member { get; } = member;

    public MemberAccount Account { get; } = account;

    public PointsAccount Points { get; } = points;

    public ProgramDefinition Rules { get; } = rules;

    /// <summary>The program's time zone (expiry, calendar years).</summary>
    public TimeZoneInfo Zone { get; } = zone;

    /// <summary>The member's stored value, once opened by <see cref="MemberLedger.OpenPurseAsync"/>.</summary>
    public StoredValuePurse? Purse { get; internal set; }

    public DateTime? ExpiresAt(DateTime earnedAtUtc) => ExpiryCalculator.ExpiresAt(Rules.Expiry, earnedAtUtc, Zone);

    public DateOnly LocalDate(DateTime utc) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(utc, Zone));
}

public sealed class MemberLedger(PatronDb db, ProgramRules programs, TimeProvider clock)
{
    /// <summary>
    /// Locks and loads a member's ledger. The caller must have a transaction open. A member of a
    /// program the caller cannot see does not exist for them.
    /// </summary>
    public async Task<LockedMember> OpenAsync(long memberId, CallerScope? caller, DateTime atUtc, CancellationToken ct, DateOnly? storeDate = null)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Open a member's ledger inside a transaction.");
        }

        var member = await db.Members.FirstOrDefaultAsync(m => m.Id == memberId, ct);
        if (member is null || (caller is not null && !caller.CanSeeProgram(member.ProgramId)))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }

        var touched = await db.Database.ExecuteSqlAsync($"UPDATE member_accounts SET row_version = row_version + 1 WHERE member_id = {memberId}", ct);
        var localDate = storeDate ?? DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(atUtc, await programs.ZoneAsync(member.ProgramId, ct)));
        var rules = await programs.InForceAsync(member.ProgramId, localDate, ct);
        var zone = ProgramRules.Zone(rules.TimeZone);

        MemberAccount account;
        if (touched == 0)
        {
            // First change for this member: the insert takes the lock; a racing first change
            // fails on the primary key and its transaction is retried by the caller.
            account = new MemberAccount(memberId, member.ProgramId, rules.EntryTier?.Code, atUtc);
            db.MemberAccounts.Add(account);
            db.TierChanges.Add(new TierChange(memberId, null, account.Tier, TierChangeReason.Enrolment, atUtc, null, null));
            await db.SaveChangesAsync(ct);
        }
        else
        {
            account = await db.MemberAccounts.FirstAsync(a => a.MemberId == memberId, ct);
        }

        // Read after the lock: a merge that committed meanwhile moved everything to the survivor.
        if (await db.Members.Where(x => x.Id == memberId).Select(x => x.MergedIntoId).FirstAsync(ct) is { } survivor)
        {
            throw Members.MergeMembers.MergedProblem(memberId, survivor);
        }

        var lots = await db.PointsLots.Where(l => l.MemberId == memberId && l.Remaining > 0).ToListAsync(ct);
        return new LockedMember(member, account, new PointsAccount(memberId, lots, account.Debt), rules, zone);
    }

    /// <summary>Loads the member's open stored-value lots (the account row is already locked).</summary>
    public async Task<StoredValuePurse> OpenPurseAsync(LockedMember m, CancellationToken ct)
    {
        if (m.Purse is null)
        {
            var lots = await db.StoredValueLots.Where(l => l.MemberId == m.Member.Id && (l.PrincipalLeft > 0 || l.BonusLeft > 0)).ToListAsync(ct);
            m.Purse = new StoredValuePurse(m.Member.Id, m.Member.ProgramId, lots);
        }

        return m.Purse;
    }

    /// <summary>
    /// Adds the ledger's new lots and entries (points, and stored value when opened) to the unit
    /// of work and brings the account's balances in line. New points lots remember the store.
    /// </summary>
    public void Stage(LockedMember m, long? saleId = null, long? staffId = null, long? storeId = null, long? topUpId = null)
    {
        if (m.Purse is { } purse)
        {
            foreach (var entry in purse.Entries.Where(e => db.Entry(e).State == EntityState.Detached))
            {
                entry.SaleId ??= saleId;
                entry.StaffId ??= staffId;
                entry.TopUpId ??= topUpId;
                db.StoredValueEntries.Add(entry);
            }

            m.Account.Sync(purse);
        }

        foreach (var entry in m.Points.Entries.Where(e => db.Entry(e).State == EntityState.Detached))
        {
            entry.SaleId ??= saleId;
            entry.StaffId ??= staffId;
            db.PointsEntries.Add(entry);
        }

        foreach (var lot in m.Points.NewLots.Where(l => db.Entry(l).State == EntityState.Detached))
        {
            lot.StoreId ??= storeId;
            db.PointsLots.Add(lot);
        }

        m.Account.Sync(m.Points);
    }

    /// <summary>The members' state as the member and the counter see it now, without locking.</summary>
    public async Task<(MemberAccount? Account, long ExpiringSoon, DateTime Horizon)> PeekAsync(long memberId, ProgramDefinition rules, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var horizon = now.AddDays(rules.Expiry.SoonDays);
        var account = await db.MemberAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.MemberId == memberId, ct);
        var soon = await db.PointsLots.Where(l => l.MemberId == memberId && l.Remaining > 0 && l.ExpiresAt != null && l.ExpiresAt <= horizon)
            .SumAsync(l => (long?)l.Remaining, ct) ?? 0;
        return (account, soon, horizon);
    }
}
