using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Organisation;
using Patron.Domain.Points;
using Patron.Domain.Pricing;
using Patron.Domain.Programs;
using Patron.Domain.Sales;
using Patron.Server.Features.Cards;
using Patron.Server.Features.Coupons;
using Patron.Server.Features.Members;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Features.StoredValue;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Checkout;

/// <summary>
/// Prices a basket (quote, no side effects) and records a sale (commit) with the same
/// calculation: member prices and discounts per line, points earned on the eligible paid
/// amount, then the program's consequences (tier, conversions, milestones, entitlements), all in
/// one transaction under the member's lock. A sale is keyed by (store, order number): a retry
/// with the same body answers with the recorded sale; a different body with a used number is
/// refused.
/// </summary>
public sealed class CommitSale(PatronDb db, ProgramRules programs, MemberLedger ledger, EarningEffects effects, EnrollMember enrol, CardOperations cards, CheckoutCoupons coupons,
    HealthFile health, Audit.AuditLog audit, TimeProvider clock)
{
    public static readonly TimeSpan OfflineWindow = TimeSpan.FromDays(7);

    public async Task<QuoteResult> QuoteAsync(SaleRequest r, CallerScope caller, CancellationToken ct)
    {
        var basket = CheckoutInput.Basket(r.Lines);
        var payments = CheckoutInput.Payments(r.Payments);
        var codes = CheckoutInput.Coupons(r.Coupons);
        var (store, atUtc, localDate) = await PlaceAsync(r, caller, ct);
        var (memberId, card) = await MemberOfAsync(r.MemberId, r.CardNumber, store, caller, ct);
        var rules = await programs.InForceAsync(store.ProgramId, localDate, ct);
        var named = CheckoutCoupons.Inputs(await coupons.LoadAsync(codes, store.ProgramId, memberId, atUtc, ct));
        if (memberId is not { } id)
        {
            return QuoteResult.From(PricingEngine.Quote(rules, basket, null, localDate, payments, named, store.Code), null, null, null);
        }

        var member = await db.Members.AsNoTracking().FirstAsync(m => m.Id == id, ct);
        var account = await db.MemberAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.MemberId == id, ct);
        var standing = await CardStanding.OfAsync(db, id, atUtc, ct);
        var tier = card?.Tier ?? account?.Tier ?? rules.EntryTier?.Code;
        var pricing = standing.Lapsed ? null : new PricingMember(tier, member.Birthday);
        var quote = PricingEngine.Quote(rules, basket, pricing, localDate, payments, named, store.Code);
        var balance = account?.Balance ?? 0;
        var policy = rules.PointsPayment;
        var max = account?.Debt > 0 ? 0 : policy.MaxPoints(quote.Payable, balance);
        if (r.PointsToUse is > 0 and var use)
        {
            payments.Add(new Payment(Payment.Points, PointsValue(policy, use, max)));
            quote = PricingEngine.Quote(rules, basket, pricing, localDate, payments, named, store.Code);
        }

        var payWith = new PointsPaymentView(policy.Allowed, Math.Max(0, balance), max, policy.ValueOf(max), policy.PointsPerYuan, policy.Step);
        var options = await coupons.OptionsAsync(rules, basket, pricing, localDate, store.Code, store.ProgramId, id, atUtc, ct);
        var stored = card is { Kind: CardKind.SubCard } ? null
            : new StoredValueBalance(account?.StoredPrincipal ?? 0, account?.StoredBonus ?? 0, (account?.StoredPrincipal ?? 0) + (account?.StoredBonus ?? 0), standing.Lapsed, standing.ValidUntil);
        // A sub-card's holder is somebody else: the principal's health file is not theirs.
        var allergies = card is { Kind: CardKind.SubCard } ? [] : await health.AllergiesAsync(id, Tags(r), ct);
        return QuoteResult.From(quote, id, tier, balance, payWith, options) with
        {
            AllergyWarnings = allergies,
            StoredValue = stored,
            Warnings = [.. standing.Lapsed ? ["card.lapsed"] : Array.Empty<string>(), .. allergies.Count > 0 ? ["allergy"] : Array.Empty<string>()],
        };
    }

    public async Task<SaleResult> HandleAsync(SaleRequest r, CallerScope caller, CancellationToken ct)
    {
        var order = CheckoutInput.Order(r.OrderNumber);
        var basket = CheckoutInput.Basket(r.Lines);
        var payments = CheckoutInput.Payments(r.Payments);
        var codes = CheckoutInput.Coupons(r.Coupons);
        if (r.PointsToUse is < 0 || (r.PointsToUse > 0 && r.MemberId is null && r.CardNumber is null))
        {
            throw Problem.Invalid("points.payment_invalid", "Points pay only for an identified member's sale, and never a negative number.", "pointsToUse");
        }

        var storedValue = payments.Where(p => p.Method == Payment.StoredValue).Sum(p => p.Amount);
        if (storedValue > 0 && r.MemberId is null && r.CardNumber is null)
        {
            throw Problem.Invalid("stored_value.member_required", "Stored value pays only for an identified member's sale.", "payments");
        }

        if (r.Enrol is not null && (r.MemberId is not null || r.CardNumber is not null))
        {
            throw Problem.Invalid("sale.member_ambiguous", "Either name a member or enrol one, not both.", "enrol");
        }

        var (store, atUtc, localDate) = await PlaceAsync(r, caller, ct);
        var hash = CheckoutInput.Hash(r with { StoreId = store.Id, OrderNumber = order });
        if (await ReplayAsync(store.Id, SaleKind.Sale, order, hash, ct) is { } replay)
        {
            return replay;
        }

        var rules = await programs.InForceAsync(store.ProgramId, localDate, ct);
        var (memberId, card) = r.Enrol is null ? await MemberOfAsync(r.MemberId, r.CardNumber, store, caller, ct) : (null, null);
        if (storedValue > 0 && card is { Kind: CardKind.SubCard })
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.sub_card", "A sub-card has no balance of its own; the principal member pays with stored value.");
        }

        var qualifying = rules.Enrolment.Brand is { } brand ? basket.Where(l => l.Brand == brand).Sum(l => l.Amount) : basket.Sum(l => l.Amount);
        if (r.Enrol is not null && qualifying < rules.Enrolment.MinimumPurchase)
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "enrolment.purchase_too_small",
                $"Joining takes a single purchase{(rules.Enrolment.Brand is { } b ? $" of {b}" : "")} of at least ¥{rules.Enrolment.MinimumPurchase / 100m:0.00}.");
        }

        try
        {
            return await Transactions.RunAsync(db, async ct =>
            {
                var earns = true;
                if (r.Enrol is not null)
                {
                    var joined = await enrol.HandleAsync(r.Enrol with { StoreId = store.Id }, caller, ct);
                    memberId = joined.Id;
                    earns = rules.Enrolment.QualifyingPurchaseEarns;
                }

                var named = await coupons.LoadAsync(codes, store.ProgramId, memberId, atUtc, ct);
                var inputs = CheckoutCoupons.Inputs(named);
                if (memberId is not { } id)
                {
                    var quoteAnonymous = PricingEngine.Quote(rules, basket, null, localDate, payments, inputs, store.Code);
                    var anonymous = Record(store, null, order, atUtc, localDate, basket, quoteAnonymous, hash, caller);
                    await db.SaveChangesAsync(ct);
                    await coupons.ConsumeAsync(anonymous, named, quoteAnonymous, atUtc, ct);
                    return SaleResult.From(anonymous, null, null, null, null) with { Coupons = [.. quoteAnonymous.Coupons.Select(AppliedCouponView.From)] };
                }

                if (!earns)
                {
                    // The qualifying purchase of a new member, priced and earning as a non-member's
                    // under the program's policy, but theirs: it counts in their spending.
                    var joined = await ledger.OpenAsync(id, caller, atUtc, ct, localDate);
                    var plainQuote = PricingEngine.Quote(rules, basket, null, localDate, payments, inputs, store.Code);
                    var plain = Record(store, id, order, atUtc, localDate, basket, plainQuote, hash, caller);
                    await db.SaveChangesAsync(ct);
                    await coupons.ConsumeAsync(plain, named, plainQuote, atUtc, ct);
                    joined.Account.CountSpend(plain.Paid, joined.LocalDate(atUtc).Year, atUtc);
                    ledger.Stage(joined, plain.Id, caller.StaffId, store.Id);
                    return SaleResult.From(plain, joined.Points.Balance, joined.Points.Debt, joined.Account.Tier, null);
                }

                var m = await ledger.OpenAsync(id, caller, atUtc, ct, localDate);
                var allergies = card is { Kind: CardKind.SubCard } ? [] : await health.AllergiesAsync(id, Tags(r), ct);
                if (allergies.Count > 0 && !r.AllergiesAcknowledged)
                {
                    throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "allergy.unacknowledged",
                        "The basket has products the member is recorded as allergic to; the pharmacist must acknowledge it (allergiesAcknowledged) before the sale.",
                        [.. allergies.Select(a => new Domain.Common.DomainError("allergy.unacknowledged", $"Line {a.Line} ({a.Sku}) matches a recorded allergy.", $"lines[{a.Line - 1}]"))]);
                }

                var standing = await CardStanding.OfAsync(db, id, atUtc, ct);
                if (storedValue > 0 && standing.Lapsed)
                {
                    throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "stored_value.frozen",
                        $"The card's validity ended on {standing.ValidUntil:yyyy-MM-dd}: its balance is frozen, not lost, until a top-up or renewal.");
                }

                if (storedValue > 0)
                {
                    standing.EnsureNotFrozen(); // frozen by staff, also when the member is named by id
                }

                // A lapsed card identifies its member, whose benefits have stopped: priced and
                // earning as a non-member's, recorded as theirs.
                var pricing = standing.Lapsed ? null : new PricingMember(card?.Tier ?? m.Account.Tier, m.Member.Birthday);
                var quote = PricingEngine.Quote(m.Rules, basket, pricing, localDate, payments, inputs, store.Code);
                m.Points.Expire(atUtc);
                long pointsValue = 0;
                if (r.PointsToUse is > 0 and var use)
                {
                    var max = m.Points.Debt > 0 ? 0 : m.Rules.PointsPayment.MaxPoints(quote.Payable, m.Points.Balance);
                    pointsValue = PointsValue(m.Rules.PointsPayment, use, max);
                    quote = PricingEngine.Quote(m.Rules, basket, pricing, localDate, [.. payments, new Payment(Payment.Points, pointsValue)], inputs, store.Code);
                }

                if (storedValue > quote.Payable - pointsValue)
                {
                    throw Problem.Invalid("stored_value.over_payable", $"Stored value pays at most what is left to pay, ¥{(quote.Payable - pointsValue) / 100m:0.00}.", "payments");
                }

                var sale = Record(store, id, order, atUtc, localDate, basket, quote, hash, caller);
                if (r.PointsToUse is > 0 and var used)
                {
                    sale.PayWithPoints(used, pointsValue);
                    m.Points.Spend(used, PointsCause.Payment, atUtc, order);
                }

                if (storedValue > 0)
                {
                    var purse = await ledger.OpenPurseAsync(m, ct);
                    try
                    {
                        var split = purse.Spend(storedValue, m.Rules.StoredValue.SpendOrder, store.Id, atUtc, order);
                        sale.PayWithStoredValue(split.Principal, split.Bonus);
                    }
                    catch (Domain.Common.DomainException e)
                    {
                        throw Problem.FromDomain(e);
                    }
                }

                await db.SaveChangesAsync(ct);
                if (allergies.Count > 0)
                {
                    // Which lines were sold despite a recorded allergy, and by whom; not which allergy.
                    audit.Record(caller, "allergy.acknowledged", store.Id, id, "sale", sale.Id, new { order, lines = allergies.Select(a => a.Line).ToArray() });
                }

                await coupons.ConsumeAsync(sale, named, quote, atUtc, ct);
                if (quote.Points > 0)
                {
                    m.Points.Earn(quote.Points, PointsCause.Sale, atUtc, m.ExpiresAt(atUtc), order);
                    m.Account.CountEarned(quote.Points);
                }

                m.Account.CountSpend(quote.Payable - pointsValue, m.LocalDate(atUtc).Year, atUtc);
                var fx = await effects.ApplyAsync(m, atUtc, quote.Points, quote.Payable, ct);
                if (!standing.Lapsed && m.Rules.Cards.Validity.RestartOnPurchase)
                {
                    await cards.RestartValidityAsync(id, m.Rules.Cards.Validity, store.Id, atUtc, caller, "purchase " + order, ct);
                }

                ledger.Stage(m, sale.Id, caller.StaffId, store.Id);
                return SaleResult.From(sale, m.Points.Balance, m.Points.Debt, m.Account.Tier, fx) with
                {
                    StoredValueAfter = Balance(m, standing),
                    Coupons = [.. quote.Coupons.Select(AppliedCouponView.From)],
                };
            }, ct);
        }
        catch (DbUpdateException e) when (IsOrderTaken(e) && db.Database.CurrentTransaction is null)
        {
            // The same order number was committed concurrently: answer as a retry would.
            db.ChangeTracker.Clear();
            var first = await ReplayAsync(store.Id, SaleKind.Sale, order, hash, ct);
            if (first is null)
            {
                throw;
            }

            return first;
        }
    }

    private static List<(string Sku, IReadOnlyList<string>? Tags)> Tags(SaleRequest r) => [.. (r.Lines ?? []).Select(l => (l.Sku ?? "", l.Allergens))];

    private static StoredValueBalance? Balance(LockedMember m, CardStanding standing) =>
        m.Purse is { } p ? new StoredValueBalance(p.Principal, p.Bonus, p.Balance, standing.Lapsed, standing.ValidUntil) : null;

    /// <summary>What <paramref name="use"/> points pay under the policy, refused when not allowed, not whole or over the limit.</summary>
    private static long PointsValue(PointsPaymentPolicy policy, long use, long max)
    {
        if (!policy.Allowed)
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "points.payment_not_allowed", "This program does not take points as payment.");
        }

        if (use % policy.Step != 0)
        {
            throw Problem.Invalid("points.payment_step", $"Use points in steps of {policy.Step}.", "pointsToUse");
        }

        return use <= max
            ? policy.ValueOf(use)
            : throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "points.payment_over_limit", $"At most {max} points can pay for this sale.", [new("points.payment_over_limit", $"At most {max} points.", "pointsToUse")]);
    }

    private Sale Record(Store store, long? memberId, string order, DateTime atUtc, DateOnly localDate, List<BasketLine> basket, Quote quote, string hash, CallerScope caller)
    {
        var sale = Sale.FromQuote(store.ProgramId, store.Id, memberId, order, atUtc, localDate, basket, quote);
        sale.RequestHash = hash;
        sale.StaffId = caller.StaffId;
        sale.TerminalId = caller.TerminalId;
        db.Sales.Add(sale);
        return sale;
    }

    /// <summary>The first answer for an order number already recorded with the same request; a conflict for a different one.</summary>
    internal async Task<SaleResult?> ReplayAsync(long storeId, SaleKind kind, string order, string hash, CancellationToken ct)
    {
        var existing = await db.Sales.AsNoTracking().Include(s => s.Lines)
            .FirstOrDefaultAsync(s => s.StoreId == storeId && s.Kind == kind && s.OrderNumber == order, ct);
        if (existing is null)
        {
            return null;
        }

        if (existing.RequestHash != hash)
        {
            throw Problem.Conflict("sale.order_taken", "This order number is already recorded at this store with different content.", "orderNumber");
        }

        var account = existing.MemberId is { } id ? await db.MemberAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.MemberId == id, ct) : null;
        return SaleResult.From(existing, account?.Balance, account?.Debt, account?.Tier, null, replayed: true) with
        {
            Coupons = kind == SaleKind.Sale ? await coupons.OfSaleAsync(existing.Id, ct) : [],
        };
    }

    /// <summary>The store the caller sells as, the time of the sale and its local date in the store's time zone.</summary>
    internal async Task<(Store Store, DateTime AtUtc, DateOnly LocalDate)> PlaceAsync(SaleRequest r, CallerScope caller, CancellationToken ct) =>
        await PlaceAsync(r.StoreId, r.At, caller, ct);

    internal async Task<(Store Store, DateTime AtUtc, DateOnly LocalDate)> PlaceAsync(long? storeId, DateTimeOffset? at, CallerScope caller, CancellationToken ct)
    {
        var id = storeId ?? caller.DefaultStoreId
            ?? throw Problem.Invalid("sale.store_required", "Name the store of the sale.", "storeId");
        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct)
            ?? throw Problem.Invalid("store.not_found", "The store does not exist.", "storeId");
        caller.EnsureCanActAs(store.Id);
        if (!store.IsActive)
        {
            // A closed store's terminals are refused at the door; staff in the console are refused here.
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "store.closed", "The store is closed: sell, return and top up at an open store.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var atUtc = at?.UtcDateTime ?? now;
        if (atUtc > now.AddMinutes(5) || atUtc < now - OfflineWindow)
        {
            throw Problem.Invalid("sale.time_out_of_window", $"A sale's time is at most {OfflineWindow.TotalDays:0} days in the past and not in the future.", "at");
        }

        var zone = ProgramRules.Zone(store.TimeZone);
        return (store, atUtc, DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(atUtc, zone)));
    }

    /// <summary>The member named by id or card, in the store's program, and the card; a card must be usable.</summary>
    internal async Task<(long? MemberId, Card? Card)> MemberOfAsync(long? memberId, string? cardNumber, Store store, CallerScope caller, CancellationToken ct)
    {
        if (cardNumber is { } number)
        {
            var card = await db.Cards.AsNoTracking().FirstOrDefaultAsync(c => c.Number == number.Trim() && c.ProgramId == store.ProgramId, ct)
                ?? throw Problem.NotFound("card.not_found", "No card with this number in this program.");
            if (!card.IsUsable)
            {
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "card.unusable", $"The card is {card.Status.ToString().ToLowerInvariant()}.",
                    [new(card.RefusalCode!, $"The card is {card.Status.ToString().ToLowerInvariant()}.", "cardNumber")]);
            }

            if (memberId is { } given && given != card.MemberId)
            {
                throw Problem.Invalid("sale.member_ambiguous", "The card belongs to another member.", "cardNumber");
            }

            return (card.MemberId, card);
        }

        if (memberId is { } id)
        {
            var programId = await db.Members.Where(m => m.Id == id).Select(m => (long?)m.ProgramId).FirstOrDefaultAsync(ct);
            if (programId != store.ProgramId || !caller.CanSeeProgram(store.ProgramId))
            {
                throw Problem.NotFound("member.not_found", "The member does not exist in this store's program.");
            }

            return (id, null);
        }

        return (null, null);
    }

    private static bool IsOrderTaken(DbUpdateException e) =>
        (e.InnerException?.Message ?? "").Contains("order_number", StringComparison.Ordinal)
        || (e.InnerException is Npgsql.PostgresException { ConstraintName: "IX_sales_store_id_kind_order_number" });
}
