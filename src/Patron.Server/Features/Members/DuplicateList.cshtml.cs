using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Members;

/// <summary>Members of the caller's stores who look like one person, by program, each pair leading to the merge page.</summary>
[Authorize(Policy = Permissions.MembersMerge)]
public sealed class DuplicateListModel(Duplicates duplicates, PatronDb db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public long? ProgramId { get; set; }

    public IReadOnlyList<(long Id, string Name)> Programs { get; private set; } = [];

    public IReadOnlyList<DuplicateGroup> Groups { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        var programs = await db.Programs.AsNoTracking().OrderBy(p => p.Id).Select(p => new { p.Id, p.Name }).ToListAsync(ct);
        Programs = [.. programs.Where(p => caller.CanSeeProgram(p.Id)).Select(p => (p.Id, p.Name))];
        if (ProgramId is not { } id || !Programs.Any(p => p.Id == id))
        {
            ProgramId = Programs.Count > 0 ? Programs[0].Id : null;
        }

        var groups = ProgramId is { } programId ? await duplicates.FindAsync(programId, caller, ct) : [];

        // A member already merged into another is no longer a duplicate to act on.
        var listed = groups.SelectMany(g => g.Members).Select(m => m.Id).Distinct().ToList();
        var merged = await db.Members.AsNoTracking().Where(m => listed.Contains(m.Id) && m.MergedIntoId != null).Select(m => m.Id).ToListAsync(ct);
        Groups = [.. groups.Select(g => g with { Members = [.. g.Members.Where(m => !merged.Contains(m.Id))] }).Where(g => g.Members.Count > 1)];
        return Page();
    }
}
