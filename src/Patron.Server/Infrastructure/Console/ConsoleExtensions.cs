using System.Security.Claims;
using Microsoft.AspNetCore.Mvc.ModelBinding;
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
