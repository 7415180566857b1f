using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Patron.Data;

namespace Patron.Server.Infrastructure.Auth;

/// <summary>Authenticates a POS terminal by <c>Authorization: Bearer ptk_…</c> or <c>X-Api-Key</c>.</summary>
public sealed class TerminalKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PatronDb db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string HeaderName = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = Request.Headers[HeaderName];
        if (key is null)
        {
            var auth = Request.Headers.Authorization.ToString();
            if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                key = auth["Bearer ".Length..].Trim();
            }
        }

        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (!TerminalKeys.TryParse(key, out var keyId, out var secret))
        {
            return AuthenticateResult.Fail("Malformed terminal key.");
        }

        var found = await db.Terminals.AsNoTracking()
            .Where(t => t.KeyId == keyId)
            .Join(db.Stores, t => t.StoreId, s => s.Id, (t, s) => new { Terminal = t, s.ProgramId, s.IsActive })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (found is null || found.Terminal.IsRevoked || !found.IsActive || !TerminalKeys.Verify(secret, found.Terminal.KeyHash))
        {
            return AuthenticateResult.Fail("Unknown or revoked terminal key.");
        }

        var identity = PatronClaims.ForTerminal(found.Terminal, found.ProgramId, Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problems.ProblemWriter.WriteAsync(Context, Problems.Problem.Unauthorized());

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.ProblemWriter.WriteAsync(Context, Problems.Problem.Forbidden("auth.forbidden", "You do not have permission for this."));
}
