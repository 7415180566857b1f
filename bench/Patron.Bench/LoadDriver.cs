using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using Patron.Domain.Pricing;

namespace Patron.Bench;

public sealed record RunSettings(
    Uri Url,
    IReadOnlyList<string> Keys,
    string Db,
    Mix Mix,
    int Terminals = 8,
    int Seconds = 60,
    int Warmup = 5,
    int? ServerPid = null,
    int Sample = 20_000,
    int Seed = 1);

/// <summary>
/// Drives a running Patron server like a chain's tills: N terminals, each a task with its own
/// HttpClient and connection, loop for the warm-up and then for the measured seconds, picking
/// an operation by the mix: identify a member by phone or card, quote a 1–4 line basket, commit
/// a sale (unique order number and Idempotency-Key), or return a line of a sale the same
/// terminal committed earlier. Latencies of 2xx answers go into per-operation lists; every
/// other answer is counted by operation, status and problem code.
/// </summary>
public sealed class LoadDriver(RunSettings settings, TextWriter log)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.All),
    };

    public async Task<RunReport> RunAsync(CancellationToken ct)
    {
        var members = await SampleMembersAsync(ct);
        log.WriteLine($"run: {members.Count:N0} members sampled for identify/quote/commit; {settings.Terminals} terminals, mix {settings.Mix}, "
            + $"{settings.Warmup} s warm-up + {settings.Seconds} s measured against {settings.Url}");
        await CheckHealthAsync(ct);

        var server = settings.ServerPid is { } pid ? new ServerProcess(pid) : ServerProcess.Listening(settings.Url.Port);
        log.WriteLine(server is null
            ? "run: server process not found (pass --server-pid); memory will not be reported"
            : $"run: server PID {server.Pid}, RSS {Mib(server.ResidentBytes())} before the run");

        var tag = DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture);
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (settings.Warmup * Stopwatch.Frequency);
        var measureTo = measureFrom + (settings.Seconds * Stopwatch.Frequency);
        var terminals = Enumerable.Range(0, settings.Terminals)
            .Select(i => new Terminal(i, settings, members, tag, settings.Keys[i % settings.Keys.Count]))
            .ToList();

        // Memory and CPU are read over the measured window only.
        var tasks = terminals.Select(t => Task.Run(() => t.LoopAsync(measureFrom, measureTo, ct), ct)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(settings.Warmup), ct);
        var cpuBefore = CpuSnapshot.Take(server);
        var sampler = server is null ? null : new MemorySampler(server, TimeSpan.FromMilliseconds(250));
        await Task.WhenAll(tasks);
        var measured = Stopwatch.GetElapsedTime(measureFrom, Math.Min(Stopwatch.GetTimestamp(), measureTo));
        var cpuAfter = CpuSnapshot.Take(server);
        long? rssStart = null, rssPeak = null, rssEnd = null;
        if (sampler is not null)
        {
            await sampler.DisposeAsync();
            (rssStart, rssPeak, rssEnd) = (sampler.Start, sampler.Peak, sampler.Last);
        }

        var ops = Mix.All.Select(op => OperationReport.From(op, terminals.Select(t => t.Stats[(int)op]).ToList(), measured.TotalSeconds)).ToList();
        var total = OperationReport.From(null, [.. terminals.SelectMany(t => t.Stats)], measured.TotalSeconds);
        var cpu = CpuUse.Between(cpuBefore, cpuAfter, measured.TotalSeconds);

        long? mismatches = null;
        await using (var conn = new NpgsqlConnection(settings.Db))
        {
            await conn.OpenAsync(ct);
            mismatches = await ChainGenerator.CountLedgerMismatchesAsync(conn, members.ProgramId, ct);
        }

        return new RunReport(settings.Terminals, settings.Seconds, measured.TotalSeconds, settings.Mix.ToString(), ops, total, server?.Pid, rssStart, rssPeak, rssEnd, cpu, mismatches);
    }

    private async Task CheckHealthAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var r = await http.GetAsync("/health", ct);
            if (!r.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{settings.Url}health answered {(int)r.StatusCode}.");
            }
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"The server at {settings.Url} does not answer: {e.Message}", e);
        }
    }

    /// <summary>Members of the terminals' program with an active card, drawn at random (read before the load starts).</summary>
    private async Task<MemberSample> SampleMembersAsync(CancellationToken ct)
    {
        var keyId = settings.Keys[0].Split('_') is [_, var id, ..] ? id : throw new UsageException("--key is a terminal key ptk_<id>_<secret>.");
        await using var conn = new NpgsqlConnection(settings.Db);
        await conn.OpenAsync(ct);
        long programId;
        await using (var cmd = new NpgsqlCommand("SELECT s.program_id FROM terminals t JOIN stores s ON s.id = t.store_id WHERE t.key_id = @k", conn))
        {
            cmd.Parameters.AddWithValue("k", keyId);
            programId = await cmd.ExecuteScalarAsync(ct) is long p ? p : throw new InvalidOperationException("The terminal key is not known to this database.");
        }

        var list = new List<(long Id, string Mobile, string Card)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT m.id, m.mobile, c.number FROM members m JOIN cards c ON c.member_id = m.id AND c.status = 0
            WHERE m.program_id = @p ORDER BY random() LIMIT @n
            """, conn))
        {
            cmd.Parameters.AddWithValue("p", programId);
            cmd.Parameters.AddWithValue("n", settings.Sample);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                list.Add((r.GetInt64(0), r.GetString(1), r.GetString(2)));
            }
        }

        return list.Count == 0 ? throw new InvalidOperationException("The program has no members with an active card: run generate first.") : new MemberSample(programId, list);
    }

    private static string Mib(long? bytes) => bytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / 1048576.0:0} MiB") : "n/a";

    internal sealed record MemberSample(long ProgramId, List<(long Id, string Mobile, string Card)> Members)
    {
        public int Count => Members.Count;
    }

    private sealed record IdentifyBody(string? CardNumber = null, string? Phone = null);

    private sealed record LineBody(string Sku, int Quantity, long UnitPrice, string? Name, string? Category, IReadOnlyList<string>? Flags);

    private sealed record SaleBody(string? OrderNumber, IReadOnlyList<LineBody> Lines, long? MemberId, string? CardNumber);

    private sealed record ReturnLineBody(int Line);

    private sealed record ReturnBody(string OrderNumber, string ReturnNumber, IReadOnlyList<ReturnLineBody> Lines);

    /// <summary>One till: its own connection, random stream and list of sales it may take returns for.</summary>
    private sealed class Terminal(int index, RunSettings settings, MemberSample members, string tag, string key)
    {
        private readonly Random _rng = new(unchecked((settings.Seed * 7919) + index));
        private readonly List<(string Order, int Lines)> _committed = [];
        private int _sequence;

        public OperationStats[] Stats { get; } = [.. Mix.All.Select(_ => new OperationStats())];

        public async Task LoopAsync(long measureFrom, long measureTo, CancellationToken ct)
        {
            using var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = 1,
                UseCookies = false,
                UseProxy = false,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            };
            using var http = new HttpClient(handler) { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(30) };
            while (!ct.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                if (started >= measureTo)
                {
                    break;
                }

                var op = settings.Mix.Pick(_rng);
                if (op == Operation.Return && _committed.Count == 0)
                {
                    op = Operation.Commit; // nothing to return yet: sell first
                }

                var (path, body, idempotencyKey, onSuccess) = Build(op);
                var (status, code) = await SendAsync(http, path, body, idempotencyKey, ct);
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (status is >= 200 and < 300)
                {
                    onSuccess?.Invoke();
                }

                if (started >= measureFrom)
                {
                    Stats[(int)op].Record(status, code, elapsed.TotalMilliseconds);
                }
            }
        }

        private (string Path, byte[] Body, string? IdempotencyKey, Action? OnSuccess) Build(Operation op)
        {
            var (memberId, mobile, card) = members.Members[_rng.Next(members.Count)];
            switch (op)
            {
                case Operation.Identify:
                    var who = _rng.Next(2) == 0 ? new IdentifyBody(Phone: mobile) : new IdentifyBody(CardNumber: card);
                    return ("/api/checkout/identify", JsonSerializer.SerializeToUtf8Bytes(who, Json), null, null);

                case Operation.Quote:
                    return ("/api/checkout/quote", JsonSerializer.SerializeToUtf8Bytes(Sale(null, memberId, card), Json), null, null);

                case Operation.Commit:
                    var n = ++_sequence;
                    var order = string.Create(CultureInfo.InvariantCulture, $"B{tag}-{index:D2}-{n:D6}");
                    var sale = Sale(order, memberId, card);
                    return ("/api/checkout/sales", JsonSerializer.SerializeToUtf8Bytes(sale, Json), "k-" + order, () => _committed.Add((order, sale.Lines.Count)));

                default:
                    // A customer brings back one line of an earlier purchase at this till; each sale comes back at most once.
                    var pick = _rng.Next(_committed.Count);
                    var (original, lines) = _committed[pick];
                    _committed[pick] = _committed[^1];
                    _committed.RemoveAt(_committed.Count - 1);
                    var ret = new ReturnBody(original, original + "-R", [new ReturnLineBody(_rng.Next(1, lines + 1))]);
                    return ("/api/checkout/returns", JsonSerializer.SerializeToUtf8Bytes(ret, Json), "k-" + original + "-R", null);
            }
        }

        private SaleBody Sale(string? order, long memberId, string card)
        {
            var lines = Catalogue.Basket(_rng).Select(ToBody).ToList();
            return _rng.Next(2) == 0 ? new SaleBody(order, lines, memberId, null) : new SaleBody(order, lines, null, card);
        }

        private static LineBody ToBody(BasketLine l) => new(l.Sku, l.Quantity, l.UnitPrice, l.Name, l.Category, l.Flags);

        private async Task<(int Status, string? Code)> SendAsync(HttpClient http, string path, byte[] body, string? idempotencyKey, CancellationToken ct)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("X-Api-Key", key);
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }

            try
            {
                using var response = await http.SendAsync(request, ct);
                var bytes = await response.Content.ReadAsByteArrayAsync(ct);
                var status = (int)response.StatusCode;
                return status is >= 200 and < 300 ? (status, null) : (status, ProblemCode(bytes));
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                return (0, "client.timeout");
            }
            catch (HttpRequestException e)
            {
                return (0, "client." + (e.HttpRequestError.ToString() is { Length: > 0 } kind ? kind : "error"));
            }
        }

        private static string ProblemCode(byte[] body)
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                return doc.RootElement.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString()! : "(no code)";
            }
            catch (JsonException)
            {
                return "(not json)";
            }
        }
    }
}

/// <summary>One terminal's figures for one operation in the measured window.</summary>
public sealed class OperationStats
{
    public List<double> Latencies { get; } = [];

    public Dictionary<string, int> Errors { get; } = new(StringComparer.Ordinal);

    public void Record(int status, string? code, double milliseconds)
    {
        if (status is >= 200 and < 300)
        {
            Latencies.Add(milliseconds);
            return;
        }

        var k = string.Create(CultureInfo.InvariantCulture, $"{(status == 0 ? "-" : status.ToString(CultureInfo.InvariantCulture))} {code}");
        Errors[k] = Errors.GetValueOrDefault(k) + 1;
    }
}

public sealed record OperationReport(string Name, int Ok, int Failed, double PerSecond, double P50, double P95, double P99, double Max, double Mean, IReadOnlyDictionary<string, int> Errors)
{
    public static OperationReport From(Operation? op, IReadOnlyList<OperationStats> parts, double seconds)
    {
        var all = parts.SelectMany(p => p.Latencies).ToArray();
        Array.Sort(all);
        var errors = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in parts.SelectMany(p => p.Errors))
        {
            errors[k] = errors.GetValueOrDefault(k) + v;
        }

        return new OperationReport(
            op?.ToString().ToLowerInvariant() ?? "all",
            all.Length,
            errors.Values.Sum(),
            seconds > 0 ? all.Length / seconds : 0,
            Percentile(all, 50),
            Percentile(all, 95),
            Percentile(all, 99),
            all.Length > 0 ? all[^1] : 0,
            all.Length > 0 ? all.Average() : 0,
            errors);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

public sealed record RunReport(
    int Terminals,
    int Seconds,
    double MeasuredSeconds,
    string Mix,
    IReadOnlyList<OperationReport> Operations,
    OperationReport Total,
    int? ServerPid,
    long? RssStart,
    long? RssPeak,
    long? RssEnd,
    CpuUse Cpu,
    long? LedgerMismatches);
