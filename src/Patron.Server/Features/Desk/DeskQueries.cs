using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Sales;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Coupons;
using Patron.Server.Features.Members;
using Patron.Server.Features.Points;
using Patron.Server.Features.StoredValue;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Desk;

/// <summary>A card on the desk's member panel: its state and, when it cannot be used, why (the refusal code and the last card event's note).</summary>
public sealed record DeskCard(long Id, string Number, string Kind, string Status, bool Usable, string? Reason, DateTime? ValidUntil, bool Expired, string? Note);

/// <summary>
/// What the cashier sees on picking a member: masked name and phone, cards and their states,
/// tier, points and what expires soon, stored value, the coupons held, and whether drug
/// allergies are on file (how many, never which: the quote names the ones a basket hits).
/// </summary>
public sealed record DeskPanel(
    MemberView Member,
    string MaskedName,
    IReadOnlyList<DeskCard> Cards,
    bool Lapsed,
    DateTime? ValidUntil,
    string? Tier,
    string? TierName,
    PointsSummary? Points,
    string? PointsUnavailable,
    StoredValueBalance? StoredValue,
    IReadOnlyList<IssuedCouponView> Coupons,
    HealthSummary Health);

/// <summary>A recorded sale or return as the desk's receipt shows it.</summary>
public sealed record DeskReceipt(
    Sale Sale,
    string StoreName,
    string StoreCode,
    string? MemberName,
    string? MemberMobile,
    IReadOnlyList<AppliedCouponView> Coupons,
    long? PointsAfter,
    long? StoredValueAfter,
    Sale? Original,
    IReadOnlyList<Sale> Returns,
    IReadOnlyDictionary<int, string?> OriginalNames)
{
    public bool IsReturn => Sale.Kind == SaleKind.Return;

    /// <summary>Paid in money (cash, bank card …): what was paid less points and stored value.</summary>
    public long Money => Sale.Paid - Sale.PointsValue - Sale.StoredPrincipal - Sale.StoredBonus;
}

