using System.Globalization;

namespace Patron.Bench;

public static class PageReportPrinter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Print(TextWriter o, PageReport r)
    {
        o.WriteLine();
        o.WriteLine(string.Create(Inv, $"Console pages: {r.Iterations} measured rounds after {r.Warmup} warm-up, one request at a time; server ms from Server-Timing (app;dur), client ms to the last byte"));
        o.WriteLine(string.Create(Inv, $"busy member #{r.Target.MemberId} ({r.Target.Sales} sales, enrolled at {r.Target.StoreCode}); audit_log {r.Target.AuditRows:N0} rows; {r.Seconds:0} s"));
        o.WriteLine($"load average (1/5/15 min) before: {r.LoadBefore}, after: {r.LoadAfter}; {Environment.ProcessorCount} cores");
        o.WriteLine();

        var header = "user      page                        method status        n  p50 ms  p95 ms  max ms  p95÷login  client p50  client p95  p95≤" + r.LimitMs.ToString("0", Inv);
        o.WriteLine(header);
        o.WriteLine(new string('-', header.Length));
        foreach (var user in r.Results.GroupBy(x => x.User))
        {
            var baseline = user.First(x => x.Page == PageList.Baseline.Name);
            foreach (var x in user)
            {
                if (x.Absent)
                {
                    o.WriteLine($"{x.User,-9} {x.Page,-27} {x.Method,-6} absent (404 on this server)");
                    continue;
                }

                var ratio = baseline.P95 > 0 ? string.Create(Inv, $"{x.P95 / baseline.P95:0.0}x") : "n/a";
                var verdict = x.P95 <= r.LimitMs ? "yes" : "NO";
                var missing = x.MissingHeader > 0 ? $" ({x.MissingHeader} without Server-Timing)" : "";
                o.WriteLine(string.Create(Inv,
                    $"{x.User,-9} {Cut(x.Page, 27),-27} {x.Method,-6} {Cut(x.Statuses, 9),-9} {x.Count,5} {x.P50,7:0.0} {x.P95,7:0.0} {x.Max,7:0.0} {ratio,10} {x.ClientP50,11:0.0} {x.ClientP95,11:0.0}  {verdict}{missing}"));
            }

            o.WriteLine();
        }

        var slow = r.Results.Where(x => !x.Absent && x.P95 > r.LimitMs).ToList();
        o.WriteLine(slow.Count == 0
            ? string.Create(Inv, $"Every page's p95 server time is at most {r.LimitMs:0} ms.")
            : string.Create(Inv, $"Over {r.LimitMs:0} ms at p95 (server): ") + string.Join("; ", slow.Select(x => string.Create(Inv, $"{x.User} {x.Page} {x.P95:0} ms"))));
        var refused = r.Results.Where(x => !x.Absent && x.Statuses != "200").ToList();
        if (refused.Count > 0)
        {
            o.WriteLine("Not 200 (redirects to /denied are the role's refusals): " + string.Join("; ", refused.Select(x => $"{x.User} {x.Page} {x.Statuses}")));
        }
    }

    private static string Cut(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
}
