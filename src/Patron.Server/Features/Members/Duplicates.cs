using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

public sealed record DuplicateMember(long Id, string Name, string Mobile, long EnrolStoreId, DateTime EnrolledAt);

/// <summary>Members who look like one person: the same name and birthday, or one's second phone is another's phone ("phone").</summary>
public sealed record DuplicateGroup(string Reason, IReadOnlyList<DuplicateMember> Members);

/// <summary>
/// Finds members of a program who are probably one person enrolled twice (a second phone, a
/// lost card replaced by a new enrolment). A member's own phone and ID number are unique in a
/// program (enrolment and import refuse a second one), so the signals are the same name with the
/// same birthday, and a second phone on one file that is the phone (or second phone) of another.
/// Listing only; merging is supervised.
/// </summary>
public sealed class Duplicates(PatronDb db)
{
    public const int MaxGroups = 500;

    public async Task<IReadOnlyList<DuplicateGroup>> FindAsync(long programId, CallerScope caller, CancellationToken ct)
    {
        if (!caller.CanSeeProgram(programId))
        {
            throw Problem.NotFound("program.not_found", "The program does not exist.");
        }

        var members = db.Members.AsNoTracking().Where(m => m.ProgramId == programId && m.Birthday != null && m.AnonymisedAt == null && m.MergedIntoId == null
            && (caller.AllStores || caller.StoreIds.Contains(m.EnrolStoreId)));
        // The first MaxGroups (name, birthday) pairs shared by more than one member (read from
        // IX_members_duplicates alone), then their members by name and birthday (index lookups).
        var keys = await members.GroupBy(m => new { m.Name, m.Birthday }).Where(g => g.Count() > 1)
            .OrderBy(g => g.Key.Name).ThenBy(g => g.Key.Birthday).Select(g => g.Key).Take(MaxGroups).ToListAsync(ct);
        var names = keys.Select(k => k.Name).Distinct().ToList();
        var birthdays = keys.Select(k => k.Birthday).Distinct().ToList();
        var rows = await members.Where(m => names.Contains(m.Name) && birthdays.Contains(m.Birthday))
            .Select(m => new { m.Id, m.Name, m.Birthday, m.Mobile, m.EnrolStoreId, m.EnrolledAt }).ToListAsync(ct);
        var byKey = rows.ToLookup(r => (r.Name, r.Birthday));
        var groups = keys.Select(k => new DuplicateGroup("name_birthday",
            [.. byKey[(k.Name, k.Birthday)].OrderBy(r => r.Id).Select(r => new DuplicateMember(r.Id, r.Name, Masking.Phone(r.Mobile), r.EnrolStoreId, r.EnrolledAt))])).ToList();
        groups.AddRange(await ByPhoneAsync(programId, caller, MaxGroups - groups.Count, ct));
        return groups;
    }

    /// <summary>Pairs linked by a second phone, joined into groups (A's second phone is B's phone, B's second phone is C's …).</summary>
    private async Task<List<DuplicateGroup>> ByPhoneAsync(long programId, CallerScope caller, int max, CancellationToken ct)
    {
        if (max <= 0)
        {
            return [];
        }

        var members = db.Members.AsNoTracking().Where(m => m.ProgramId == programId && m.AnonymisedAt == null && m.MergedIntoId == null
            && (caller.AllStores || caller.StoreIds.Contains(m.EnrolStoreId)));
        var seconds = from p in db.MemberProfiles
                      join m in members on p.MemberId equals m.Id
                      where p.Phone2 != null
                      select new { p.MemberId, p.Phone2 };
        var toPhone = from s in seconds join o in members on s.Phone2 equals o.Mobile select new { A = s.MemberId, B = o.Id };
        var toSecond = from s in seconds join o in seconds on s.Phone2 equals o.Phone2 where s.MemberId < o.MemberId select new { A = s.MemberId, B = o.MemberId };
        var pairs = (await toPhone.Take(MaxGroups * 4).ToListAsync(ct)).Concat(await toSecond.Take(MaxGroups * 4).ToListAsync(ct)).Where(p => p.A != p.B).ToList();
        if (pairs.Count == 0)
        {
            return [];
        }

        // Union-find over the few linked members.
        var parent = new Dictionary<long, long>();
        long Root(long x)
        {
            while (parent.TryGetValue(x, out var p) && p != x)
            {
                x = p;
            }

            return x;
        }

        foreach (var (a, b) in pairs.Select(p => (p.A, p.B)))
        {
            parent.TryAdd(a, a);
            parent.TryAdd(b, b);
            var (ra, rb) = (Root(a), Root(b));
            if (ra != rb)
            {
                parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
            }
        }

        var ids = parent.Keys.ToList();
        var rows = await members.Where(m => ids.Contains(m.Id)).Select(m => new { m.Id, m.Name, m.Mobile, m.EnrolStoreId, m.EnrolledAt }).ToListAsync(ct);
        return [.. rows.GroupBy(r => Root(r.Id)).Where(g => g.Count() > 1).OrderBy(g => g.Key).Take(max)
            .Select(g => new DuplicateGroup("phone", [.. g.OrderBy(r => r.Id).Select(r => new DuplicateMember(r.Id, r.Name, Masking.Phone(r.Mobile), r.EnrolStoreId, r.EnrolledAt))]))];
    }
}
