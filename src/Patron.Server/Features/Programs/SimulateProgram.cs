using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Pricing;
using Patron.Domain.Programs;
using Patron.Domain.Sales;
using Patron.Domain.Tiers;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs;

public sealed record SimulationRequest(DateOnly? From, DateOnly? To);

/// <summary>What one set of rules gives over the period: money in fen, points, and members per tier.</summary>
public sealed record SimulationSide(int Version, long Amount, long Discount, long Paid, long PointsIssued, IReadOnlyDictionary<string, int> Tiers, long PointsOutstanding, long LiabilityFen);

public sealed record SimulationReport(DateOnly From, DateOnly To, int Sales, int Members, bool Truncated, SimulationSide Current, SimulationSide Draft, long PointsDelta, long DiscountDelta, IReadOnlyList<string> Assumptions);

/// <summary>
/// Runs a draft version over the stored sales of a period and sets its results beside what the
/// rules in force actually gave: discount cost, points issued, tier distribution and points
/// liability. Reads only; nothing is written. Members keep their birthdays; their tier under the
/// draft is re-qualified from their current counters, and payment methods (not stored with
/// sales) are not taken into account.
/// </summary>
public sealed class SimulateProgram(PatronDb db, ProgramRules programs, TimeProvider clock)
{
    public const int MaxSales = 200_000;
    private const int Batch = 2_000;

    /// <summary>Runs the simulation; <paramref name="progress"/> hears the fraction of the period's sales counted so far.</summary>
    public async Task<SimulationReport> RunAsync(long programId, int version, SimulationRequest r, CallerScope caller, CancellationToken ct, IProgress<double>? progress = null)
    {
        if (!caller.CanSeeProgram(programId) || !await db.Programs.AnyAsync(p => p.Id == programId, ct))
        {
            throw Problem.NotFound("program.not_found", "The program does not exist.");
        }

        var draftVersion = await db.ProgramVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ProgramId == programId && v.Version == version, ct)
            ?? throw Problem.NotFound("program.version_not_found", "No such version of this program.");
        var draft = draftVersion.Rules;
        var zone = await programs.ZoneAsync(programId, ct);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(clock.GetUtcNow().UtcDateTime, zone));
        var to = r.To ?? today;
        var from = r.From ?? to.AddDays(-90);
        if (from > to || to.DayNumber - from.DayNumber > 3 * 366)
        {
            throw Problem.Invalid("simulation.period_invalid", "The period runs forward and spans at most three years.", "from");
        }

        var current = await programs.InForceAsync(programId, today, ct);
        var currentVersion = current.Version;
        var accounts = await db.MemberAccounts.AsNoTracking().Where(a => a.ProgramId == programId)
            .Select(a => new { a.MemberId, a.Tier, a.CumulativeEarned, a.CumulativeSpend, a.LargestPurchase, a.LargestTopUp, a.Balance })
            .ToDictionaryAsync(a => a.MemberId, ct);
        var draftTiers = accounts.Values.ToDictionary(
            a => a.MemberId,
            a => DraftTier(draft, a.Tier, new TierCounters(a.CumulativeEarned, a.CumulativeSpend, a.LargestPurchase, a.LargestTopUp)));
        var birthdays = await db.Members.AsNoTracking().Where(m => m.ProgramId == programId && m.Birthday != null)
            .Select(m => new { m.Id, m.Birthday }).ToDictionaryAsync(m => m.Id, m => m.Birthday, ct);

        long cAmount = 0, cDiscount = 0, cPaid = 0, cPoints = 0, dDiscount = 0, dPaid = 0, dPoints = 0;
        var sales = 0;
        var members = new HashSet<long>();
        long lastId = 0;
        var truncated = false;
        var period = db.Sales.AsNoTracking()
            .Where(s => s.ProgramId == programId && s.Kind == SaleKind.Sale && s.MemberId != null && s.LocalDate >= from && s.LocalDate <= to);
        var total = progress is null ? 0 : Math.Min(await period.CountAsync(ct), MaxSales);
        progress?.Report(0);
        while (true)
        {
            var batch = await period.Include(s => s.Lines)
                .Where(s => s.Id > lastId)
                .OrderBy(s => s.Id).Take(Batch).ToListAsync(ct);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var sale in batch)
            {
                var memberId = sale.MemberId!.Value;
                var basket = sale.Lines.OrderBy(l => l.LineNo)
                    .Select(l => new BasketLine(l.Sku, l.Quantity, l.UnitPrice, l.Category, l.Brand, l.FlagList, l.Name)).ToList();
                var quote = PricingEngine.Quote(draft, basket, new PricingMember(draftTiers.GetValueOrDefault(memberId) ?? draft.EntryTier?.Code, birthdays.GetValueOrDefault(memberId)), sale.LocalDate);
                cAmount += sale.Amount;
                cDiscount += sale.Discount;
                cPaid += sale.Paid;
                cPoints += sale.Points;
                dDiscount += quote.Discount;
                dPaid += quote.Payable;
                dPoints += quote.Points;
                members.Add(memberId);
                sales++;
            }

            lastId = batch[^1].Id;
            progress?.Report(total == 0 ? 1 : Math.Min(1, (double)sales / total));
            if (sales >= MaxSales)
            {
                truncated = true;
                break;
            }
        }

        var outstanding = accounts.Values.Sum(a => a.Balance);
        var draftOutstanding = Math.Max(0, outstanding + dPoints - cPoints);
        return new SimulationReport(
            from,
            to,
            sales,
            members.Count,
            truncated,
            new SimulationSide(currentVersion, cAmount, cDiscount, cPaid, cPoints, Distribution(accounts.Values.Select(a => a.Tier ?? current.EntryTier?.Code)), outstanding, Liability(current, outstanding)),
            new SimulationSide(version, cAmount, dDiscount, dPaid, dPoints, Distribution(draftTiers.Values), draftOutstanding, Liability(draft, draftOutstanding)),
            dPoints - cPoints,
            dDiscount - cDiscount,
            [
                "Members keep their birthdays; their tier under the draft is re-qualified from their current counters.",
                "Payment methods are not stored with sales, so payment exclusions are not applied.",
                "Points outstanding under the draft are today's balances plus the difference in points issued over the period.",
            ]);
    }

    private static string? DraftTier(ProgramDefinition draft, string? currentTier, TierCounters counters)
    {
        // A tier head office granted by hand is kept when the draft still has it.
        var kept = draft.FindTier(currentTier) is { Qualification.Kind: TierQualificationKind.Manual } ? currentTier : null;
        return TierEvaluator.AfterEvent(draft, kept, counters);
    }

    private static Dictionary<string, int> Distribution(IEnumerable<string?> tiers) =>
        tiers.GroupBy(t => t ?? "-").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    private static long Liability(ProgramDefinition rules, long points) =>
        (long)decimal.Round(points * rules.PointCashValue, MidpointRounding.AwayFromZero);
}
