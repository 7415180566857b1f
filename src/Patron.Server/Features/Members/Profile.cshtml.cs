using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Patron.Data;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Members;

/// <summary>
/// Editing a member's file in the console. Contacts are never sent to the browser in clear: a
/// masked field left blank keeps its value, and its "clear" box removes it.
/// </summary>
public sealed class ProfileModel(FindMembers find, MemberProfiles profiles, IStringLocalizer<SharedResource> l) : PageModel
{
    public sealed class ProfileForm
    {
        public string? Name { get; set; }

        /// <summary>Blank keeps the phone on file.</summary>
        public string? Mobile { get; set; }

        public string? Gender { get; set; }

        public string? Birthday { get; set; }

        /// <summary>Blank keeps the ID number on file.</summary>
        public string? IdNumber { get; set; }

        public string? Kind { get; set; }

        public bool LunarBirthday { get; set; }

        public string? Phone2 { get; set; }

        public bool ClearPhone2 { get; set; }

        public string? District { get; set; }

        public string? Community { get; set; }

        public string? Address { get; set; }

        public bool ClearAddress { get; set; }

        public string? WeChat { get; set; }

        public bool ClearWeChat { get; set; }

        public string? Email { get; set; }

        public bool ClearEmail { get; set; }

        /// <summary>"yes", "no" or blank (not asked).</summary>
        public string? Insured { get; set; }

        public string? InsuranceType { get; set; }

        public List<string> Interests { get; set; } = [];

        /// <summary>Tags separated by commas or spaces.</summary>
        public string? Tags { get; set; }

        public string? Notes { get; set; }

        /// <summary>Why the phone or ID number changes; required then.</summary>
        public string? Reason { get; set; }
    }

    [BindProperty]
    public ProfileForm Input { get; set; } = new();

    [BindProperty]
    public PurchaserRequest? Purchaser { get; set; }

    public MemberView Member { get; private set; } = null!;

    public ProfileView Profile { get; private set; } = null!;

    public bool CanEdit => !User.IsInRole(PatronClaims.Roles.Auditor);

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        Input = new ProfileForm
        {
            Name = Member.Name,
            Gender = Member.Gender.ToString().ToLowerInvariant(),
            Birthday = Member.Birthday?.ToString("yyyy-MM-dd"),
            Kind = Profile.Kind,
            LunarBirthday = Profile.LunarBirthday,
            District = Profile.District,
            Community = Profile.Community,
            Insured = Profile.Insured switch { true => "yes", false => "no", null => "" },
            InsuranceType = Profile.InsuranceType,
            Interests = [.. Profile.Interests],
            Tags = string.Join(", ", Profile.Tags),
            Notes = Profile.Notes,
        };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken ct)
    {
        if (!CanEdit)
        {
            return Forbid();
        }

        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        var caller = CallerScope.From(User);
        var f = Input;
        try
        {
            // Masked fields left blank keep what is on file (sent as null); the remove box sends an empty value.
            string? Keep(string? typed, bool clear) => clear ? "" : string.IsNullOrWhiteSpace(typed) ? null : typed;
            var request = new ProfileRequest(
                f.Kind,
                f.LunarBirthday,
                Keep(f.Phone2, f.ClearPhone2),
                f.District,
                f.Community,
                Keep(f.Address, f.ClearAddress),
                Keep(f.WeChat, f.ClearWeChat),
                Keep(f.Email, f.ClearEmail),
                f.Insured switch { "yes" => true, "no" => false, _ => null },
                f.InsuranceType,
                f.Interests,
                (f.Tags ?? "").Split([',', '，', ' ', '、', ';', '；'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                f.Notes,
                f.Reason,
                f.Name ?? "",
                string.IsNullOrWhiteSpace(f.Mobile) ? null : f.Mobile,
                f.Gender ?? "",
                f.Birthday ?? "",
                string.IsNullOrWhiteSpace(f.IdNumber) ? null : f.IdNumber);
            await profiles.SaveAsync(id, request, caller, ct);
            TempData["flash"] = l["The member's file is saved."].Value;
            return RedirectToPage(new { id });
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            ModelState.AddProblem(p, l, "Input.");
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(id, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAddPurchaserAsync(long id, CancellationToken ct)
    {
        if (!CanEdit)
        {
            return Forbid();
        }

        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        try
        {
            await profiles.AddPurchaserAsync(id, Purchaser ?? new PurchaserRequest(null, null), CallerScope.From(User), ct);
            TempData["flash"] = l["Purchaser added."].Value;
            return RedirectToPage(new { id });
        }
        catch (ProblemException p) when (p.Status != StatusCodes.Status404NotFound)
        {
            ModelState.AddProblem(p, l, "Purchaser.");
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(id, ct);
        ModelState.Remove("Input.Name");
        return Page();
    }

    public async Task<IActionResult> OnPostRemovePurchaserAsync(long id, long purchaserId, CancellationToken ct)
    {
        if (!CanEdit)
        {
            return Forbid();
        }

        try
        {
            await profiles.RemovePurchaserAsync(id, purchaserId, CallerScope.From(User), ct);
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }

        TempData["flash"] = l["Purchaser removed."].Value;
        return RedirectToPage(new { id });
    }

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        var caller = CallerScope.From(User);
        try
        {
            Member = await find.GetAsync(id, caller, ct);
            Profile = await profiles.GetAsync(id, caller, ct);
            return true;
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return false;
        }
    }
}
