using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

public sealed record DuplicateMember(long Id, string Name, string Mobile, long EnrolStoreId, DateTime EnrolledAt);

/// <summary>Members who look like one person: the same name and birthday in one program.</summary>
public sealed record DuplicateGroup(string Reason, IReadOnlyList<DuplicateMember> Members);

/// <summary>
/// Finds members of a program who are probably one person enrolled twice (a second phone, a
/// lost card replaced by a new enrolment). Phones and ID numbers are unique in a program, so the
/// signal is the same name with the same birthday. Listing only; merging is supervised and comes
/// separately.
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

        var members = db.Members.AsNoTracking().Where(m => m.ProgramId == programId && m.Birthday != null && m.AnonymisedAt == null
            && (caller.AllStores || caller.StoreIds.Contains(m.EnrolStoreId)));
        var keys = await members.GroupBy(m => new { m.Name, m.Birthday }).Where(g => g.Count() > 1)
            .OrderBy(g => g.Key.Name).Select(g => g.Key).Take(MaxGroups).ToListAsync(ct);
        var names = keys.Select(k => k.Name).Distinct().ToList();
        var rows = await members.Where(m => names.Contains(m.Name)).Select(m => new { m.Id, m.Name, m.Birthday, m.Mobile, m.EnrolStoreId, m.EnrolledAt }).ToListAsync(ct);
        return [.. keys.Select(k => new DuplicateGroup("name_birthday",
            [.. rows.Where(r => r.Name == k.Name && r.Birthday == k.Birthday).OrderBy(r => r.Id).Select(r => new DuplicateMember(r.Id, r.Name, Masking.Phone(r.Mobile), r.EnrolStoreId, r.EnrolledAt))]))];
    }
}
