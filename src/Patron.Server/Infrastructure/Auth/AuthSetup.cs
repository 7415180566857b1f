using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Infrastructure.Auth;

public static class AuthSetup
{
    public const string Scheme = "Patron";
    public const string ConsoleCookie = "Console";
    public const string TerminalKey = "TerminalKey";

    public static IServiceCollection AddPatronAuth(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Console cookie or terminal key", o =>
                o.ForwardDefaultSelector = ctx =>
                    ctx.Request.Headers.ContainsKey(TerminalKeyHandler.HeaderName) || ctx.Request.Headers.Authorization.Count > 0
                        ? TerminalKey
                        : ConsoleCookie)
            .AddCookie(ConsoleCookie, o =>
            {
                o.Cookie.Name = "patron.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/denied";
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                o.Events.OnValidatePrincipal = RefreshStaffAsync;
                o.Events.OnRedirectToLogin = ctx => ApiOrRedirect(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => ApiOrRedirect(ctx, StatusCodes.Status403Forbidden);
            })
            .AddScheme<AuthenticationSchemeOptions, TerminalKeyHandler>(TerminalKey, null);
        services.AddAuthorization(Permissions.Add);
        return services;
    }

    /// <summary>
    /// Re-reads the staff member on every request: a disabled account, a changed password,
    /// role or store list takes effect at once, and the scope claims are always current.
    /// </summary>
    private static async Task RefreshStaffAsync(CookieValidatePrincipalContext ctx)
    {
        var idText = ctx.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        var stamp = ctx.Principal?.FindFirstValue(PatronClaims.Stamp);
        if (!long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            ctx.RejectPrincipal();
            return;
        }

        var db = ctx.HttpContext.RequestServices.GetRequiredService<PatronDb>();
        var staff = await db.Staff.AsNoTracking().Include(s => s.Stores).FirstOrDefaultAsync(s => s.Id == id);
        if (staff is null || !staff.IsActive || staff.SecurityStamp != stamp)
        {
            ctx.RejectPrincipal();
            await ctx.HttpContext.SignOutAsync(ConsoleCookie);
            return;
        }

        var (stores, programs) = await StaffScopeAsync(db, staff);
        ctx.ReplacePrincipal(new ClaimsPrincipal(PatronClaims.ForStaff(staff, stores, programs, ConsoleCookie)));
    }

    /// <summary>The stores and programs a staff member covers; head office covers all stores.</summary>
    public static async Task<(List<long> Stores, List<long> Programs)> StaffScopeAsync(PatronDb db, Domain.Organisation.Staff staff)
    {
        if (staff.AllStores)
        {
            return ([], []);
        }

        var storeIds = staff.Stores.Select(s => s.StoreId).ToList();
        var programs = await db.Stores.AsNoTracking().Where(s => storeIds.Contains(s.Id)).Select(s => s.ProgramId).Distinct().ToListAsync();
        return (storeIds, programs);
    }

    private static Task ApiOrRedirect(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (ctx.Request.Path.StartsWithSegments("/api") || ctx.Request.Headers.ContainsKey("HX-Request"))
        {
            var problem = status == StatusCodes.Status401Unauthorized ? Problem.Unauthorized() : Problem.Forbidden("auth.forbidden", "You do not have permission for this.");
            return ProblemWriter.WriteAsync(ctx.HttpContext, problem);
        }

        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }
}
