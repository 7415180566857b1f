using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Npgsql;

namespace Patron.Bench;

public sealed record PageSettings(
    Uri Url,
    string Db,
    IReadOnlyList<string> Users,
    string Password,
    int Iterations = 20,
    int Warmup = 3,
    int AuditRows = 200_000,
    string? Only = null,
    double LimitMs = 200);

/// <summary>
/// Times the console's pages one request at a time: signs in as each user (cookie and antiforgery
/// token as a browser has them), requests the baseline and every page of <see cref="PageList"/>
/// for the warm-up rounds, then for the measured rounds, and reads the server's own time from the
/// <c>Server-Timing: app;dur=</c> header next to the client's wall-clock time.
/// </summary>
public sealed partial class PageTimer(PageSettings settings, TextWriter log)
{
    public async Task<PageReport> RunAsync(CancellationToken ct)
    {
        var target = await PrepareAsync(ct);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pages: busy member #{target.MemberId} ({target.Sales} sales, store {target.StoreCode}); audit_log {target.AuditRows:N0} rows; "
            + $"{settings.Warmup} warm-up + {settings.Iterations} measured rounds, users {string.Join(", ", settings.Users)}"));

        var pages = PageList.All.Where(p => settings.Only is null || p.Name.Contains(settings.Only, StringComparison.OrdinalIgnoreCase)).ToList();
        var loadBefore = LoadAverage.Read();
        var started = Stopwatch.GetTimestamp();
        var results = new List<PageResult>();
        foreach (var user in settings.Users)
        {
            using var session = await Session.SignInAsync(settings.Url, user, settings.Password, ct);
            var stats = new Dictionary<PageRequest, PageStats>();
            var requests = new List<PageRequest> { PageList.Baseline };
            requests.AddRange(pages);
            foreach (var p in requests)
            {
                stats[p] = new PageStats();
            }

            for (var round = 0; round < settings.Warmup + settings.Iterations; round++)
            {
                foreach (var p in requests.ToList())
                {
                    var (status, server, client) = await session.SendAsync(p, target, ct);
                    if (round == 0 && p.Optional && status == 404)
                    {
                        requests.Remove(p);
                        stats[p].Absent = true;
                        continue;
                    }

                    if (round >= settings.Warmup)
                    {
                        stats[p].Record(status, server, client);
                    }
                }
            }

            results.AddRange(stats.Select(kv => PageResult.From(user, kv.Key, kv.Value)));
        }

        var loadAfter = LoadAverage.Read();
        return new PageReport(settings.Iterations, settings.Warmup, settings.LimitMs, target, loadBefore, loadAfter,
            Stopwatch.GetElapsedTime(started).TotalSeconds, results);
    }

    /// <summary>Picks the busy member (most purchases, enrolled at the users' first store, or the first store) and fills the audit log.</summary>
    private async Task<Target> PrepareAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(settings.Db);
        await conn.OpenAsync(ct);
        long storeId;
        string storeCode;
        await using (var cmd = new NpgsqlCommand("""
            SELECT id, code FROM (
                SELECT s.id, s.code, 0 AS o FROM staff st JOIN staff_stores ss ON ss.staff_id = st.id JOIN stores s ON s.id = ss.store_id
                WHERE st.login = ANY(@logins)
                UNION ALL SELECT id, code, 1 FROM stores) x
            ORDER BY o, id LIMIT 1
            """, conn))
        {
            cmd.Parameters.AddWithValue("logins", settings.Users.ToArray());
            await using var r = await cmd.ExecuteReaderAsync(ct);
            (storeId, storeCode) = await r.ReadAsync(ct) ? (r.GetInt64(0), r.GetString(1))
                : throw new InvalidOperationException("The database has no store: seed the demo chain (patron seed-demo).");
        }

        long memberId, sales;
        string mobile;
        await using (var cmd = new NpgsqlCommand("""
            SELECT m.id, m.mobile, x.n FROM (
                SELECT member_id, count(*) AS n FROM sales WHERE member_id IS NOT NULL GROUP BY member_id) x
            JOIN members m ON m.id = x.member_id
            WHERE m.enrol_store_id = @s AND m.mobile IS NOT NULL
            ORDER BY x.n DESC, m.id LIMIT 1
            """, conn))
        {
            cmd.Parameters.AddWithValue("s", storeId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            (memberId, mobile, sales) = await r.ReadAsync(ct) ? (r.GetInt64(0), r.GetString(1), r.GetInt64(2))
                : throw new InvalidOperationException("No member with purchases: run generate first.");
        }

        // The ids the later pages name: the busy member's latest sale, the newest program version, a cashier of the store.
        await using var ids = new NpgsqlCommand("""
            SELECT (SELECT id FROM sales WHERE member_id = @m ORDER BY at DESC, id DESC LIMIT 1),
                   (SELECT program_id FROM program_versions ORDER BY version DESC LIMIT 1),
                   (SELECT version FROM program_versions ORDER BY version DESC LIMIT 1),
                   (SELECT st.id FROM staff st JOIN staff_stores ss ON ss.staff_id = st.id WHERE ss.store_id = @s AND st.role = 3 ORDER BY st.id LIMIT 1)
            """, conn);
        ids.Parameters.AddWithValue("m", memberId);
        ids.Parameters.AddWithValue("s", storeId);
        await using var row = await ids.ExecuteReaderAsync(ct);
        await row.ReadAsync(ct);
        long? Id(int i) => row.IsDBNull(i) ? null : Convert.ToInt64(row.GetValue(i), CultureInfo.InvariantCulture);
        var (saleId, programId, version, staffId) = (Id(0), Id(1), Id(2), Id(3));
        await row.DisposeAsync();

        var auditRows = await FillAuditAsync(conn, memberId, ct);
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));
        return new Target(memberId, mobile, sales, storeCode, auditRows, today.AddDays(-30), today)
        {
            StoreId = storeId,
            SaleId = saleId ?? 0,
            ProgramId = programId ?? 0,
            Version = version ?? 0,
            StaffId = staffId ?? 0,
        };
    }

    /// <summary>
    /// Generated history writes no audit entries; a year of a chain's console work does. Tops the
    /// log up to <see cref="PageSettings.AuditRows"/> entries over the last 365 days: staff
    /// actions on random members at random stores, every 50th on the busy member.
    /// </summary>
    private async Task<long> FillAuditAsync(NpgsqlConnection conn, long busyMember, CancellationToken ct)
    {
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM audit_log", conn))
        {
            var have = (long)(await count.ExecuteScalarAsync(ct))!;
            if (have >= settings.AuditRows)
            {
                return have;
            }

            var sw = Stopwatch.StartNew();
            await using var cmd = new NpgsqlCommand("""
                WITH st AS (SELECT array_agg(id ORDER BY id) AS ids FROM stores),
                     sf AS (SELECT array_agg(id ORDER BY id) AS ids FROM staff),
                     mm AS (SELECT min(id) AS lo, max(id) AS hi FROM members)
                INSERT INTO audit_log (at, actor_kind, actor_id, action, store_id, member_id, entity_type, entity_id, detail)
                SELECT now() - (random() * interval '365 days'),
                       0,
                       sf.ids[1 + (g % array_length(sf.ids, 1))],
                       (ARRAY['member.enrol','member.update','points.adjust','points.correct','coupon.issue','member.unmask','card.replace','storedvalue.topup'])[1 + (g % 8)],
                       st.ids[1 + (g % array_length(st.ids, 1))],
                       CASE WHEN g % 50 = 0 THEN @busy ELSE mm.lo + (random() * (mm.hi - mm.lo))::bigint END,
                       'member', NULL, 'bench'
                FROM generate_series(1, @n) g, st, sf, mm
                """, conn);
            cmd.CommandTimeout = 600;
            cmd.Parameters.AddWithValue("busy", busyMember);
            cmd.Parameters.AddWithValue("n", (int)(settings.AuditRows - have));
            await cmd.ExecuteNonQueryAsync(ct);
            await using (var analyze = new NpgsqlCommand("VACUUM ANALYZE audit_log", conn))
            {
                await analyze.ExecuteNonQueryAsync(ct);
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pages: audit_log topped up from {have:N0} to {settings.AuditRows:N0} rows in {sw.Elapsed.TotalSeconds:0.0} s"));
            return settings.AuditRows;
        }
    }

    /// <summary>One signed-in console user: a cookie jar, no redirects followed, the antiforgery token of the last page.</summary>
    private sealed partial class Session : IDisposable
    {
        private readonly HttpClient _http;
        private string? _token;

        private Session(Uri url)
        {
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = true,
                CookieContainer = new CookieContainer(),
                UseProxy = false,
                MaxConnectionsPerServer = 1,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            };
            _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
            _http.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        }

        public static async Task<Session> SignInAsync(Uri url, string user, string password, CancellationToken ct)
        {
            var s = new Session(url);
            var form = await s._http.GetStringAsync("/login", ct);
            var token = FormToken().Match(form) is { Success: true } m ? m.Groups[1].Value
                : throw new InvalidOperationException("The sign-in page has no antiforgery token.");
            using var body = new FormUrlEncodedContent([new("Login", user), new("Password", password), new("__RequestVerificationToken", token)]);
            using var answer = await s._http.PostAsync("/login", body, ct);
            if (answer.StatusCode != HttpStatusCode.Redirect && answer.StatusCode != HttpStatusCode.Found)
            {
                throw new InvalidOperationException($"Signing in as {user} answered {(int)answer.StatusCode}, not a redirect (wrong password?).");
            }

            using var home = await s._http.GetAsync("/", ct);
            s.Remember(await home.Content.ReadAsStringAsync(ct));
            return s._token is null ? throw new InvalidOperationException($"No antiforgery token on / for {user}.") : s;
        }

        public async Task<(int Status, double? ServerMs, double ClientMs)> SendAsync(PageRequest p, Target t, CancellationToken ct)
        {
            using var request = new HttpRequestMessage(p.Form is null ? HttpMethod.Get : HttpMethod.Post, t.Fill(p.Path));
            if (p.Form is not null)
            {
                request.Content = new FormUrlEncodedContent(p.Form.Select(kv => new KeyValuePair<string, string>(kv.Key, t.Fill(kv.Value))));
                request.Headers.Add("RequestVerificationToken", _token);
                request.Headers.Add("HX-Request", "true");
            }

            var started = Stopwatch.GetTimestamp();
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            var client = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (p.Form is null && response.IsSuccessStatusCode)
            {
                Remember(text);
            }

            double? server = response.Headers.TryGetValues("Server-Timing", out var values)
                && Duration().Match(string.Join(",", values)) is { Success: true } d
                && double.TryParse(d.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : null;
            return ((int)response.StatusCode, server, client);
        }

        private void Remember(string html)
        {
            if (HxToken().Match(html) is { Success: true } m)
            {
                _token = m.Groups[1].Value;
            }
        }

        public void Dispose() => _http.Dispose();

        [GeneratedRegex("__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
        private static partial Regex FormToken();

        [GeneratedRegex("\"RequestVerificationToken\": \"([^\"]+)\"")]
        private static partial Regex HxToken();

        [GeneratedRegex(@"app;dur=([0-9.]+)")]
        private static partial Regex Duration();
    }
}

public sealed record Target(long MemberId, string Mobile, long Sales, string StoreCode, long AuditRows, DateOnly From, DateOnly To)
{
    public long StoreId { get; init; }

    public long SaleId { get; init; }

    public long ProgramId { get; init; }

    public long Version { get; init; }

    public long StaffId { get; init; }

    public string Fill(string template) => template
        .Replace("{store}", StoreId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{sale}", SaleId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{program}", ProgramId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{version}", Version.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{staff}", StaffId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{member}", MemberId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{phone}", Mobile, StringComparison.Ordinal)
        .Replace("{from}", From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{to}", To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), StringComparison.Ordinal);
}

public sealed class PageStats
{
    public List<double> Server { get; } = [];

    public List<double> Client { get; } = [];

    public SortedDictionary<int, int> Statuses { get; } = [];

    public bool Absent { get; set; }

    public int MissingHeader { get; private set; }

    public void Record(int status, double? server, double client)
    {
        Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
        Client.Add(client);
        if (server is { } s)
        {
            Server.Add(s);
        }
        else
        {
            MissingHeader++;
        }
    }
}

public sealed record PageResult(string User, string Page, string Method, bool Absent, string Statuses, int Count, double P50, double P95, double Max, double ClientP50, double ClientP95, int MissingHeader)
{
    public static PageResult From(string user, PageRequest p, PageStats s)
    {
        double[] server = [.. s.Server.Order()];
        double[] client = [.. s.Client.Order()];
        return new PageResult(user, p.Name, p.Method, s.Absent,
            string.Join(" ", s.Statuses.Select(kv => kv.Value == s.Client.Count ? kv.Key.ToString(CultureInfo.InvariantCulture) : $"{kv.Key}×{kv.Value}")),
            s.Client.Count,
            OperationReport.Percentile(server, 50), OperationReport.Percentile(server, 95), server.Length > 0 ? server[^1] : 0,
            OperationReport.Percentile(client, 50), OperationReport.Percentile(client, 95), s.MissingHeader);
    }
}

public sealed record PageReport(int Iterations, int Warmup, double LimitMs, Target Target, LoadAverage LoadBefore, LoadAverage LoadAfter, double Seconds, IReadOnlyList<PageResult> Results);

/// <summary>The machine's load average (1, 5 and 15 minutes) from /proc/loadavg.</summary>
public sealed record LoadAverage(double One, double Five, double Fifteen)
{
    public static LoadAverage Read()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            double D(int i) => double.Parse(parts[i], CultureInfo.InvariantCulture);
            return new LoadAverage(D(0), D(1), D(2));
        }
        catch (IOException)
        {
            return new LoadAverage(double.NaN, double.NaN, double.NaN);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{One:0.00} {Five:0.00} {Fifteen:0.00}");
}
