using System.Globalization;
using System.Security.Claims;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Domain.Organisation;
using Patron.Domain.Programs;
using Patron.Server.Features.Cards;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Coupons;
using Patron.Server.Features.Members;
using Patron.Server.Features.Points;
using Patron.Server.Features.Rewards;
using Patron.Server.Features.Staff;
using Patron.Server.Features.StoredValue;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Hosting;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs.Scenarios;

public sealed record ScenarioCheck(int Step, string What, string Expected, string Actual)
{
    public bool Passed => Expected == Actual;
}

public sealed record ScenarioReport(string Name, IReadOnlyList<ScenarioCheck> Checks)
{
    public int Passed => Checks.Count(c => c.Passed);

    public int Failed => Checks.Count(c => !c.Passed);
}

/// <summary>
/// Runs a scenario on a fresh database (a temporary SQLite file unless one is given) through
/// the same application services the API calls, with a virtual clock: one store of the
/// program, staff of every role, members named by the scenario. Prints each expectation as
/// PASS or FAIL with expected and actual values.
/// </summary>
public sealed class ScenarioRunner
{
    private readonly Dictionary<string, long> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CallerScope> _staff = new(StringComparer.Ordinal);
    private readonly List<ScenarioCheck> _checks = [];
    private readonly VirtualClock _clock = new();
    private long _storeId;
    private TimeZoneInfo _zone = TimeZoneInfo.Utc;
    private long? _lastPendingAdjustment;
    private string? _lastPendingMember;
    private int _phones;

