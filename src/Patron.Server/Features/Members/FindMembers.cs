using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Members;

/// <summary>Exactly one way to identify a member: card, phone, ID number, or name with the phone's last four digits.</summary>
public sealed record MemberLookupRequest(string? CardNumber = null, string? Phone = null, string? IdNumber = null, string? Name = null, string? PhoneTail = null);

/// <summary>
/// Finding members within the caller's scope. An exact identifier finds a member anywhere in
/// the caller's programs (members shop at every store of the chain); listing and browsing by
/// name reach only the members enrolled at the caller's own stores.
/// </summary>
public sealed class FindMembers(PatronDb db, PersonalDataProtector protector)
{
    public const int MaxPageSize = 100;
    private const int MaxMatches = 20;

    public async Task<IReadOnlyList<MemberView>> LookupAsync(MemberLookupRequest r, CallerScope caller, CancellationToken ct)
    {
        var given = new[] { r.CardNumber, r.Phone, r.IdNumber }.Count(s => !string.IsNullOrWhiteSpace(s))
            + (string.IsNullOrWhiteSpace(r.Name) && string.IsNullOrWhiteSpace(r.PhoneTail) ? 0 : 1);
        if (given != 1)
        {
            throw Problem.Invalid("lookup.one_identifier", "Give exactly one of: card number, phone, ID number, or name with phone tail.");
        }

        var members = VisibleMembers(caller);
        if (!string.IsNullOrWhiteSpace(r.CardNumber))
        {
            var number = r.CardNumber.Trim();
            if (!CardNumber.IsValid(number))
            {
                throw Problem.Invalid("card.number_invalid", "The card number is not valid (wrong length or check digit).", "cardNumber");
            }

            members = members.Where(m => m.Cards.Any(c => c.Number == number));
        }
        else if (!string.IsNullOrWhiteSpace(r.Phone))
        {
            if (!ChineseMobile.TryNormalize(r.Phone, out var phone))
            {
                throw Problem.Invalid("member.phone_invalid", "This is not a mainland China mobile number (11 digits starting 13–19).", "phone");
            }

            // The member's own phone first (the index answers at once); then second phones and organisations' purchasers.
            var own = await ToViewsAsync(members.Where(m => m.Mobile == phone).OrderBy(m => m.Id).Take(MaxMatches), ct);
            if (own.Count > 0)
            {
                return await FollowMergesAsync(own, ct);
            }

            members = members.Where(m => db.MemberProfiles.Any(p => p.MemberId == m.Id && p.Phone2 == phone)
                || db.MemberPurchasers.Any(p => p.MemberId == m.Id && p.Mobile == phone));
        }
        else if (!string.IsNullOrWhiteSpace(r.IdNumber))
        {
            if (!ChineseIdNumber.TryNormalize(r.IdNumber, out var id, out _))
            {
                throw Problem.Invalid("member.id_number_invalid", "This is not a valid 18-character ID number (its check character does not match).", "idNumber");
            }

            var hash = await protector.LookupHashAsync(id, ct);
            members = members.Where(m => m.IdNumberHash == hash);
        }
        else
        {
            var name = (r.Name ?? "").Trim();
            var tail = (r.PhoneTail ?? "").Trim();
            if (name.Length is 0 or > Member.NameMaxLength || tail.Length != 4 || !tail.All(char.IsAsciiDigit))
            {
                throw Problem.Invalid("lookup.name_tail_invalid", "Give the full name and the last four digits of the phone.", "phoneTail");
            }

            members = members.Where(m => m.Name == name && m.MobileTail == tail);
        }

        return await FollowMergesAsync(await ToViewsAsync(members.OrderBy(m => m.Id).Take(MaxMatches), ct), ct);
    }

    /// <summary>
    /// The console's single search box: a phone, card or ID number is looked up exactly; a name
    /// followed by four digits is "name + phone tail"; a bare name searches the caller's own stores.
    /// </summary>
    public async Task<IReadOnlyList<MemberView>> SearchAsync(string? query, CallerScope caller, CancellationToken ct)
    {
        var q = (query ?? "").Trim().Replace(" ", "", StringComparison.Ordinal);
        if (q.Length < 2 || q.Length > 64)
        {
            return [];
        }

        if (ChineseMobile.TryNormalize(q, out _))
        {
            return await LookupAsync(new(Phone: q), caller, ct);
        }

        if (ChineseIdNumber.TryNormalize(q, out _, out _))
        {
            return await LookupAsync(new(IdNumber: q), caller, ct);
        }

        if (q.All(char.IsAsciiDigit))
        {
            return CardNumber.IsValid(q) ? await LookupAsync(new(CardNumber: q), caller, ct) : [];
        }

        if (q.Length > 4 && q[^4..].All(char.IsAsciiDigit) && !q[..^4].Any(char.IsAsciiDigit))
        {
            return await LookupAsync(new(Name: q[..^4], PhoneTail: q[^4..]), caller, ct);
        }

        if (q.Any(char.IsAsciiDigit) || q.Length > Member.NameMaxLength)
        {
            return [];
        }

        var byName = BrowsableMembers(caller, null).Where(m => m.Name.StartsWith(q)).OrderBy(m => m.Name).ThenBy(m => m.Id).Take(MaxMatches);
        return await ToViewsAsync(byName, ct);
    }

