using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Staff;

public sealed class LoginModel(StaffSignIn signIn, IStringLocalizer<SharedResource> l) : PageModel
{
    [BindProperty]
    public string? Login { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var (outcome, principal) = await signIn.SignInAsync(Login, Password, ct);
        switch (outcome)
        {
            case SignInOutcome.Success:
                await HttpContext.SignInAsync(AuthSetup.ConsoleCookie, principal!);
                return LocalRedirect(ConsoleEndpoints.IsLocal(ReturnUrl) ? ReturnUrl! : "/");
            case SignInOutcome.LockedOut:
                ModelState.AddModelError("", ProblemWriter.Translate(l, "auth.locked_out", "Too many failed attempts: this account is locked for 15 minutes."));
                break;
            default:
                ModelState.AddModelError("", ProblemWriter.Translate(l, "auth.invalid_credentials", "Wrong login or password."));
                break;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Page();
    }
}