    public static async Task<ScenarioReport> RunFileAsync(string scenarioPath, string? programPath, DatabaseSettings? database, TextWriter output, CancellationToken ct)
    {
        var scenario = ScenarioFile.Parse(await File.ReadAllTextAsync(scenarioPath, ct));
        var programFile = programPath
            ?? (scenario.Program is { } relative ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(scenarioPath))!, relative) : null)
            ?? throw new DomainException(new DomainError("scenario.program_missing", "Name the program file: \"program\" in the scenario or --program.", "program"));
        var program = ProgramFile.Parse(await File.ReadAllTextAsync(programFile, ct));
        return await new ScenarioRunner().RunAsync(scenario, program, database, output, ct);
    }

    public async Task<ScenarioReport> RunAsync(ScenarioFile scenario, ProgramDefinition program, DatabaseSettings? database, TextWriter output, CancellationToken ct)
    {
        var name = scenario.Name ?? "scenario";
        string? tempFile = null;
        if (database is null)
        {
            tempFile = Path.Combine(Path.GetTempPath(), $"patron-scenario-{Guid.NewGuid():N}.db");
            database = DatabaseSettings.SqliteFile(tempFile);
        }

        try
        {
            await using var app = Build(database);
            await app.MigrateDatabaseAsync();
            _zone = ProgramRules.Zone(program.TimeZone);
            _clock.Set(Local(program.EffectiveFrom.ToDateTime(new TimeOnly(8, 0))));
            await SetUpAsync(app.Services, program, ct);
            output.WriteLine($"Scenario: {name} (program {program.Code} v{program.Version})");
            for (var i = 0; i < scenario.Steps.Count; i++)
            {
                await RunStepAsync(app.Services, i + 1, scenario.Steps[i], output, ct);
            }

            var report = new ScenarioReport(name, _checks);
            output.WriteLine($"{report.Passed} passed, {report.Failed} failed");
            return report;
        }
        finally
        {
            if (tempFile is not null)
            {
                SqliteConnection.ClearAllPools();
                foreach (var f in new[] { tempFile, tempFile + "-wal", tempFile + "-shm" }.Where(File.Exists))
                {
                    File.Delete(f);
                }
            }
        }
    }

    private WebApplication Build(DatabaseSettings database)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration["Patron:Db"] = database.ConnectionString;
        builder.Configuration["Patron:Jobs"] = "false";
        builder.AddPatron();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(_clock);
        return builder.Build();
    }

    private async Task SetUpAsync(IServiceProvider services, ProgramDefinition program, CancellationToken ct)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var loyalty = new LoyaltyProgram(program.Code, program.Name, "8899");
        var region = new Region("scenario", "Scenario region");
        db.AddRange(loyalty, region);
        await db.SaveChangesAsync(ct);
        var store = new Store("S1", "Scenario store", region.Id, "City", loyalty.Id, program.TimeZone);
        db.Stores.Add(store);
        await db.SaveChangesAsync(ct);
        _storeId = store.Id;
        foreach (var (login, role) in new[] { ("admin", StaffRole.Admin), ("admin2", StaffRole.Admin), ("marketing", StaffRole.Marketing), ("manager", StaffRole.StoreManager), ("cashier", StaffRole.Cashier) })
        {
            var staff = new Domain.Organisation.Staff(login, login, role, role is StaffRole.StoreManager or StaffRole.Cashier ? [store.Id] : []);
            staff.SetPasswordHash(StaffSignIn.HashPassword(staff, Guid.NewGuid().ToString()));
            db.Staff.Add(staff);
            await db.SaveChangesAsync(ct);
            _staff[login] = CallerScope.From(new ClaimsPrincipal(PatronClaims.ForStaff(staff, staff.AllStores ? [] : [store.Id], staff.AllStores ? [] : [loyalty.Id], "scenario")));
        }

        var rules = scope.ServiceProvider.GetRequiredService<ProgramRules>();
        var draft = await rules.ImportAsync(loyalty.Id, ProgramFile.Write(program), _staff["admin"], ct);
        await rules.PublishAsync(loyalty.Id, draft.Version, _staff["admin"], ct);
    }

    private async Task RunStepAsync(IServiceProvider services, int n, ScenarioStep step, TextWriter output, CancellationToken ct)
    {
        _clock.Set(step.At is { } at ? Local(ParseLocal(at, n)) : _clock.GetUtcNow().UtcDateTime.AddMinutes(1));
        var when = TimeZoneInfo.ConvertTimeFromUtc(_clock.GetUtcNow().UtcDateTime, _zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        using var scope = services.CreateScope();
        var sp = scope.ServiceProvider;
        var admin = _staff["admin"];
        var outcome = new Outcome();
        var title = $"step {n}";
        try
        {
            switch (step)
            {
                case { Enrol: { } e }:
                    title = $"enrol {e.Member}";
                    var enrolment = new EnrollMemberRequest(e.Name ?? e.Member, NextPhone(), Birthday: e.Birthday, StoreId: _storeId);
                    if (e.Purchase is { } purchase)
                    {
                        var sale = await sp.GetRequiredService<CommitSale>().HandleAsync(SaleRequestOf(purchase, null, n) with { Enrol = enrolment }, admin, ct);
                        _members[e.Member] = sale.MemberId!.Value;
                        outcome.FromSale(sale);
                    }
                    else
                    {
                        _members[e.Member] = (await sp.GetRequiredService<EnrollMember>().HandleAsync(enrolment, admin, ct)).Id;
                    }

                    outcome.Member = e.Member;
                    break;
                case { Sale: { } s }:
                    title = $"sale {s.Order}" + (s.Member is null ? " (not a member)" : $" by {s.Member}");
                    outcome.Member = s.Member;
                    var saleRequest = SaleRequestOf(s, s.Member is null ? null : Member(s.Member, n), n);
                    if (s.Card is { } which && s.Member is { } buyerAlias)
                    {
                        saleRequest = saleRequest with { MemberId = null, CardNumber = await CardNumberAsync(sp, buyerAlias, which, n, ct) };
                    }

                    if (s.Coupons is { Count: > 0 } templates && s.Member is { } holder)
                    {
                        saleRequest = saleRequest with { Coupons = await CouponCodesAsync(sp, Member(holder, n), templates, ct) };
                    }

                    outcome.FromSale(await sp.GetRequiredService<CommitSale>().HandleAsync(saleRequest, admin, ct));
                    break;
                case { IssueCoupon: { } ic }:
                    title = $"issue {ic.Count} × {ic.Template} to {ic.Member}";
                    outcome.Member = ic.Member;
                    var issued = await sp.GetRequiredService<ManageCoupons>().IssueAsync(
                        new IssueCouponsRequest(ic.Template, [.. Enumerable.Repeat(Member(ic.Member, n), ic.Count)], Reason: "scenario", StoreId: _storeId), admin, ct);
                    outcome.CouponsIssued = issued.Issued;
                    outcome.CouponValue = issued.Coupons.FirstOrDefault()?.Value;
                    break;
                case { Pickup: { } pu }:
                    title = $"{pu.Member} collects a gift";
                    outcome.Member = pu.Member;
                    var gift = await sp.GetRequiredService<PatronDb>().Redemptions.Where(x => x.MemberId == Member(pu.Member, n) && x.PickupCode != null)
                        .OrderByDescending(x => x.Id).FirstOrDefaultAsync(ct) ?? throw new DomainException(new DomainError("redemption.not_found", $"{pu.Member} has no gift to collect."));
                    await sp.GetRequiredService<Catalogue>().PickUpAsync(new PickupRequest(gift.PickupCode, gift.StoreId), admin, ct);
                    break;
                case { CancelRedemption: { } cr }:
                    title = $"cancel {cr.Member}'s latest redemption";
                    outcome.Member = cr.Member;
                    var latest = await sp.GetRequiredService<PatronDb>().Redemptions.Where(x => x.MemberId == Member(cr.Member, n)).OrderByDescending(x => x.Id).Select(x => x.Id).FirstOrDefaultAsync(ct);
                    var cancelled = await sp.GetRequiredService<Catalogue>().CancelAsync(latest, new CancelRedemptionRequest("scenario"), admin, ct);
                    outcome.Points = cancelled.Points;
                    break;
                case { Return: { } r }:
                    title = $"return of {r.Order}";
                    var buyer = await sp.GetRequiredService<PatronDb>().Sales.Where(x => x.StoreId == _storeId && x.OrderNumber == r.Order).Select(x => x.MemberId).FirstOrDefaultAsync(ct);
                    outcome.Member = _members.FirstOrDefault(m => m.Value == buyer).Key;
                    var lines = r.Lines?.Select(l => new ReturnLineRequest(l.Line, l.Qty)).ToList();
                    var ret = await sp.GetRequiredService<ReturnSale>().HandleAsync(new ReturnRequest(r.Order, lines, StoreId: _storeId), admin, ct);
                    outcome.FromSale(ret);
                    outcome.Refund = -ret.Paid;
                    break;
                case { Redeem: { } d }:
                    title = $"{d.Member} redeems {d.Item}";
                    outcome.Member = d.Member;
                    var redeemed = await sp.GetRequiredService<Redeem>().HandleAsync(Member(d.Member, n), new RedeemRequest(d.Item, _storeId), admin, ct);
                    outcome.Points = -redeemed.Points;
                    outcome.CouponsIssued = redeemed.Coupon is null ? 0 : 1;
                    outcome.CouponValue = redeemed.Coupon?.Value;
                    break;
                case { Adjust: { } a }:
                    title = $"{a.By} adjusts {a.Member} by {a.Points}";
                    outcome.Member = a.Member;
                    var adjusted = await sp.GetRequiredService<AdjustPoints>().RequestAsync(Member(a.Member, n), new AdjustPointsRequest(a.Points, a.Reason, _storeId), Staff(a.By, n), ct);
                    outcome.Status = adjusted.Status;
                    if (adjusted.Status == "pending")
                    {
                        (_lastPendingAdjustment, _lastPendingMember) = (adjusted.Id, a.Member);
                    }

                    break;
                case { Approve: { } p }:
                    title = $"{p.By} {(p.Reject ? "rejects" : "approves")} the pending adjustment";
                    outcome.Member = _lastPendingMember;
                    var decided = await sp.GetRequiredService<AdjustPoints>().DecideAsync(
                        _lastPendingAdjustment ?? throw Malformed(n, "approve: no adjustment is pending"), !p.Reject, Staff(p.By, n), ct);
                    outcome.Status = decided.Status;
                    break;
                case { SetTier: { } t }:
                    title = $"head office sets {t.Member} to {t.Tier}";
                    outcome.Member = t.Member;
                    await sp.GetRequiredService<AdjustPoints>().SetTierAsync(Member(t.Member, n), new SetTierRequest(t.Tier, "scenario"), admin, ct);
                    break;
                case { UseEntitlement: { } u }:
                    title = $"{u.Member} uses {u.Code}";
                    outcome.Member = u.Member;
                    await sp.GetRequiredService<Entitlements>().UseAsync(Member(u.Member, n), u.Code ?? throw Malformed(n, "useEntitlement.code is required"), _storeId, admin, ct);
                    break;
                case { Event: { } v }:
                    title = $"{v.Member} gets points for {v.Code}";
                    outcome.Member = v.Member;
                    outcome.Points = await sp.GetRequiredService<AwardEventPoints>().AwardAsync(Member(v.Member, n), v.Code, v.Reference, admin, ct);
                    break;
                case { TopUp: { } t }:
                    title = $"{t.Member} tops up {t.Amount}";
                    outcome.Member = t.Member;
                    var topUp = await sp.GetRequiredService<TopUpStoredValue>().HandleAsync(
                        new TopUpRequest(t.Order ?? $"T{n}", ScenarioFile.Fen(t.Amount, $"steps[{n - 1}].topUp.amount"), t.Card is null ? Member(t.Member, n) : null,
                            t.Card is null ? null : await CardNumberAsync(sp, t.Member, t.Card, n, ct), _storeId), admin, ct);
                    outcome.BonusGiven = topUp.Bonus;
                    outcome.Gifts = topUp.Gifts;
                    outcome.SubCardsIssued = topUp.SubCards.Count;
                    break;
                case { Refund: { } f }:
                    title = $"{f.Member} gets {f.Amount} of stored value back";
                    outcome.Member = f.Member;
                    var refunded = await sp.GetRequiredService<RefundStoredValue>().HandleAsync(
                        Member(f.Member, n), new StoredValueRefundRequest(ScenarioFile.Fen(f.Amount, $"steps[{n - 1}].refund.amount"), f.Reason, _storeId), admin, ct);
                    outcome.BonusForfeited = refunded.BonusForfeited;
                    break;
                case { Card: { } c }:
                    title = $"{c.Action.Replace('_', ' ')}: card of {c.Member}";
                    outcome.Member = c.Member;
                    outcome.Fee = await CardActionAsync(sp, c, n, admin, ct);
                    break;
                case { SubCard: { } u }:
                    title = $"{u.Member} asks for a sub-card";
                    outcome.Member = u.Member;
                    await sp.GetRequiredService<CardOperations>().IssueSubCardAsync(Member(u.Member, n), new SubCardRequest(u.Holder, StoreId: _storeId), admin, ct);
                    outcome.SubCardsIssued = 1;
                    break;
                case { RunJobs: true }:
                    title = "periodic jobs";
                    await sp.GetRequiredService<PointsJobs>().RunAsync(ct);
                    await sp.GetRequiredService<CardsJob>().RunAsync(ct);
                    break;
                case { Check: { } c }:
                    title = $"check {c.Member}";
                    outcome.Member = c.Member;
                    break;
                default:
                    throw Malformed(n, "a step needs one of enrol, sale, return, redeem, adjust, approve, setTier, useEntitlement, event, topUp, refund, card, subCard, runJobs, check");
            }
        }
        catch (ProblemException e) when (e.Code != "scenario.malformed")
        {
            outcome.Error = e.Code;
            outcome.ErrorMessage = e.Message;
        }
        catch (DomainException e) when (e.Code != "scenario.malformed")
        {
            outcome.Error = e.Code;
            outcome.ErrorMessage = e.Message;
        }

        output.WriteLine($"  step {n,2}  {when}  {step.Note ?? title}");
        if (outcome.Member is { } alias && _members.TryGetValue(alias, out var memberId))
        {
            outcome.Summary = await sp.GetRequiredService<PointsQueries>().GetAsync(memberId, admin, ct);
            outcome.Stored = (await sp.GetRequiredService<StoredValueQueries>().GetAsync(memberId, admin, ct, history: false)).Balance;
            outcome.Cards = await sp.GetRequiredService<CardOperations>().ListAsync(memberId, admin, ct);
            var redemption = await sp.GetRequiredService<PatronDb>().Redemptions.AsNoTracking().Where(x => x.MemberId == memberId).OrderByDescending(x => x.Id).FirstOrDefaultAsync(ct);
            outcome.Redemption = redemption is null ? null : redemption.AwaitsPickup ? "awaiting_pickup" : Codes.Of(redemption.Status);
        }

        Check(n, step.Expect ?? new Expectation(), outcome, output);
    }

    private void Check(int n, Expectation x, Outcome o, TextWriter output)
    {
        void Expect(string what, string? expected, string? actual, string? detail = null)
        {
            if (expected is null)
            {
                return;
            }

            var check = new ScenarioCheck(n, what, expected, actual ?? "(none)");
            _checks.Add(check);
            output.WriteLine(check.Passed ? $"    PASS  {what} = {expected}" : $"    FAIL  {what}: expected {expected}, actual {check.Actual}");
            if (detail is not null)
            {
                output.WriteLine($"          {detail}");
            }
        }

        string? Money(long? fen) => fen is { } f ? ScenarioFile.Yuan(f) : null;
        string? Canon(string? yuan, string field) => yuan is null ? null : ScenarioFile.Yuan(ScenarioFile.Fen(yuan, field));

        // An unexpected refusal always fails the step; an expected one shows its message.
        Expect("error", x.Error ?? (o.Error is null ? null : "(none)"), o.Error ?? "(none)", o.ErrorMessage);

        for (var i = 0; i < (x.Lines?.Count ?? 0); i++)
        {
            var e = x.Lines![i];
            var line = o.Lines is not null && i < o.Lines.Count ? o.Lines[i] : null;
            Expect($"lines[{i + 1}].paid", Canon(e.Paid, $"expect.lines[{i}].paid"), Money(line?.Paid));
            Expect($"lines[{i + 1}].discount", Canon(e.Discount, $"expect.lines[{i}].discount"), Money(line?.Discount));
            Expect($"lines[{i + 1}].rule", e.Rule, line is null ? null : line.Rule ?? "(none)");
            Expect($"lines[{i + 1}].points", e.Points?.ToString(CultureInfo.InvariantCulture), line?.Points.ToString(CultureInfo.InvariantCulture));
        }

        Expect("amount", Canon(x.Amount, "expect.amount"), Money(o.Amount));
        Expect("discount", Canon(x.Discount, "expect.discount"), Money(o.Discount));
        Expect("paid", Canon(x.Paid, "expect.paid"), Money(o.Paid));
        Expect("refund", Canon(x.Refund, "expect.refund"), Money(o.Refund));
        Expect("money", Canon(x.Money, "expect.money"), Money(o.Money));
        Expect("points", x.Points?.ToString(CultureInfo.InvariantCulture), o.Points?.ToString(CultureInfo.InvariantCulture));
        Expect("balance", x.Balance?.ToString(CultureInfo.InvariantCulture), o.Summary?.Balance.ToString(CultureInfo.InvariantCulture));
        Expect("debt", x.Debt?.ToString(CultureInfo.InvariantCulture), o.Summary?.Debt.ToString(CultureInfo.InvariantCulture));
        Expect("tier", x.Tier, o.Summary?.Tier);
        Expect("expiringSoon", x.ExpiringSoon?.ToString(CultureInfo.InvariantCulture), o.Summary?.ExpiringSoon.ToString(CultureInfo.InvariantCulture));
        Expect("couponsIssued", x.CouponsIssued?.ToString(CultureInfo.InvariantCulture), (o.CouponsIssued ?? 0).ToString(CultureInfo.InvariantCulture));
        Expect("coupons", x.Coupons?.ToString(CultureInfo.InvariantCulture), o.Summary?.Coupons.Count.ToString(CultureInfo.InvariantCulture));
        Expect("couponDiscount", Canon(x.CouponDiscount, "expect.couponDiscount"), Money(o.CouponDiscount ?? 0));
        Expect("couponValue", Canon(x.CouponValue, "expect.couponValue"), Money(o.CouponValue));
        Expect("redemption", x.Redemption, o.Redemption);
        Expect("entitlementsGranted", x.EntitlementsGranted is null ? null : string.Join(",", x.EntitlementsGranted.Order()), string.Join(",", (o.Entitlements ?? []).Order()));
        Expect("status", x.Status, o.Status);
        string Bool(bool? b) => b is { } v ? (v ? "true" : "false") : "(none)";
        var principal = o.Cards?.Cards.Where(c => c.Kind != "sub_card").LastOrDefault(c => c.Status != "replaced") ?? o.Cards?.Cards.LastOrDefault(c => c.Kind != "sub_card");
        var subCards = o.Cards?.Cards.Where(c => c.Kind == "sub_card" && c.Status != "revoked").ToList();
        Expect("storedValue", Canon(x.StoredValue, "expect.storedValue"), Money(o.Stored?.Total));
        Expect("principal", Canon(x.Principal, "expect.principal"), Money(o.Stored?.Principal));
        Expect("bonus", Canon(x.Bonus, "expect.bonus"), Money(o.Stored?.Bonus));
        Expect("frozen", x.Frozen is null ? null : Bool(x.Frozen), Bool(o.Stored?.Frozen));
        Expect("bonusGiven", Canon(x.BonusGiven, "expect.bonusGiven"), Money(o.BonusGiven ?? 0));
        Expect("gifts", x.Gifts is null ? null : string.Join(",", x.Gifts), string.Join(",", o.Gifts ?? []));
        Expect("subCardsIssued", x.SubCardsIssued?.ToString(CultureInfo.InvariantCulture), (o.SubCardsIssued ?? 0).ToString(CultureInfo.InvariantCulture));
        Expect("subCards", x.SubCards?.ToString(CultureInfo.InvariantCulture), subCards?.Count.ToString(CultureInfo.InvariantCulture));
        Expect("subCardTier", x.SubCardTier, subCards is null ? null : string.Join(",", subCards.Select(c => c.Tier ?? "(none)").Distinct()));
        Expect("cardStatus", x.CardStatus, principal?.Status);
        Expect("cards", x.Cards?.ToString(CultureInfo.InvariantCulture), o.Cards?.Cards.Count(c => c.Kind != "sub_card").ToString(CultureInfo.InvariantCulture));
        Expect("fee", Canon(x.Fee, "expect.fee"), Money(o.Fee ?? 0));
        Expect("validUntil", x.ValidUntil, principal is null ? null
            : principal.ValidUntil is { } until ? TimeZoneInfo.ConvertTimeFromUtc(until, _zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "none");
        Expect("principalUsed", Canon(x.PrincipalUsed, "expect.principalUsed"), Money(o.PrincipalUsed));
        Expect("bonusUsed", Canon(x.BonusUsed, "expect.bonusUsed"), Money(o.BonusUsed));
        Expect("bonusForfeited", Canon(x.BonusForfeited, "expect.bonusForfeited"), Money(o.BonusForfeited));
        var year = TimeZoneInfo.ConvertTimeFromUtc(_clock.GetUtcNow().UtcDateTime, _zone).Year;
        Expect("milestoneResets", x.MilestoneResets?.ToString(CultureInfo.InvariantCulture), o.Summary?.Milestones.Where(m => m.Year == year).Sum(m => m.Resets).ToString(CultureInfo.InvariantCulture));
    }

    private SaleRequest SaleRequestOf(SaleStep s, long? memberId, int n) => new(
        s.Order,
        [.. s.Lines.Select((l, i) => new SaleLineRequest(l.Sku, l.Qty, ScenarioFile.Fen(l.Price, $"steps[{n - 1}].lines[{i}].price"), l.Name, l.Category, l.Brand, l.Flags))],
        _storeId,
        memberId,
        Payments: s.Payments?.Select((p, i) => new PaymentRequest(p.Method, ScenarioFile.Fen(p.Amount, $"steps[{n - 1}].payments[{i}].amount"))).ToList(),
        PointsToUse: s.PointsToUse);

    /// <summary>The codes of the member's open coupons of these templates, each the one that expires first.</summary>
    private static async Task<List<string>> CouponCodesAsync(IServiceProvider sp, long memberId, IReadOnlyList<string> templates, CancellationToken ct)
    {
        var open = await sp.GetRequiredService<PatronDb>().Coupons.AsNoTracking()
            .Where(c => c.MemberId == memberId && c.Status == Domain.Coupons.CouponStatus.Issued)
            .OrderBy(c => c.ExpiresAt == null).ThenBy(c => c.ExpiresAt).ThenBy(c => c.Id).ToListAsync(ct);
        var codes = new List<string>();
        foreach (var t in templates)
        {
            codes.Add(open.FirstOrDefault(c => c.TemplateCode == t && !codes.Contains(c.Code))?.Code ?? "NO-" + t.ToUpperInvariant());
        }

        return codes;
    }

    /// <summary>The number of the member's current principal card, or of their latest sub-card ("sub").</summary>
    private async Task<string> CardNumberAsync(IServiceProvider sp, string alias, string which, int n, CancellationToken ct)
    {
        var cards = (await sp.GetRequiredService<CardOperations>().ListAsync(Member(alias, n), _staff["admin"], ct)).Cards;
        var card = which switch
        {
            "sub" => cards.LastOrDefault(c => c.Kind == "sub_card" && c.Status != "revoked"),
            "principal" => cards.LastOrDefault(c => c.Kind != "sub_card" && c.Status != "replaced"),
            "replaced" => cards.LastOrDefault(c => c.Status == "replaced"),
            _ => throw Malformed(n, "card: use principal, sub or replaced"),
        };
        return card?.Number ?? throw Malformed(n, $"{alias} has no {which} card");
    }

    /// <summary>Runs a card operation on the member's current principal card; the fee it charged.</summary>
    private async Task<long> CardActionAsync(IServiceProvider sp, CardStep c, int n, CallerScope admin, CancellationToken ct)
    {
        var ops = sp.GetRequiredService<CardOperations>();
        var cards = (await ops.ListAsync(Member(c.Member, n), admin, ct)).Cards;
        var target = c.Action == "revoke_sub_card"
            ? cards.LastOrDefault(x => x.Kind == "sub_card" && x.Status != "revoked")
            : cards.LastOrDefault(x => x.Kind != "sub_card" && x.Status != "replaced");
        var id = target?.Id ?? throw Malformed(n, $"{c.Member} has no card for {c.Action}");
        var at = new CardActionRequest(_storeId, "scenario");
        _ = c.Action switch
        {
            "report_lost" => await ops.ReportLostAsync(id, at, admin, ct),
            "replace" => await ops.ReplaceAsync(id, new ReplaceCardRequest("lost", StoreId: _storeId), admin, ct),
            "exchange_damaged" => await ops.ReplaceAsync(id, new ReplaceCardRequest("damaged", StoreId: _storeId), admin, ct),
            "freeze" => await ops.FreezeAsync(id, at, admin, ct),
            "unfreeze" => await ops.UnfreezeAsync(id, at, admin, ct),
            "renew" => await ops.RenewAsync(id, at, admin, ct),
            "revoke_sub_card" => await ops.RevokeAsync(id, at, admin, ct),
            _ => throw Malformed(n, "card.action: report_lost, replace, exchange_damaged, freeze, unfreeze, renew or revoke_sub_card"),
        };
        var events = (await ops.ListAsync(Member(c.Member, n), admin, ct)).Events;
        return events.Where(e => e.At == _clock.GetUtcNow().UtcDateTime).Sum(e => e.Fee);
    }

    private long Member(string alias, int n) =>
        _members.TryGetValue(alias, out var id) ? id : throw Malformed(n, $"member \"{alias}\" has not been enrolled by an earlier step");

    private CallerScope Staff(string login, int n) =>
        _staff.TryGetValue(login, out var s) ? s : throw Malformed(n, $"\"{login}\" is not a scenario staff member (admin, admin2, marketing, manager, cashier)");

    private string NextPhone() => "1380000" + (++_phones).ToString("D4", CultureInfo.InvariantCulture);

    private DateTime Local(DateTime local) => TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), _zone);

    private static DateTime ParseLocal(string text, int n) =>
        DateTime.TryParseExact(text, ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t
        : DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d.AddHours(12)
        : throw Malformed(n, $"at: \"{text}\" is not a local time written yyyy-MM-dd HH:mm");

    private static DomainException Malformed(int n, string message) =>
        new(new DomainError("scenario.malformed", $"steps[{n - 1}]: {message}", $"steps[{n - 1}]"));

    private sealed class Outcome
    {
        public string? Member { get; set; }

        public string? Error { get; set; }

        public string? ErrorMessage { get; set; }

        public IReadOnlyList<SaleLineView>? Lines { get; set; }

        public long? Amount { get; set; }

        public long? Discount { get; set; }

        public long? Paid { get; set; }

        public long? Refund { get; set; }

        public long? Money { get; set; }

        public long? Points { get; set; }

        public int? CouponsIssued { get; set; }

        public long? CouponDiscount { get; set; }

        public long? CouponValue { get; set; }

        public string? Redemption { get; set; }

        public IReadOnlyList<string>? Entitlements { get; set; }

        public string? Status { get; set; }

        public PointsSummary? Summary { get; set; }

        public StoredValueBalance? Stored { get; set; }

        public MemberCardsView? Cards { get; set; }

        public long? BonusGiven { get; set; }

        public IReadOnlyList<string>? Gifts { get; set; }

        public int? SubCardsIssued { get; set; }

        public long? Fee { get; set; }

        public long? PrincipalUsed { get; set; }

        public long? BonusUsed { get; set; }

        public long? BonusForfeited { get; set; }

        public void FromSale(SaleResult s)
        {
            Lines = s.Lines;
            Amount = s.Amount;
            Discount = s.Discount;
            Paid = s.Paid;
            Money = Math.Abs(s.Money);
            PrincipalUsed = Math.Abs(s.StoredPrincipal);
            BonusUsed = Math.Abs(s.StoredBonus);
            Points = s.Points;
            CouponsIssued = s.Effects?.Coupons.Count ?? 0;
            CouponDiscount = s.Coupons.Sum(c => c.Discount);
            Entitlements = s.Effects?.Entitlements ?? [];
        }
    }
}

/// <summary>The scenario's clock: it is wherever the last step put it.</summary>
public sealed class VirtualClock : TimeProvider
{
    private long _ticks = DateTime.UtcNow.Ticks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Set(DateTime utc) => Interlocked.Exchange(ref _ticks, utc.Ticks);
}
