using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Points;
using Patron.Domain.Sales;
using Patron.Domain.StoredValue;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Coupons;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Checkout;

/// <summary>One line to return: its number on the sale and how many units (all that are left when omitted).</summary>
public sealed record ReturnLineRequest(int Line, int? Quantity = null);

/// <summary>
/// A return of a recorded sale, at the store that sold it (or <see cref="OriginalStoreId"/>).
/// Without lines the whole remainder of the sale comes back. <see cref="ReturnNumber"/> is the
/// POS's number for the return (a retry with it answers with the recorded return).
/// </summary>
public sealed record ReturnRequest(
    string? OrderNumber,
    IReadOnlyList<ReturnLineRequest>? Lines = null,
    string? ReturnNumber = null,
    long? StoreId = null,
    long? OriginalStoreId = null,
    DateTimeOffset? At = null);

/// <summary>
/// Returns lines of a sale within the program's return policy (window, non-returnable lines),
/// never beyond what was sold, taking back exactly the points the returned units earned. Points
/// already spent become points debt where the program allows it; otherwise the return is
/// refused and the store settles another way.
/// </summary>
public sealed class ReturnSale(PatronDb db, CommitSale checkout, ProgramRules programs, MemberLedger ledger, EarningEffects effects, CheckoutCoupons coupons, AuditLog audit)
{
    public async Task<SaleResult> HandleAsync(ReturnRequest r, CallerScope caller, CancellationToken ct)
    {
        var order = CheckoutInput.Order(r.OrderNumber);
        var (store, atUtc, localDate) = await checkout.PlaceAsync(r.StoreId, r.At, caller, ct);
        var originalStoreId = r.OriginalStoreId ?? store.Id;
        var returnNumber = r.ReturnNumber is null ? null : CheckoutInput.Order(r.ReturnNumber, "returnNumber");
        var hash = CheckoutInput.Hash(r with { StoreId = store.Id, OriginalStoreId = originalStoreId });
        if (returnNumber is not null && await checkout.ReplayAsync(store.Id, SaleKind.Return, returnNumber, hash, ct) is { } replay)
        {
            return replay;
        }

        var rules = await programs.InForceAsync(store.ProgramId, localDate, ct);
        try
        {
            return await Transactions.RunAsync(db, async ct =>
            {
                var probe = await db.Sales.AsNoTracking()
                    .Where(s => s.StoreId == originalStoreId && s.Kind == SaleKind.Sale && s.OrderNumber == order)
                    .Select(s => new { s.Id, s.MemberId, s.ProgramId })
                    .FirstOrDefaultAsync(ct);
                if (probe is null || probe.ProgramId != store.ProgramId)
                {
                    throw Problem.NotFound("sale.not_found", "No sale with this order number at this store.");
                }

                // Lock the member, then the sale row (a guarded update takes the row lock on
                // PostgreSQL, the write lock on SQLite): concurrent returns of one sale queue here.
                var m = probe.MemberId is { } memberId ? await ledger.OpenAsync(memberId, caller, atUtc, ct, localDate) : null;
                await db.Database.ExecuteSqlAsync($"UPDATE sales SET paid = paid WHERE id = {probe.Id}", ct);
                var sale = await db.Sales.Include(s => s.Lines).FirstAsync(s => s.Id == probe.Id, ct);
                CheckWindow(rules.Returns, sale, store.TimeZone, atUtc, localDate);
                var requested = Requested(r.Lines, sale, rules.Returns.NotReturnable);
                var count = await db.Sales.CountAsync(s => s.OriginalSaleId == sale.Id, ct);
                var ret = sale.Return(returnNumber ?? $"{order}-R{count + 1}", store.Id, atUtc, localDate, requested);
                ret.RequestHash = hash;
                ret.StaffId = caller.StaffId;
                ret.TerminalId = caller.TerminalId;
                db.Sales.Add(ret);
                await db.SaveChangesAsync(ct);
                var restored = await coupons.ReturnAsync(sale, atUtc, ct);
                if (m is null)
                {
                    audit.Record(caller, "sale.returned", store.Id, null, "sale", ret.Id, new { order, ret = ret.OrderNumber, refund = -ret.Paid });
                    return SaleResult.From(ret, null, null, null, null) with { Coupons = restored };
                }

                if (ret.PointsUsed < 0)
                {
                    // Points the member paid with come back first, as a fresh credit.
                    m.Points.Earn(-ret.PointsUsed, PointsCause.PaymentRefund, atUtc, m.ExpiresAt(atUtc), ret.OrderNumber);
                }

                if (ret.StoredValue < 0)
                {
                    // Stored value paid with comes back to the purse, principal and bonus as they were spent.
                    var purse = await ledger.OpenPurseAsync(m, ct);
                    purse.Credit(StoredValueCause.SpendReturn, -ret.StoredPrincipal, -ret.StoredBonus, store.Id, atUtc, ret.OrderNumber);
                }

                var reverse = -ret.Points;
                if (reverse > 0)
                {
                    try
                    {
                        var debt = m.Rules.PointsDebt;
                        m.Points.Spend(reverse, PointsCause.Return, atUtc, ret.OrderNumber, allowDebt: debt.Allowed, maxDebt: debt.Max == 0 ? null : debt.Max);
                    }
                    catch (DomainException e) when (e.Code == "points.insufficient")
                    {
                        throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "return.points_spent",
                            $"The return takes back {reverse} points, which have been spent; the program allows no (further) points debt. {e.Message}");
                    }

                    m.Account.CountEarned(-reverse);
                }

                m.Account.CountReturn(-(ret.Paid - ret.PointsValue), m.LocalDate(sale.At).Year);
                await effects.ReverseAsync(m, ret, sale.At, atUtc, ct);
                ledger.Stage(m, ret.Id, caller.StaffId, store.Id);
                audit.Record(caller, "sale.returned", store.Id, m.Member.Id, "sale", ret.Id, new { order, ret = ret.OrderNumber, refund = -ret.Paid, points = ret.Points });
                return SaleResult.From(ret, m.Points.Balance, m.Points.Debt, m.Account.Tier, null) with
                {
                    StoredValueAfter = m.Purse is { } p ? await StoredValue.TopUpStoredValue.BalanceAsync(db, m.Member.Id, p.Principal, p.Bonus, atUtc, ct) : null,
                    Coupons = restored,
                };
            }, ct);
        }
        catch (DbUpdateException) when (returnNumber is not null && db.Database.CurrentTransaction is null)
        {
            db.ChangeTracker.Clear();
            var first = await checkout.ReplayAsync(store.Id, SaleKind.Return, returnNumber, hash, ct);
            if (first is null)
            {
                throw;
            }

            return first;
        }
    }

    private static void CheckWindow(Domain.Programs.ReturnPolicy policy, Sale sale, string storeZone, DateTime atUtc, DateOnly localDate)
    {
        if (policy.WindowDays is not { } days)
        {
            return;
        }

        var elapsed = localDate.DayNumber - sale.LocalDate.DayNumber;
        var closed = elapsed > days;
        if (!closed && elapsed == days && policy.LastDayUntil is { } until)
        {
            var local = TimeZoneInfo.ConvertTimeFromUtc(atUtc, ProgramRules.Zone(storeZone));
            closed = TimeOnly.FromDateTime(local) >= TimeOnly.ParseExact(until, "HH:mm", CultureInfo.InvariantCulture);
        }

        if (closed)
        {
            var when = days == 0 ? "on the day of the sale" : $"within {days} days of the sale";
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "return.window_closed",
                $"Returns are accepted {when}{(policy.LastDayUntil is { } u ? $", until {u}" : "")}; this sale was on {sale.LocalDate:yyyy-MM-dd}.");
        }
    }

    private static List<(int LineNo, int Quantity)> Requested(IReadOnlyList<ReturnLineRequest>? lines, Sale sale, Domain.Programs.LineFilter notReturnable)
    {
        List<(int LineNo, int Quantity)> requested = lines is null || lines.Count == 0
            ? [.. sale.Lines.Where(l => l.Quantity > l.ReturnedQuantity).Select(l => (l.LineNo, l.Quantity - l.ReturnedQuantity))]
            : [.. lines.Select(l => (l.Line, l.Quantity ?? (sale.Lines.FirstOrDefault(x => x.LineNo == l.Line) is { } x ? x.Quantity - x.ReturnedQuantity : 0)))];
        if (requested.Count == 0)
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "return.nothing_left", "Everything on this sale has already been returned.");
        }

        for (var i = 0; i < requested.Count; i++)
        {
            var line = sale.Lines.FirstOrDefault(l => l.LineNo == requested[i].LineNo);
            if (line is not null && notReturnable.Matches(line.Sku, line.Category, line.Brand, line.FlagList))
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "return.not_returnable",
                    $"Line {line.LineNo} ({line.Name ?? line.Sku}) cannot be returned under the program's rules.",
                    [new DomainError("return.not_returnable", "This item cannot be returned.", $"lines[{i}]")]);
            }
        }

        return requested;
    }
}
