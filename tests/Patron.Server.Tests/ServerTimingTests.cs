using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Server.Tests;

/// <summary>Every answer says how long the server took (Server-Timing: app;dur=ms), which the page benchmark reads.</summary>
public abstract partial class ServerTimingTests(PatronApp app)
{
    private readonly bool _available = app.EnsureAvailable();

    [Fact]
    public async Task Pages_Api_AndRefusals_CarryTheServersDuration_AndNothingElse()
    {
        var admin = await app.SignInAsync("admin");
        var page = await admin.GetAsync("/members");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var pageMs = Duration(page);

        var cashier = await app.SignInAsync("cashier-a1");
        var refused = await cashier.GetAsync("/audit");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Duration(refused);

        using var anonymous = app.CreateClient();
        var api = await anonymous.GetAsync("/api/audit", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Duration(api);

        // The page did real work (auth, queries, rendering): a duration, not a constant.
        Assert.True(pageMs > 0, $"page took {pageMs} ms");
    }

    private static double Duration(HttpResponseMessage response)
    {
        var header = Assert.Single(response.Headers.GetValues("Server-Timing"));
        var match = Format().Match(header);
        Assert.True(match.Success, header);
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^app;dur=(\d+\.\d)$")]
    private static partial Regex Format();
}

public sealed class ServerTimingSqliteTests(SqliteApp app) : ServerTimingTests(app), IClassFixture<SqliteApp>;

public sealed class ServerTimingPostgresTests(PostgresApp app) : ServerTimingTests(app), IClassFixture<PostgresApp>;
