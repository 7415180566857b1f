using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Patron.Data;
using Patron.Domain.Organisation;
using Patron.Server.Features.Staff;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Tests.Infrastructure;

/// <summary>
/// The Patron host on its own fresh database, with a small test organisation: program A with
/// stores A1 and A2, program B with store B1, staff of every role and a terminal per store.
/// One instance per test class (IClassFixture), so every class has its own database.
/// </summary>
public abstract partial class PatronApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string Password = "test-password-1";
    private static int _phoneCounter;

    public TestClock Clock { get; } = new();

    /// <summary>Clear phone or ID numbers in responses and logs; the host fails its tests when it stops with any.</summary>
    public PersonalDataWatch Watch { get; } = new();

    /// <summary>Sees console jobs' progress reports (and can hold a job while a test reads it).</summary>
    public JobProbe JobProbe { get; } = new();

    public string ConnectionString { get; private set; } = "";

    public abstract DatabaseProvider Provider { get; }

    public TestOrg Org { get; private set; } = null!;

    /// <summary>Why this database cannot run here (PostgreSQL absent and not required); null when it can.</summary>
    public string? SkipReason { get; private set; }

    protected virtual string? Unavailable => null;

    public async ValueTask InitializeAsync()
    {
        SkipReason = Unavailable;
        if (SkipReason is not null)
        {
            return;
        }

        ConnectionString = await CreateDatabaseAsync();
        StartServer(); // starts the host, which migrates the database
        Org = await TestOrg.CreateAsync(Services);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await DropDatabaseAsync();
        GC.SuppressFinalize(this);
        if (!Watch.Leaks.IsEmpty)
        {
            throw new InvalidOperationException("Personal data in clear: " + string.Join("; ", Watch.Leaks.Distinct().Take(20)));
        }
    }

    /// <summary>Called first by every test class on this fixture: skips its tests when the database is unavailable.</summary>
    public bool EnsureAvailable()
    {
        if (SkipReason is not null)
        {
            Assert.Skip(SkipReason);
        }

        return true;
    }

    protected abstract Task<string> CreateDatabaseAsync();

    protected abstract Task DropDatabaseAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Patron:Db", ConnectionString);
        builder.UseSetting("Patron:Jobs", "false");
        // Every log line is looked at (for personal data), none is printed.
        builder.ConfigureLogging(l => l.ClearProviders().AddProvider(Watch.LoggerProvider()).SetMinimumLevel(LogLevel.Debug));
        builder.ConfigureServices(s =>
        {
            s.AddSingleton<TimeProvider>(Clock);
            s.AddSingleton(Watch.StartupFilter());
            s.AddSingleton<Patron.Server.Infrastructure.Jobs.IConsoleJobProbe>(JobProbe);
        });
    }

    /// <summary>A valid mobile number no other test in this run has used.</summary>
    public static string NewPhone() => "139" + (Random.Shared.Next(10_000_000, 50_000_000) + Interlocked.Increment(ref _phoneCounter)).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);

    public HttpClient TerminalClient(string key)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>A browser-like client signed in to the console (cookie and antiforgery handled).</summary>
    public async Task<ConsoleClient> SignInAsync(string login, string password = Password)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var console = new ConsoleClient(client);
        var response = await console.PostFormAsync("/login", new() { ["Login"] = login, ["Password"] = password });
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in of {login} failed: {(int)response.StatusCode}");
        }

        console.ForgetToken(); // the sign-in page's token belonged to an anonymous user
        return console;
    }

    public async Task<T> WithDbAsync<T>(Func<PatronDb, Task<T>> work)
    {
        using var scope = Services.CreateScope();
        return await work(scope.ServiceProvider.GetRequiredService<PatronDb>());
    }

    public Task<int> MemberCountAsync() => WithDbAsync(db => db.Members.CountAsync());
}

public class SqliteApp : PatronApp
{
    private string? _file;

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override Task<string> CreateDatabaseAsync()
    {
        _file = Path.Combine(Path.GetTempPath(), $"patron-test-{Guid.NewGuid():N}.db");
        return Task.FromResult(DatabaseSettings.SqliteFile(_file).ConnectionString);
    }

    protected override Task DropDatabaseAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var f in new[] { _file, _file + "-wal", _file + "-shm" })
        {
            if (f is not null && File.Exists(f))
            {
                File.Delete(f);
            }
        }

        return Task.CompletedTask;
    }
}

public sealed class PostgresApp(PostgresServer pg) : PatronApp
{
    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    protected override string? Unavailable =>
        pg.AdminConnectionString is null && !PostgresServer.Required ? pg.UnavailableReason ?? "PostgreSQL is not available." : null;

    protected override Task<string> CreateDatabaseAsync() => pg.CreateDatabaseAsync();