/// <summary>
/// The cashier desk's reads: the search box (card, phone, ID number, name + phone tail, or a
/// member QR token), the member panel and the receipts, each within the caller's programs (a
/// member or sale of another chain is not found).
/// </summary>
public sealed partial class DeskQueries(
    PatronDb db,
    FindMembers find,
    MemberQrTokens tokens,
    PointsQueries points,
    StoredValueQueries stored,
    Cards.CardOperations cards,
    HealthFile health,
    CheckoutCoupons coupons,
    TimeProvider clock)
{
    /// <summary>Members matching the box: a QR token first (it is long and unlike anything else), then the members search.</summary>
    public async Task<IReadOnlyList<MemberView>> SearchAsync(string? query, CallerScope caller, CancellationToken ct)
    {
        var q = (query ?? "").Trim();
        if (q.Length > 64 && QrShape().IsMatch(q))
        {
            var id = tokens.Read(q);
            return [await find.GetAsync(id, caller, ct, anyStoreOfProgram: true)];
        }

        return await find.SearchAsync(q, caller, ct);
    }

    public async Task<DeskPanel> PanelAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await find.GetAsync(memberId, caller, ct, anyStoreOfProgram: true);
        var cardList = await cards.ListAsync(memberId, caller, ct);
        var notes = cardList.Events.GroupBy(e => e.CardId).ToDictionary(g => g.Key, g => g.First().Note);
        var deskCards = cardList.Cards
            .Select(c => new DeskCard(c.Id, c.Number, c.Kind, c.Status, c.Usable && !c.Expired, c.Reason ?? (c.Expired ? "card.lapsed" : null), c.ValidUntil, c.Expired, notes.GetValueOrDefault(c.Id)))
            .ToList();
        PointsSummary? summary = null;
        string? unavailable = null;
        string? tierName = null;
        try
        {
            summary = await points.GetAsync(memberId, caller, ct, history: false);
            tierName = (await points.RulesAsync(member.ProgramId, ct)).FindTier(summary.Tier)?.Name;
        }
        catch (ProblemException p) when (p.Code == "program.not_in_force")
        {
            unavailable = p.Code;
        }

        var balance = (await stored.GetAsync(memberId, caller, ct, history: false)).Balance;
        var now = clock.GetUtcNow().UtcDateTime;
        var held = (summary?.Coupons ?? []).Where(c => c.ExpiresAt is null || c.ExpiresAt > now).ToList();
        var healthSummary = await health.SummaryAsync(memberId, caller, ct);
        return new DeskPanel(member, Masking.Name(member.Name), deskCards, cardList.Lapsed, cardList.ValidUntil, summary?.Tier, tierName, summary, unavailable, balance, held, healthSummary);
    }

    /// <summary>
    /// A sale or return made at one of the caller's stores (head office: any), with its lines, coupons
    /// and the member's balances as of it. Another store's receipt is "not found": ids are sequential,
    /// and a receipt opens its return form.
    /// </summary>
    public async Task<DeskReceipt> ReceiptAsync(long saleId, CallerScope caller, CancellationToken ct)
    {
        var sale = await db.Sales.AsNoTracking().Include(s => s.Lines).FirstOrDefaultAsync(s => s.Id == saleId, ct);
        if (sale is null || !caller.CanSeeProgram(sale.ProgramId) || !caller.CanBrowseStore(sale.StoreId))
        {
            throw Problem.NotFound("sale.not_found", "No such sale in your stores.");
        }

        var store = await db.Stores.AsNoTracking().Where(s => s.Id == sale.StoreId).Select(s => new { s.Name, s.Code }).FirstAsync(ct);
        string? name = null, mobile = null;
        long? pointsAfter = null, storedAfter = null;
        if (sale.MemberId is { } memberId)
        {
            var member = await db.Members.AsNoTracking().Where(m => m.Id == memberId).Select(m => new { m.Name, m.Mobile }).FirstAsync(ct);
            name = Masking.Name(member.Name);
            mobile = Masking.Phone(member.Mobile);

            // Balances as of the sale: the ledgers' entries up to its time (a balance is the sum of its entries).
            var at = sale.At;
            pointsAfter = await db.PointsEntries.Where(e => e.MemberId == memberId && e.At <= at).SumAsync(e => (long?)e.Points, ct) ?? 0;
            storedAfter = await db.StoredValueEntries.Where(e => e.MemberId == memberId && e.At <= at).SumAsync(e => (long?)(e.Principal + e.Bonus), ct) ?? 0;
        }

        var original = sale.OriginalSaleId is { } o ? await db.Sales.AsNoTracking().Include(s => s.Lines).FirstAsync(s => s.Id == o, ct) : null;
        var returns = sale.Kind == SaleKind.Sale
            ? await db.Sales.AsNoTracking().Where(s => s.OriginalSaleId == sale.Id).OrderBy(s => s.Id).ToListAsync(ct)
            : [];
        var applied = sale.Kind == SaleKind.Sale ? await coupons.OfSaleAsync(sale.Id, ct) : [];
        var originalNames = (original?.Lines ?? []).ToDictionary(l => l.LineNo, l => l.Name);
        return new DeskReceipt(sale, store.Name, store.Code, name, mobile, applied, pointsAfter, storedAfter, original, returns, originalNames);
    }

    /// <summary>Yuan as typed, strictly: digits with at most two decimals, to fen; null when it is not that.</summary>
    public static long? ParseYuan(string? text)
    {
        var t = Ascii(text);
        if (!YuanShape().IsMatch(t))
        {
            return null;
        }

        var value = decimal.Parse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        return (long)(value * 100);
    }

    public static string Yuan(long fen) => (fen / 100m).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>The text trimmed, with full-width digits and points and the ideographic full stop (typed with a Chinese input method) made ASCII.</summary>
    public static string Ascii(string? text) => (text ?? "").Normalize(System.Text.NormalizationForm.FormKC).Replace('。', '.').Trim();

    [GeneratedRegex(@"^[0-9]{1,9}(\.[0-9]{1,2})?$")]
    private static partial Regex YuanShape();

    [GeneratedRegex(@"^[A-Za-z0-9_\-]+$")]
    private static partial Regex QrShape();
}
