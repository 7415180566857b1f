using System.Globalization;

namespace Patron.Bench;

/// <summary>
/// What <c>bench/baseline.sh</c> measured with pgbench on the same PostgreSQL server in the same
/// run: a key=value file (tps, latency_avg_ms, latency_p50_ms, latency_p95_ms, latency_p99_ms, clients, seconds).
/// </summary>
public sealed record Baseline(double Tps, double LatencyAverage, double? P50, double? P95, double? P99, int? Clients, int? Seconds, double? MachineBusyCores)
{
    public static Baseline Read(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            var eq = line.IndexOf('=');
            if (eq > 0 && !line.StartsWith('#'))
            {
                values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
            }
        }

        double? D(string k) => values.TryGetValue(k, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
        int? I(string k) => values.TryGetValue(k, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;
        return new Baseline(
            D("tps") ?? throw new InvalidOperationException($"{path}: no tps= line."),
            D("latency_avg_ms") ?? throw new InvalidOperationException($"{path}: no latency_avg_ms= line."),
            D("latency_p50_ms"),
            D("latency_p95_ms"),
            D("latency_p99_ms"),
            I("clients"),
            I("seconds"),
            D("machine_busy_cores"));
    }
}

public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void PrintGeneration(TextWriter o, GenerateReport g)
    {
        o.WriteLine();
        o.WriteLine(string.Create(Inv, $"Generation: {g.Members:N0} members, {g.Cards:N0} cards, {g.Sales:N0} sales, {g.SaleLines:N0} sale lines, {g.Lots:N0} points lots, {g.Entries:N0} points entries"));
        o.WriteLine(string.Create(Inv, $"  took {g.Elapsed.TotalSeconds:0.0} s ({g.CopyElapsed.TotalSeconds:0.0} s of it in COPY), {g.Members / g.Elapsed.TotalSeconds:N0} members/s; ledger mismatches: {g.LedgerMismatches}"));
    }

    public static void PrintRun(TextWriter o, RunReport r, Baseline? b)
    {
        o.WriteLine();
        o.WriteLine(string.Create(Inv, $"Patron HTTP load: {r.Terminals} terminals, {r.MeasuredSeconds:0.0} s measured, mix {r.Mix}"));
        if (b is not null)
        {
            var percentiles = b.P95 is { } p ? string.Create(Inv, $", p50 {b.P50:0.00} ms, p95 {p:0.00} ms, p99 {b.P99:0.00} ms") : "";
            var clients = b.Clients?.ToString(Inv) ?? "?";
            var seconds = b.Seconds?.ToString(Inv) ?? "?";
            var busy = b.MachineBusyCores is { } cores ? string.Create(Inv, $"; machine {cores:0.00} cores busy") : "";
            o.WriteLine(string.Create(Inv, $"pgbench tpcb-like baseline (same PostgreSQL, {clients} clients, {seconds} s): {b.Tps:0.0} tps, latency avg {b.LatencyAverage:0.00} ms{percentiles}{busy}"));
        }

        o.WriteLine();
        var header = "operation      ok   req/s   p50 ms   p95 ms   p99 ms   max ms  errors";
        if (b is not null)
        {
            header += "   req/s÷tps  p95÷pgb-p95  p95÷pgb-avg";
        }

        o.WriteLine(header);
        o.WriteLine(new string('-', header.Length));
        foreach (var op in r.Operations.Append(r.Total))
        {
            var line = string.Create(Inv, $"{op.Name,-9} {op.Ok,7} {op.PerSecond,7:0.0} {op.P50,8:0.0} {op.P95,8:0.0} {op.P99,8:0.0} {op.Max,8:0.0} {op.Failed,7}");
            if (b is not null)
            {
                var toP95 = b.P95 is { } p95 ? Ratio(op.P95, p95) : "n/a";
                line += string.Create(Inv, $"   {Ratio(op.PerSecond, b.Tps),9}  {toP95,11}  {Ratio(op.P95, b.LatencyAverage),11}");
            }

            o.WriteLine(line);
        }

        o.WriteLine();
        var errors = r.Operations.SelectMany(op => op.Errors.Select(e => (op.Name, e.Key, e.Value))).ToList();
        o.WriteLine(errors.Count == 0 ? "Errors: none (every answer was 2xx)." : "Errors (operation, HTTP status, problem code: count):");
        foreach (var (name, key, count) in errors)
        {
            o.WriteLine(string.Create(Inv, $"  {name,-9} {key}: {count}"));
        }

        if (r.ServerPid is { } pid)
        {
            o.WriteLine(string.Create(Inv, $"Server memory (PID {pid}, VmRSS): {Mib(r.RssStart)} at start of the measured window, peak {Mib(r.RssPeak)}, end {Mib(r.RssEnd)}"));
        }

        var c = r.Cpu;
        var total = r.Total.Ok + r.Total.Failed;
        var serverPerRequest = c.Server is { } sc && total > 0 ? string.Create(Inv, $" ({sc * r.MeasuredSeconds * 1000 / total:0.00} ms CPU per request)") : "";
        var pgPerRequest = total > 0 ? string.Create(Inv, $" ({c.Postgres * r.MeasuredSeconds * 1000 / total:0.00} ms per request)") : "";
        var server = c.Server is { } s ? s.ToString("0.00", Inv) : "n/a";
        o.WriteLine(string.Create(Inv, $"CPU in the measured window, cores busy of {c.Cores}: Patron server {server}{serverPerRequest}, PostgreSQL {c.Postgres:0.00}{pgPerRequest}, "
            + $"this driver {c.Driver:0.00}, whole machine {c.Machine:0.00}"));

        if (r.LedgerMismatches is { } m)
        {
            o.WriteLine($"Ledger check after the load (balance = Σ entries = Σ lot remainders − debt): {m} member(s) off");
        }
    }

    private static string Ratio(double value, double baseline) => baseline > 0 ? string.Create(Inv, $"{value / baseline:0.00}x") : "n/a";

    private static string Mib(long? bytes) => bytes is { } b ? string.Create(Inv, $"{b / 1048576.0:0} MiB") : "n/a";
}
