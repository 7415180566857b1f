using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Infrastructure.Console;

public static class ConsoleExtensions
{
    /// <summary>Shows a problem's field errors beside their fields (prefixed) and the rest at the top, translated.</summary>
    public static void AddProblem(this ModelStateDictionary state, ProblemException p, IStringLocalizer l, string prefix = "")
    {
        if (p.Errors.Count == 0)
        {
            state.AddModelError("", ProblemWriter.Translate(l, p.Code, p.Message));
            return;
        }

        foreach (var e in p.Errors)
        {
            var key = e.Field is null ? "" : prefix + char.ToUpperInvariant(e.Field[0]) + e.Field[1..];
            state.AddModelError(key, ProblemWriter.Translate(l, e.Code, e.Message));
        }
    }

    /// <summary>
    /// Runs a console form's action and answers as every console form does: a problem that is not
    /// found is 404, a forbidden one goes to /denied, any other is shown beside its fields (field
    /// names after <paramref name="prefix"/>) with 400 (409 kept when <paramref name="keepConflict"/>)
    /// and null is returned so the page is shown again. Otherwise the action's own answer (null: show the page).
    /// </summary>
    public static async Task<IActionResult?> TryFormAsync(this PageModel page, Func<Task<IActionResult?>> action, IStringLocalizer l, string prefix = "", bool keepConflict = false)
    {
        try
        {
            return await action();
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status404NotFound)
        {
            return page.NotFound();
        }
        catch (ProblemException p) when (p.Status == StatusCodes.Status403Forbidden)
        {
            return page.Forbid();
        }
        catch (ProblemException p)
        {
            page.ModelState.AddProblem(p, l, prefix);
            page.Response.StatusCode = keepConflict && p.Status == StatusCodes.Status409Conflict ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest;
            return null;
        }
    }

    public static bool IsInRole(this ClaimsPrincipal user, params string[] roles) => roles.Any(user.IsInRole);

    public static string RoleLabel(this ClaimsPrincipal user, IStringLocalizer l) =>
        user.FindFirstValue(ClaimTypes.Role) switch
        {
            PatronClaims.Roles.Admin => l["Administrator"],
            PatronClaims.Roles.Marketing => l["Marketing"],
            PatronClaims.Roles.StoreManager => l["Store manager"],
            PatronClaims.Roles.Cashier => l["Cashier"],
            PatronClaims.Roles.Auditor => l["Auditor"],
            _ => "",
        };
}