    /// <summary>Members enrolled at the caller's stores (or at one of them), newest first, paged.</summary>
    public async Task<MemberPage> ListAsync(long? storeId, int page, int pageSize, CallerScope caller, CancellationToken ct)
    {
        if (storeId is { } s && !caller.CanBrowseStore(s))
        {
            throw Problem.Forbidden("scope.store_forbidden", "You may not list the members of this store.");
        }

        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        var query = BrowsableMembers(caller, storeId);
        var total = await query.CountAsync(ct);
        page = Paging.ClampPastTheEnd(page, total, pageSize);
        var items = await ToViewsAsync(query.OrderByDescending(m => m.Id).Skip((page - 1) * pageSize).Take(pageSize), ct);
        return new MemberPage(items, page, pageSize, total);
    }

    /// <summary>How many members each of the caller's browsable stores enrolled.</summary>
    public Task<Dictionary<long, int>> CountByStoreAsync(CallerScope caller, CancellationToken ct) =>
        BrowsableMembers(caller, null)
            .GroupBy(m => m.EnrolStoreId)
            .Select(g => new { StoreId = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.StoreId, x => x.Count, ct);

    /// <summary>One member's file, for those who may browse the store the member enrolled at.</summary>
    /// <summary>One member: of the caller's own stores, or (identified at the counter) of any store of the caller's programs.</summary>
    public async Task<MemberView> GetAsync(long id, CallerScope caller, CancellationToken ct, bool anyStoreOfProgram = false)
    {
        var scope = anyStoreOfProgram ? VisibleMembers(caller) : BrowsableMembers(caller, null);
        var found = await ToViewsAsync(scope.Where(m => m.Id == id), ct);
        return found.Count == 1 ? found[0] : throw Problem.NotFound("member.not_found", "No such member in your stores.");
    }

    private IQueryable<Member> VisibleMembers(CallerScope caller)
    {
        if (caller.AllStores)
        {
            return db.Members;
        }

        var programs = caller.ProgramIds.ToList();
        return db.Members.Where(m => programs.Contains(m.ProgramId));
    }

    private IQueryable<Member> BrowsableMembers(CallerScope caller, long? storeId)
    {
        var members = VisibleMembers(caller);
        if (storeId is { } s)
        {
            return members.Where(m => m.EnrolStoreId == s);
        }

        if (caller.AllStores)
        {
            return members;
        }

        var stores = caller.StoreIds.ToList();
        return members.Where(m => stores.Contains(m.EnrolStoreId));
    }

    /// <summary>
    /// An identifier of a member merged into another (its phone, ID number, an old card number)
    /// finds the person: the member it was merged into, once, in the order found. Merges keep one
    /// level (merging a survivor re-points the members merged into it), so one step is enough.
    /// </summary>
    private async Task<IReadOnlyList<MemberView>> FollowMergesAsync(IReadOnlyList<MemberView> found, CancellationToken ct)
    {
        if (found.All(m => m.MergedIntoId is null))
        {
            return found;
        }

        var ids = found.Where(m => m.MergedIntoId is not null).Select(m => m.MergedIntoId!.Value).Distinct().ToList();
        var survivors = (await ToViewsAsync(db.Members.Where(m => ids.Contains(m.Id)), ct)).ToDictionary(m => m.Id);
        return [.. found.Select(m => m.MergedIntoId is { } s && survivors.TryGetValue(s, out var survivor) ? survivor : m).DistinctBy(m => m.Id)];
    }

    private async Task<IReadOnlyList<MemberView>> ToViewsAsync(IQueryable<Member> query, CancellationToken ct)
    {
        var members = await query.AsNoTracking().Include(m => m.Cards).AsSplitQuery().ToListAsync(ct);
        if (members.Count == 0)
        {
            return [];
        }

        var storeIds = members.Select(m => m.EnrolStoreId).Distinct().ToList();
        var storeNames = await db.Stores.AsNoTracking().Where(s => storeIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Name, ct);
        return members.ConvertAll(m => MemberView.From(m, storeNames[m.EnrolStoreId]));
    }
}
