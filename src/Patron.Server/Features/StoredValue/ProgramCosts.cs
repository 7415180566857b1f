using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Rewards;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.StoredValue;

/// <summary>
/// What the program cost and earned at one store in one month (local time), in fen: redemptions at
/// their items' value (cancelled ones left out), coupon discounts given and their cost (uses of
/// sales returned whole left out), and card fees charged.
/// </summary>
public sealed record CostRow(long StoreId, string StoreCode, string StoreName, string Month, int Redemptions, long RedemptionValue, int CouponUses, long CouponDiscount, long CouponCost, int CardFees, long CardFeeTotal);

public sealed record CostReport(DateOnly From, DateOnly To, IReadOnlyList<CostRow> Rows)
{
    public long RedemptionValue => Rows.Sum(r => r.RedemptionValue);

    public long CouponDiscount => Rows.Sum(r => r.CouponDiscount);

    public long CouponCost => Rows.Sum(r => r.CouponCost);

    public long CardFeeTotal => Rows.Sum(r => r.CardFeeTotal);
}

/// <summary>The finance view's costs and fees, by store and month, for the caller's stores.</summary>
public sealed class ProgramCosts(PatronDb db)
{
    public const int MaxDays = 731;

    /// <summary>The report as CSV for Excel: UTF-8 with a byte-order mark, amounts in yuan with two decimals, a total row.</summary>
    public static byte[] Csv(CostReport report)
    {
        static string Yuan(long fen) => (fen / 100m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        static string N(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var csv = new System.Text.StringBuilder("store_code,store_name,month,redemptions,redemption_value,coupon_uses,coupon_discount,coupon_cost,card_fees,card_fee_total\r\n");
        foreach (var r in report.Rows)
        {
            csv.Append(string.Join(',', Infrastructure.Export.ExcelCsv.Cell(r.StoreCode), Infrastructure.Export.ExcelCsv.Cell(r.StoreName), r.Month, N(r.Redemptions), Yuan(r.RedemptionValue),
                N(r.CouponUses), Yuan(r.CouponDiscount), Yuan(r.CouponCost), N(r.CardFees), Yuan(r.CardFeeTotal))).Append("\r\n");
        }

        csv.Append(string.Join(',', "total", "", "", N(report.Rows.Sum(r => r.Redemptions)), Yuan(report.RedemptionValue), N(report.Rows.Sum(r => r.CouponUses)), Yuan(report.CouponDiscount),
            Yuan(report.CouponCost), N(report.Rows.Sum(r => r.CardFees)), Yuan(report.CardFeeTotal))).Append("\r\n");
        return [.. System.Text.Encoding.UTF8.GetPreamble(), .. System.Text.Encoding.UTF8.GetBytes(csv.ToString())];
    }

    public async Task<CostReport> GetAsync(DateOnly from, DateOnly to, CallerScope caller, CancellationToken ct)
    {
        if (to < from || to.DayNumber - from.DayNumber >= MaxDays)
        {
            throw Problem.Invalid("report.period_invalid", $"The period runs forward and is at most {MaxDays} days.", "to");
        }

        var zone = Programs.ProgramRules.Zone(Domain.Organisation.Store.DefaultTimeZone);
        var start = TimeZoneInfo.ConvertTimeToUtc(from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone);
        var end = TimeZoneInfo.ConvertTimeToUtc(to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone);
        var minutes = zone.GetUtcOffset(start).TotalMinutes;
        var stores = await db.Stores.AsNoTracking().Select(s => new { s.Id, s.Code, s.Name, s.ProgramId }).ToListAsync(ct);
        var visible = stores.Where(s => caller.CanSeeProgram(s.ProgramId) && caller.CanBrowseStore(s.Id)).Select(s => s.Id).ToList();

        var redemptions = await db.Redemptions.AsNoTracking()
            .Where(r => r.At >= start && r.At < end && r.Status != RedemptionStatus.Cancelled && visible.Contains(r.StoreId))
            .GroupBy(r => new { r.StoreId, r.At.AddMinutes(minutes).Year, r.At.AddMinutes(minutes).Month })
            .Select(g => new { g.Key.StoreId, g.Key.Year, g.Key.Month, Count = g.Count(), Value = g.Sum(r => r.Value) })
            .ToListAsync(ct);
        var coupons = await db.CouponUses.AsNoTracking()
            .Where(u => u.At >= start && u.At < end && u.ReturnedAt == null && visible.Contains(u.StoreId))
            .GroupBy(u => new { u.StoreId, u.At.AddMinutes(minutes).Year, u.At.AddMinutes(minutes).Month })
            .Select(g => new { g.Key.StoreId, g.Key.Year, g.Key.Month, Count = g.Count(), Discount = g.Sum(u => u.Discount), Cost = g.Sum(u => u.Cost) })
            .ToListAsync(ct);
        var fees = await db.CardEvents.AsNoTracking()
            .Where(e => e.At >= start && e.At < end && e.Fee > 0 && visible.Contains(e.StoreId))
            .GroupBy(e => new { e.StoreId, e.At.AddMinutes(minutes).Year, e.At.AddMinutes(minutes).Month })
            .Select(g => new { g.Key.StoreId, g.Key.Year, g.Key.Month, Count = g.Count(), Fee = g.Sum(e => e.Fee) })
            .ToListAsync(ct);

        var keys = redemptions.Select(x => (x.StoreId, x.Year, x.Month))
            .Union(coupons.Select(x => (x.StoreId, x.Year, x.Month)))
            .Union(fees.Select(x => (x.StoreId, x.Year, x.Month)))
            .Order();
        var rows = new List<CostRow>();
        foreach (var (storeId, year, month) in keys)
        {
            var store = stores.First(s => s.Id == storeId);
            var r = redemptions.FirstOrDefault(x => x.StoreId == storeId && x.Year == year && x.Month == month);
            var c = coupons.FirstOrDefault(x => x.StoreId == storeId && x.Year == year && x.Month == month);
            var f = fees.FirstOrDefault(x => x.StoreId == storeId && x.Year == year && x.Month == month);
            rows.Add(new CostRow(storeId, store.Code, store.Name, $"{year:D4}-{month:D2}", r?.Count ?? 0, r?.Value ?? 0, c?.Count ?? 0, c?.Discount ?? 0, c?.Cost ?? 0, f?.Count ?? 0, f?.Fee ?? 0));
        }

        return new CostReport(from, to, rows);
    }
}
