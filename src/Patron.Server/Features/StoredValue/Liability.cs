using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.StoredValue;

/// <summary>What is owed to members of one program, sold at one store in one month (program local time). Money in fen.</summary>
public sealed record LiabilityRow(long ProgramId, string Program, long StoreId, string StoreCode, string StoreName, string Month, long Principal, long Bonus, long Points, long PointsValue)
{
    public long StoredValue => Principal + Bonus;
}

public sealed record LiabilityTotals(long Principal, long Bonus, long Points, long PointsValue);

/// <summary>Outstanding stored value and points at a moment, by program, store of issue and month of issue, with totals.</summary>
public sealed record LiabilityReport(DateTime At, IReadOnlyList<LiabilityRow> Rows, LiabilityTotals Totals);

/// <summary>
/// The finance view of what members are owed: unspent principal and bonus of every stored-value
/// lot by the store and month it was sold in, and unspent points by the store and month they
/// were earned in, valued at the program's point cash value. It sums the ledger's lots, so it
/// equals the sum of the ledger entries exactly. Staff limited to some stores see those stores.
/// </summary>
public sealed class Liability(PatronDb db, ProgramRules programs, TimeProvider clock)
{
    /// <summary>The report now, for the caller's programs and stores, summed from the lots (exact).</summary>
    public async Task<LiabilityReport> GetAsync(CallerScope caller, long? programId, CancellationToken ct) =>
        For(await ComputeAsync(programId, caller.CanSeeProgram, ct), caller);

    /// <summary>The rows of a report the caller may see, with their totals.</summary>
    public static LiabilityReport For(LiabilityReport report, CallerScope caller)
    {
        var rows = report.Rows.Where(r => caller.CanSeeProgram(r.ProgramId) && caller.CanBrowseStore(r.StoreId)).ToList();
        return new LiabilityReport(report.At, rows, Totals(rows));
    }

    /// <summary>Every store's rows of the programs chosen, for everyone (filter with <see cref="For"/>).</summary>
    public async Task<LiabilityReport> ComputeAsync(long? programId, Func<long, bool> includeProgram, CancellationToken ct)
    {
        var at = clock.GetUtcNow().UtcDateTime;
        var visible = await db.Programs.AsNoTracking().Where(p => programId == null || p.Id == programId).Select(p => new { p.Id, p.Code }).ToListAsync(ct);
        var stores = await db.Stores.AsNoTracking().Select(s => new { s.Id, s.Code, s.Name }).ToDictionaryAsync(s => s.Id, ct);
        var rows = new List<LiabilityRow>();
        foreach (var program in visible.Where(p => includeProgram(p.Id)))
        {
            var zone = await programs.ZoneAsync(program.Id, ct);
            var minutes = zone.GetUtcOffset(at).TotalMinutes;
            var rules = await TryRulesAsync(program.Id, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(at, zone)), ct);

            var stored = await db.StoredValueLots.AsNoTracking()
                .Where(l => l.ProgramId == program.Id && (l.PrincipalLeft > 0 || l.BonusLeft > 0))
                .GroupBy(l => new { l.StoreId, l.IssuedAt.AddMinutes(minutes).Year, l.IssuedAt.AddMinutes(minutes).Month })
                .Select(g => new { g.Key.StoreId, g.Key.Year, g.Key.Month, Principal = g.Sum(l => l.PrincipalLeft), Bonus = g.Sum(l => l.BonusLeft) })
                .ToListAsync(ct);
            var points = await (
                    from lot in db.PointsLots.AsNoTracking()
                    join member in db.Members.AsNoTracking() on lot.MemberId equals member.Id
                    where member.ProgramId == program.Id && lot.Remaining > 0
                    group lot by new { StoreId = lot.StoreId ?? member.EnrolStoreId, lot.EarnedAt.AddMinutes(minutes).Year, lot.EarnedAt.AddMinutes(minutes).Month } into g
                    select new { g.Key.StoreId, g.Key.Year, g.Key.Month, Points = g.Sum(l => l.Remaining) })
                .ToListAsync(ct);

            var keys = stored.Select(s => (s.StoreId, s.Year, s.Month)).Union(points.Select(p => (p.StoreId, p.Year, p.Month)));
            foreach (var (storeId, year, month) in keys.Order())
            {
                var sv = stored.FirstOrDefault(s => s.StoreId == storeId && s.Year == year && s.Month == month);
                var pts = points.FirstOrDefault(p => p.StoreId == storeId && p.Year == year && p.Month == month)?.Points ?? 0;
                var store = stores.GetValueOrDefault(storeId);
                rows.Add(new LiabilityRow(program.Id, program.Code, storeId, store?.Code ?? "", store?.Name ?? "", $"{year:D4}-{month:D2}",
                    sv?.Principal ?? 0, sv?.Bonus ?? 0, pts, (long)Math.Round(pts * (rules?.PointCashValue ?? 0), MidpointRounding.AwayFromZero)));
            }
        }

        return new LiabilityReport(at, rows, Totals(rows));
    }

    private static LiabilityTotals Totals(IReadOnlyList<LiabilityRow> rows) =>
        new(rows.Sum(r => r.Principal), rows.Sum(r => r.Bonus), rows.Sum(r => r.Points), rows.Sum(r => r.PointsValue));

    /// <summary>The report as CSV for Excel: UTF-8 with a byte-order mark, amounts in yuan with two decimals.</summary>
    public static byte[] Csv(LiabilityReport report)
    {
        var csv = new StringBuilder();
        csv.Append("program,store_code,store_name,month,principal,bonus,stored_value,points,points_value\r\n");
        foreach (var r in report.Rows)
        {
            csv.Append(string.Join(',', Infrastructure.Export.ExcelCsv.Cell(r.Program), Infrastructure.Export.ExcelCsv.Cell(r.StoreCode), Infrastructure.Export.ExcelCsv.Cell(r.StoreName), r.Month, Yuan(r.Principal), Yuan(r.Bonus), Yuan(r.StoredValue),
                r.Points.ToString(CultureInfo.InvariantCulture), Yuan(r.PointsValue))).Append("\r\n");
        }

        var t = report.Totals;
        csv.Append(string.Join(',', "total", "", "", "", Yuan(t.Principal), Yuan(t.Bonus), Yuan(t.Principal + t.Bonus), t.Points.ToString(CultureInfo.InvariantCulture), Yuan(t.PointsValue))).Append("\r\n");
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(csv.ToString())];
    }

    private async Task<Domain.Programs.ProgramDefinition?> TryRulesAsync(long programId, DateOnly date, CancellationToken ct)
    {
        try
        {
            return await programs.InForceAsync(programId, date, ct);
        }
        catch (Infrastructure.Problems.ProblemException)
        {
            return null;
        }
    }

    private static string Yuan(long fen) => (fen / 100m).ToString("0.00", CultureInfo.InvariantCulture);
}
