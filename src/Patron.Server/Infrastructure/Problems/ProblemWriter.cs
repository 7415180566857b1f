using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Localization;
using Patron.Domain.Common;

namespace Patron.Server.Infrastructure.Problems;

/// <summary>
/// Writes problem details: <c>code</c> (stable), <c>title</c> (in the caller's language),
/// <c>errors</c> (field → [{code, message}]) and the trace id.
/// </summary>
public static class ProblemWriter
{
    public static ProblemDetails ToProblemDetails(HttpContext http, ProblemException p)
    {
        var l = http.RequestServices.GetRequiredService<IStringLocalizer<SharedResource>>();
        var details = new ProblemDetails
        {
            Status = p.Status,
            Title = Translate(l, p.Code, p.Message),
            Type = "urn:patron:problem:" + p.Code,
            Instance = http.Request.Path,
        };
        details.Extensions["code"] = p.Code;
        details.Extensions["traceId"] = http.TraceIdentifier;
        foreach (var (key, value) in p.Extensions)
        {
            details.Extensions[key] = value;
        }

        if (p.Errors.Count > 0)
        {
            details.Extensions["errors"] = p.Errors
                .GroupBy(e => e.Field ?? "")
                .ToDictionary(g => g.Key, g => g.Select(e => new FieldError(e.Code, Translate(l, e.Code, e.Message))).ToArray());
        }

        return details;
    }

    public static Task WriteAsync(HttpContext http, ProblemException p)
    {
        http.Response.StatusCode = p.Status;
        http.Response.Headers.CacheControl = "no-cache, no-store";
        return http.Response.WriteAsJsonAsync(ToProblemDetails(http, p), (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
    }

    /// <summary>The message for a code in the request's culture; English text when no translation exists.</summary>
    public static string Translate(IStringLocalizer l, string code, string fallback)
    {
        var s = l[code];
        return s.ResourceNotFound ? fallback : s.Value;
    }

    public sealed record FieldError(string Code, string Message);
}

/// <summary>Turns exceptions into problem details; unexpected ones become a 500 without internals.</summary>
public sealed class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var problem = exception switch
        {
            ProblemException p => p,
            DomainException d => Problem.FromDomain(d),
            BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge =>
                new ProblemException(413, "request.too_large", "The request body is too large."),
            BadHttpRequestException => new ProblemException(400, "request.malformed", "The request body could not be read: check the JSON and the field types."),
            _ when Data.Transactions.IsLostRace(exception) =>
                new ProblemException(503, "db.busy", "The database is busy; retry the request."),
            _ => null,
        };
        if (problem is null)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
            problem = new ProblemException(500, "server.error", "Something went wrong on the server; the request changed nothing.");
        }

        if (problem.Status == 503)
        {
            http.Response.Headers.RetryAfter = "1";
        }

        await ProblemWriter.WriteAsync(http, problem);
        return true;
    }
}
