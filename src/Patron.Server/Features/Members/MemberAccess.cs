using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Members;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>The two checks every per-member service starts with: is the member there for this caller, and hold its row.</summary>
public static class MemberAccess
{
    /// <summary>The member (untracked) when it belongs to one of the caller's programs; otherwise 404, as if it did not exist.</summary>
    public static async Task<Member> VisibleMemberAsync(this PatronDb db, long memberId, CallerScope caller, CancellationToken ct) =>
        await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Id == memberId, ct) is { } member && caller.CanSeeProgram(member.ProgramId)
            ? member
            : throw Problem.NotFound("member.not_found", "The member does not exist.");

    /// <summary>
    /// Takes the member's row lock for the rest of the transaction (a no-op update): consent,
    /// file, health, erasure and merge of one member never run half-way through one another.
    /// </summary>
    public static async Task LockMemberAsync(this PatronDb db, long memberId, CancellationToken ct) =>
        await db.Database.ExecuteSqlAsync($"UPDATE members SET status = status WHERE id = {memberId}", ct);
}
