using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Patron.Domain.Members;

namespace Patron.Server.Tests.Infrastructure;

/// <summary>
/// Watches every request, response and log line of a test host for clear personal data: the
/// phone numbers and ID numbers tests send in are remembered, and any of them coming back in a
/// response body (outside the unmask endpoints and a member's own data export file) or in a log
/// line, or any of them in a URL, is a leak. A leaking response is turned into a 500 so the test
/// that caused it fails on the spot; leaks in logs fail the test host when it shuts down.
/// </summary>
public sealed partial class PersonalDataWatch
{
    private static readonly ConcurrentDictionary<string, byte> Known = new();

    public ConcurrentQueue<string> Leaks { get; } = new();

    [GeneratedRegex(@"(?<!\d)1[3-9]\d{9}(?!\d)")]
    private static partial Regex PhonePattern();

    [GeneratedRegex(@"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")]
    private static partial Regex IdPattern();

    /// <summary>Remembers the phone and ID numbers in a text the tests sent; returns them.</summary>
    public static HashSet<string> Learn(string text)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in PhonePattern().Matches(text))
        {
            Known.TryAdd(m.Value, 0);
            found.Add(m.Value);
        }

        foreach (Match m in IdPattern().Matches(text))
        {
            if (ChineseIdNumber.TryNormalize(m.Value, out var id, out _))
            {
                Known.TryAdd(id, 0);
                found.Add(id);
            }
        }

        return found;
    }

    /// <summary>
    /// The first remembered personal value in <paramref name="text"/>, or null. What the request
    /// itself carried may come back (a form shown again with the caller's own input).
    /// </summary>
    public static string? Find(string text, IReadOnlySet<string>? own = null)
    {
        foreach (Match m in PhonePattern().Matches(text))
        {
            if (Known.ContainsKey(m.Value) && own?.Contains(m.Value) != true)
            {
                return m.Value;
            }
        }

        foreach (Match m in IdPattern().Matches(text))
        {
            var id = m.Value.ToUpperInvariant();
            if (Known.ContainsKey(id) && own?.Contains(id) != true)
            {
                return m.Value;
            }
        }

        return null;
    }

    /// <summary>The unmask endpoint of the API and its page in the console: the only places a clear value may be shown.</summary>
    public static bool IsUnmask(PathString path) =>
        path.Value is { } p && (p.StartsWith("/api/members/", StringComparison.Ordinal) || p.StartsWith("/members/", StringComparison.Ordinal)) && p.EndsWith("/unmask", StringComparison.Ordinal);

    [GeneratedRegex(@"^/(api/)?members/\d+/data-export$")]
    private static partial Regex OwnDataExportPath();

    /// <summary>
    /// A member's own data, exported for handing to them (POST /api/members/{id}/data-export and
    /// the console page /members/{id}/data-export): personal data in clear is the point of it.
    /// Allowed only for the file itself — a successful POST answered as an attachment — so the
    /// page, its errors and every refusal on those paths stay watched like any other answer.
    /// </summary>
    public static bool IsOwnDataExportFile(string method, PathString path, int status, string? contentDisposition) =>
        HttpMethods.IsPost(method) && status == StatusCodes.Status200OK && path.Value is { } p && OwnDataExportPath().IsMatch(p)
        && contentDisposition is { } d && d.StartsWith("attachment;", StringComparison.Ordinal);

    /// <summary>Answers that may carry clear personal data: the unmask endpoints and a member's own data export file; nothing else.</summary>
    public static bool MayAnswerInClear(HttpContext ctx) =>
        IsUnmask(ctx.Request.Path) || IsOwnDataExportFile(ctx.Request.Method, ctx.Request.Path, ctx.Response.StatusCode, ctx.Response.Headers.ContentDisposition.ToString());

    public IStartupFilter StartupFilter() => new Filter(this);

    public ILoggerProvider LoggerProvider() => new Provider(this);

    private sealed class Filter(PersonalDataWatch watch) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (ctx, nextMiddleware) =>
            {
                if (Find(ctx.Request.Path + ctx.Request.QueryString) is { } inUrl)
                {
                    watch.Leaks.Enqueue($"{ctx.Request.Method} {ctx.Request.Path}: personal data in the URL");
                    _ = inUrl;
                }

                HashSet<string>? own = null;
                if (ctx.Request.ContentLength is > 0 or null && ctx.Request.Body.CanRead)
                {
                    ctx.Request.EnableBuffering();
                    using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8, leaveOpen: true))
                    {
                        own = Learn(Uri.UnescapeDataString((await reader.ReadToEndAsync()).Replace('+', ' ')));
                    }

                    ctx.Request.Body.Position = 0;
                }

                var original = ctx.Response.Body;
                await using var buffer = new MemoryStream();
                ctx.Response.Body = buffer;
                try
                {
                    await nextMiddleware(ctx);
                }
                finally
                {
                    ctx.Response.Body = original;
                }

                var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
                if (!MayAnswerInClear(ctx) && Find(text, own) is { } leaked)
                {
                    var message = $"{ctx.Request.Method} {ctx.Request.Path} answered {ctx.Response.StatusCode} with personal data in clear ({leaked[..3]}…)";
                    watch.Leaks.Enqueue(message);
                    ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    ctx.Response.ContentLength = null;
                    await original.WriteAsync(Encoding.UTF8.GetBytes("personal data leak: " + message));
                    return;
                }

                buffer.Position = 0;
                await buffer.CopyToAsync(original);
            });
            next(app);
        };
    }

    private sealed class Provider(PersonalDataWatch watch) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(watch, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(PersonalDataWatch watch, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = formatter(state, exception) + " " + exception;
            if (Find(line) is { } leaked)
            {
                watch.Leaks.Enqueue($"log {category}: personal data in clear ({leaked[..3]}…)");
            }
        }
    }
}
