using System.Diagnostics;
using System.Globalization;

namespace Patron.Server.Infrastructure.Hosting;

/// <summary>
/// <c>Server-Timing: app;dur=&lt;ms&gt;</c> on every response: the time from the request entering
/// the pipeline to its headers being sent. Razor pages buffer their output, so for a page this is
/// the handler, its queries and the rendering; the page benchmark (bench/pages.sh) reads it.
/// It carries no data but a duration, costs one timestamp and one header, and is always on.
/// </summary>
public static class ServerTiming
{
    public const string Header = "Server-Timing";

    public static IApplicationBuilder UseServerTiming(this IApplicationBuilder app) =>
        app.Use((ctx, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            ctx.Response.OnStarting(static state =>
            {
                var (response, started) = ((HttpResponse, long))state;
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                response.Headers[Header] = string.Create(CultureInfo.InvariantCulture, $"app;dur={ms:0.0}");
                return Task.CompletedTask;
            }, (ctx.Response, started));
            return next(ctx);
        });
}