    protected override async Task DropDatabaseAsync()
    {
        if (pg.AdminConnectionString is null || ConnectionString.Length == 0)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        var name = new NpgsqlConnectionStringBuilder(ConnectionString).Database;
        await using var conn = new NpgsqlConnection(pg.AdminConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>The test organisation's ids and terminal keys.</summary>
public sealed record TestOrg(
    long ProgramA,
    long ProgramB,
    long StoreA1,
    long StoreA2,
    long StoreB1,
    string TerminalA1,
    string TerminalA2,
    string TerminalB1)
{
    public static readonly (string Login, StaffRole Role, string[] Stores)[] People =
    [
        ("admin", StaffRole.Admin, []),
        ("marketing", StaffRole.Marketing, []),
        ("auditor", StaffRole.Auditor, []),
        ("manager-a", StaffRole.StoreManager, ["A1", "A2"]),
        ("cashier-a1", StaffRole.Cashier, ["A1"]),
        ("cashier-a2", StaffRole.Cashier, ["A2"]),
        ("cashier-b1", StaffRole.Cashier, ["B1"]),
    ];

    public static async Task<TestOrg> CreateAsync(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var programA = new LoyaltyProgram("CHAIN-A", "连锁A·北京", "8801");
        var programB = new LoyaltyProgram("CHAIN-B", "连锁B·天津", "8802");
        var region = new Region("north", "华北");
        db.AddRange(programA, programB, region);
        await db.SaveChangesAsync();
        var a1 = new Store("A1", "A一店", region.Id, "北京", programA.Id);
        var a2 = new Store("A2", "A二店", region.Id, "北京", programA.Id);
        var b1 = new Store("B1", "B一店", region.Id, "天津", programB.Id);
        db.Stores.AddRange(a1, a2, b1);
        await db.SaveChangesAsync();
        var byCode = new Dictionary<string, long> { ["A1"] = a1.Id, ["A2"] = a2.Id, ["B1"] = b1.Id };
        foreach (var (login, role, stores) in People)
        {
            var staff = new Patron.Domain.Organisation.Staff(login, login, role, stores.Select(s => byCode[s]));
            staff.SetPasswordHash(StaffSignIn.HashPassword(staff, PatronApp.Password));
            db.Staff.Add(staff);
        }

        await db.SaveChangesAsync();
        var terminals = scope.ServiceProvider.GetRequiredService<TerminalAdmin>();
        var system = CallerScope.From(new ClaimsPrincipal(PatronClaims.ForStaff(await db.Staff.FirstAsync(s => s.Login == "admin"), [], [], "test")));
        var keys = new List<string>();
        foreach (var store in new[] { a1, a2, b1 })
        {
            keys.Add((await terminals.CreateAsync(store.Id, new CreateTerminalRequest("POS " + store.Code), system, default)).ApiKey);
        }

        return new TestOrg(programA.Id, programB.Id, a1.Id, a2.Id, b1.Id, keys[0], keys[1], keys[2]);
    }
}

/// <summary>An HttpClient that behaves like a browser on the console: cookies and antiforgery tokens.</summary>
public sealed partial class ConsoleClient(HttpClient client)
{
    private string? _token;

    public HttpClient Http => client;

    public void ForgetToken() => _token = null;

    public async Task<HttpResponseMessage> GetAsync(string url)
    {
        var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        await RememberTokenAsync(response);
        return response;
    }

    public async Task<string> GetPageAsync(string url)
    {
        var response = await GetAsync(url);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A form whose fields may repeat (several checked boxes of one name), as a browser posts it.</summary>
    public async Task<HttpResponseMessage> PostFormPairsAsync(string url, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        if (_token is null)
        {
            await GetAsync(url.Split('?')[0]);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent([.. fields, new("__RequestVerificationToken", _token ?? "")]) };
        return await Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async Task<HttpResponseMessage> PostFormAsync(string url, Dictionary<string, string> fields, bool htmx = false)
    {
        if (_token is null)
        {
            await GetAsync(url.Split('?')[0]);
        }

        var form = new Dictionary<string, string>(fields) { ["__RequestVerificationToken"] = _token ?? "" };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        if (htmx)
        {
            request.Headers.Add("HX-Request", "true");
        }

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        await RememberTokenAsync(response);
        return response;
    }

    public Task<HttpResponseMessage> PostJsonAsync<T>(string url, T body) => client.PostAsJsonAsync(url, body, TestContext.Current.CancellationToken);

    private async Task RememberTokenAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "text/html")
        {
            return;
        }

        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var m = TokenPattern().Match(html);
        if (m.Success)
        {
            _token = m.Groups[1].Value;
        }
    }

    [GeneratedRegex("__RequestVerificationToken\"[^>]*?value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
