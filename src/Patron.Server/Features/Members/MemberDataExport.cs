using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Patron.Data;
using Patron.Domain.Audit;
using Patron.Domain.Cards;
using Patron.Domain.Care;
using Patron.Domain.Coupons;
using Patron.Domain.Members;
using Patron.Domain.Points;
using Patron.Domain.Rewards;
using Patron.Domain.Sales;
using Patron.Domain.StoredValue;
using Patron.Domain.Tiers;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Programs;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Features.Members;

/// <summary>What to export for a member who asked for their data, and why (the request's reference).</summary>
public sealed record MemberDataExportRequest(string? Reason, string? Format = null);

/// <summary>An export ready to hand over: its bytes, content type and a file name without personal data (member id and date).</summary>
public sealed record MemberDataExportFile(byte[] Content, string ContentType, string FileName);

/// <summary>The member an export is for, as the export page shows them (name only; nothing else in clear).</summary>
public sealed record MemberDataExportTarget(long Id, string Name, string EnrolStoreName, bool Erased);

/// <summary>
/// Everything Patron holds about one member, in clear, for handing to that person (PIPL right of
/// access and portability): one JSON document, or a ZIP with that document and one CSV per
/// section that Excel opens (UTF-8 with BOM). For the roles allowed to unmask, for a member of
/// their scope (head office, or the member's enrolment store), with a reason; audited with the
/// format and the number of records per section before anything is decrypted or written.
/// Times are in the program's time zone with their offset; money in yuan; points as integers.
/// An erased member exports what is left: ledgers and history under the member id.
/// </summary>
public sealed class MemberDataExport(
    PatronDb db,
    PersonalDataProtector protector,
    AuditLog audit,
    ProgramRules programs,
    TimeProvider clock,
    IStringLocalizer<SharedResource> l)
{
    public const string Json = "json";
    public const string Zip = "zip";
    public const int ReasonMaxLength = 200;

    /// <summary>
    /// The formats offered. A single CSV is not: the sections have different columns, and one
    /// sheet of stacked tables reads worse than the ZIP's one CSV per section.
    /// </summary>
    public static readonly IReadOnlyList<string> Formats = [Json, Zip];

    /// <summary>
    /// Chinese text and "+08:00" as written, not \uXXXX: the document is a downloaded file
    /// (attachment, nosniff), never embedded in a page, so HTML-sensitive characters need no escaping.
    /// </summary>
    private static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The member an export would be for, when the caller may export them: 404 outside the caller's programs, 403 outside their stores.</summary>
    public async Task<MemberDataExportTarget> TargetAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await AllowedMemberAsync(memberId, caller, ct);
        var store = await db.Stores.Where(s => s.Id == member.EnrolStoreId).Select(s => s.Name).FirstOrDefaultAsync(ct) ?? "";
        return new MemberDataExportTarget(member.Id, member.Name, store, member.AnonymisedAt is not null);
    }

    public async Task<MemberDataExportFile> CreateAsync(long memberId, MemberDataExportRequest r, CallerScope caller, CancellationToken ct)
    {
        var reason = r.Reason?.Trim();
        var format = string.IsNullOrWhiteSpace(r.Format) ? Json : r.Format.Trim().ToLowerInvariant();
        var errors = new FieldErrors();
        if (string.IsNullOrEmpty(reason) || reason.Length > ReasonMaxLength)
        {
            errors.Add("reason", "data_export.reason_required", $"Give the reason or the request's reference (at most {ReasonMaxLength} characters); it is kept in the audit log.");
        }

        if (!Formats.Contains(format))
        {
            errors.Add("format", "data_export.format_unknown", "Export as json or zip.");
        }

        errors.ThrowIfAny();
        await AllowedMemberAsync(memberId, caller, ct);

        // One consistent snapshot of the member's records; the audit entry (with the counts of
        // exactly what is exported) is committed before anything is decrypted or written.
        var data = await Transactions.RunAsync(db, async ct =>
        {
            if (db.IsPostgres)
            {
                await db.Database.ExecuteSqlRawAsync("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", ct);
            }

            var loaded = await LoadAsync(memberId, ct);
            audit.Record(caller, "member.data_exported", loaded.Member.EnrolStoreId, memberId, "member", memberId, new { format, reason, sections = loaded.Counts() });
            return loaded;
        }, ct);

        var zone = await programs.ZoneAsync(data.Member.ProgramId, ct);
        var now = TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone);
        var tiers = (await programs.TryInForceAsync(data.Member.ProgramId, DateOnly.FromDateTime(now.DateTime), ct))?.Tiers.ToDictionary(t => t.Code, t => t.Name) ?? [];
        var document = new Document(zone, now, data.Member.Id, data.ProgramName, Sections(data, tiers));
        var name = "member-" + memberId.ToString(CultureInfo.InvariantCulture) + "-data-" + now.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        return format == Zip
            ? new MemberDataExportFile(document.ToZip(l), "application/zip", name + ".zip")
            : new MemberDataExportFile(document.ToJson(), "application/json; charset=utf-8", name + ".json");
    }

    /// <summary>Same rule as unmasking: the member is in the caller's programs, and the caller is head office or acts for the enrolment store.</summary>
    private async Task<Member> AllowedMemberAsync(long memberId, CallerScope caller, CancellationToken ct)
    {
        var member = await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Id == memberId, ct);
        if (member is null || !caller.CanSeeProgram(member.ProgramId))
        {
            throw Problem.NotFound("member.not_found", "The member does not exist.");
        }

        if (!caller.AllStores && !caller.CanActAs(member.EnrolStoreId))
        {
            throw Problem.Forbidden("scope.store_forbidden", "Only head office or the member's enrolment store may export this member's data.");
        }

        return member;
    }

    /// <summary>Every table that holds a member_id, read as stored (ciphertext still encrypted).</summary>
    private async Task<Loaded> LoadAsync(long id, CancellationToken ct)
    {
        var member = await db.Members.AsNoTracking().FirstAsync(m => m.Id == id, ct);
        var sales = await db.Sales.AsNoTracking().Include(s => s.Lines).Where(s => s.MemberId == id).OrderBy(s => s.At).ThenBy(s => s.Id).ToListAsync(ct);
        var loaded = new Loaded
        {
            Member = member,
            ProgramName = await db.Programs.Where(p => p.Id == member.ProgramId).Select(p => p.Name).FirstAsync(ct),
            EnrolStaff = member.EnrolStaffId is { } staff ? await db.Staff.Where(s => s.Id == staff).Select(s => s.DisplayName).FirstOrDefaultAsync(ct) : null,
            EnrolTerminal = member.EnrolTerminalId is { } terminal ? await db.Terminals.Where(t => t.Id == terminal).Select(t => t.Name).FirstOrDefaultAsync(ct) : null,
            Account = await db.MemberAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.MemberId == id, ct),
            Consents = await db.MemberConsents.AsNoTracking().Where(c => c.MemberId == id).OrderBy(c => c.At).ThenBy(c => c.Id).ToListAsync(ct),
            Health = await db.MemberHealth.AsNoTracking().FirstOrDefaultAsync(h => h.MemberId == id, ct),
            File = await db.MemberProfiles.AsNoTracking().FirstOrDefaultAsync(p => p.MemberId == id, ct),
            Purchasers = await db.MemberPurchasers.AsNoTracking().Where(p => p.MemberId == id).OrderBy(p => p.Id).ToListAsync(ct),
            MergedFrom = await db.Members.AsNoTracking().Where(m => m.MergedIntoId == id).OrderBy(m => m.Id).ToListAsync(ct),
            Cards = await db.Cards.AsNoTracking().Where(c => c.MemberId == id).OrderBy(c => c.Id).ToListAsync(ct),
            CardEvents = await db.CardEvents.AsNoTracking().Where(e => e.MemberId == id).OrderBy(e => e.At).ThenBy(e => e.Id).ToListAsync(ct),
            TierChanges = await db.TierChanges.AsNoTracking().Where(t => t.MemberId == id).OrderBy(t => t.At).ThenBy(t => t.Id).ToListAsync(ct),
            PointsLots = await db.PointsLots.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.EarnedAt).ThenBy(x => x.Id).ToListAsync(ct),
            PointsEntries = await db.PointsEntries.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.At).ThenBy(x => x.Id).ToListAsync(ct),
            Adjustments = await db.PointsAdjustments.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.RequestedAt).ThenBy(x => x.Id).ToListAsync(ct),
            StoredLots = await db.StoredValueLots.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.IssuedAt).ThenBy(x => x.Id).ToListAsync(ct),
            StoredEntries = await db.StoredValueEntries.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.At).ThenBy(x => x.Id).ToListAsync(ct),
            TopUps = await db.TopUps.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.At).ThenBy(x => x.Id).ToListAsync(ct),
            Sales = sales,
            Coupons = await db.Coupons.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.IssuedAt).ThenBy(x => x.Id).ToListAsync(ct),
            CouponUses = await db.CouponUses.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.At).ThenBy(x => x.Id).ToListAsync(ct),
            Redemptions = await db.Redemptions.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.At).ThenBy(x => x.Id).ToListAsync(ct),
            Entitlements = await db.Entitlements.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.GrantedAt).ThenBy(x => x.Id).ToListAsync(ct),
            Milestones = await db.MilestoneProgress.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.RuleId).ToListAsync(ct),
            CareTasks = await db.CareTasks.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.DueOn).ThenBy(x => x.Id).ToListAsync(ct),
            AuditEntries = await db.AuditLog.AsNoTracking().Where(x => x.MemberId == id).OrderBy(x => x.At).ThenBy(x => x.Id).ToListAsync(ct),
        };

        // Names a person can read: the stores of the member's program, coupons by code, who acted in the audit log (role or terminal, not staff names).
        loaded.Stores = await db.Stores.Where(s => s.ProgramId == member.ProgramId).ToDictionaryAsync(s => s.Id, s => s.Name, ct);
        var couponIds = loaded.CouponUses.Select(u => u.CouponId).Distinct().ToList();
        loaded.CouponCodes = await db.Coupons.Where(c => couponIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Code, ct);
        var staffIds = loaded.AuditEntries.Where(a => a.ActorKind == ActorKind.Staff && a.ActorId != null).Select(a => a.ActorId!.Value).Distinct().ToList();
        loaded.StaffRoles = await db.Staff.Where(s => staffIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Role, ct);
        var terminalIds = loaded.AuditEntries.Where(a => a.ActorKind == ActorKind.Terminal && a.ActorId != null).Select(a => a.ActorId!.Value).Distinct().ToList();
        loaded.TerminalNames = await db.Terminals.Where(t => terminalIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        return loaded;
    }

    private List<Section> Sections(Loaded d, IReadOnlyDictionary<string, string> tiers)
    {
        string? Store(long? id) => id is { } s ? d.Stores.GetValueOrDefault(s, s.ToString(CultureInfo.InvariantCulture)) : null;
        string? Tier(string? code) => code is null ? null : tiers.GetValueOrDefault(code, code);
        var orders = d.Sales.ToDictionary(s => s.Id, s => s.OrderNumber);
        string? Order(long? saleId) => saleId is { } s ? orders.GetValueOrDefault(s) : null;
        var cardNumbers = d.Cards.ToDictionary(c => c.Id, c => c.Number);

        var sections = new List<Section> { Profile(d), Account(d, Tier) };

        // The same person's duplicate enrolments merged into this member: their identity is this person's data too.
        var mergedFrom = Table("mergedMembers", ("memberId", "Member id"), ("name", "Name"), ("mobile", "Mobile"), ("idNumber", "ID number"), ("enrolStore", "Enrolment store"), ("enrolledAt", "Enrolled at"), ("mergedAt", "Merged at"));
        foreach (var x in d.MergedFrom)
        {
            var erased = x.AnonymisedAt is not null;
            mergedFrom.Add(x.Id, erased ? null : x.Name, erased ? null : x.Mobile, x.IdNumberCipher is { } c ? protector.UnprotectIdNumber(c) : null, Store(x.EnrolStoreId), x.EnrolledAt, x.MergedAt);
        }

        sections.Add(mergedFrom);

        var consents = Table("consents", ("kind", "Consent"), ("granted", "Granted"), ("at", "Time"), ("source", "Source"), ("store", "Store"));
        foreach (var c in d.Consents)
        {
            consents.Add(new Coded(c.Kind, "consentkind." + c.Kind), c.Granted, c.At, new Coded(c.Source, "consentsource." + c.Source), Store(c.StoreId));
        }

        var health = Table("health", ("kind", "Kind"), ("item", "Item"), ("sku", "SKU"), ("dailyDose", "Daily dose"), ("packSize", "Pack size"), ("updatedAt", "Updated"));
        if (d.Health is { } file)
        {
            var profile = protector.UnprotectHealth(file.Cipher);
            foreach (var condition in profile.Conditions)
            {
                health.Add(new Coded("condition", "healthitem.condition"), condition, null, null, null, file.UpdatedAt);
            }

            foreach (var allergy in profile.Allergies)
            {
                health.Add(new Coded("allergy", "healthitem.allergy"), allergy, null, null, null, file.UpdatedAt);
            }

            foreach (var medicine in profile.Medicines)
            {
                health.Add(new Coded("medicine", "healthitem.medicine"), medicine.Name, medicine.Sku, medicine.DailyDose, medicine.PackSize, file.UpdatedAt);
            }
        }

        sections.AddRange([consents, health]);

        var cards = Table("cards", ("number", "Card number"), ("kind", "Kind"), ("status", "Status"), ("issuedAt", "Issued"), ("issuedStore", "Store"),
            ("validUntil", "Valid until"), ("tier", "Tier"), ("holder", "Holder"), ("anonymous", "Anonymous card"), ("replaces", "Replaces card"));
        foreach (var c in d.Cards)
        {
            cards.Add(c.Number, Lower(c.Kind, "cardkind."), Lower(c.Status, "card."), c.IssuedAt, Store(c.IssuedStoreId), c.ValidUntil, Tier(c.Tier), c.Holder, c.Anonymous,
                c.ReplacesCardId is { } r ? cardNumbers.GetValueOrDefault(r) : null);
        }

        var cardEvents = Table("cardEvents", ("card", "Card number"), ("at", "Time"), ("event", "Event"), ("fee", "Fee (yuan)"), ("store", "Store"), ("note", "Note"));
        foreach (var e in d.CardEvents)
        {
            cardEvents.Add(cardNumbers.GetValueOrDefault(e.CardId), e.At, Snake(e.Kind, "cardevent."), Yuan(e.Fee), Store(e.StoreId), e.Note);
        }

        var tierChanges = Table("tierChanges", ("at", "Time"), ("from", "From tier"), ("to", "To tier"), ("reason", "Cause"), ("note", "Note"));
        foreach (var t in d.TierChanges)
        {
            tierChanges.Add(t.At, Tier(t.FromTier), Tier(t.ToTier), Lower(t.Reason, "tierchange."), t.Note);
        }

        sections.AddRange([cards, cardEvents, tierChanges]);

        var lots = Table("pointsLots", ("earnedAt", "Earned at"), ("expiresAt", "Expires"), ("points", "Points"), ("remaining", "Remaining"), ("store", "Store"));
        foreach (var x in d.PointsLots)
        {
            lots.Add(x.EarnedAt, x.ExpiresAt, x.Points, x.Remaining, Store(x.StoreId));
        }

        var entries = Table("pointsEntries", ("at", "Time"), ("points", "Points"), ("cause", "Cause"), ("reference", "Reference"), ("order", "Order number"),
            ("debtIncurred", "Points debt incurred"), ("debtRepaid", "Points debt repaid"));
        foreach (var x in d.PointsEntries)
        {
            entries.Add(x.At, x.Points, Lower(x.Cause, "cause."), x.Reference, Order(x.SaleId), x.DebtIncurred, x.DebtRepaid);
        }

        var adjustments = Table("pointsAdjustments", ("requestedAt", "Time"), ("points", "Points"), ("reason", "Reason"), ("status", "Status"), ("store", "Store"), ("decidedAt", "Decided at"));
        foreach (var x in d.Adjustments)
        {
            adjustments.Add(x.RequestedAt, x.Points, x.Reason, Snake(x.Status, "adjustmentstatus."), Store(x.StoreId), x.DecidedAt);
        }

        sections.AddRange([lots, entries, adjustments]);

        var svLots = Table("storedValueLots", ("issuedAt", "Time"), ("store", "Store"), ("principal", "Principal"), ("bonus", "Bonus"), ("principalLeft", "Principal left"),
            ("bonusLeft", "Bonus left"), ("bonusForfeited", "Bonus forfeited"));
        foreach (var x in d.StoredLots)
        {
            svLots.Add(x.IssuedAt, Store(x.StoreId), Yuan(x.Principal), Yuan(x.Bonus), Yuan(x.PrincipalLeft), Yuan(x.BonusLeft), Yuan(x.BonusForfeited));
        }

        var svEntries = Table("storedValueEntries", ("at", "Time"), ("cause", "Cause"), ("principal", "Principal"), ("bonus", "Bonus"), ("store", "Store"), ("reference", "Reference"), ("order", "Order number"));
        foreach (var x in d.StoredEntries)
        {
            svEntries.Add(x.At, Snake(x.Cause, "svcause."), Yuan(x.Principal), Yuan(x.Bonus), Store(x.StoreId), x.Reference, Order(x.SaleId));
        }

        var topUps = Table("topUps", ("at", "Time"), ("orderNumber", "Order number"), ("store", "Store"), ("amount", "Amount (yuan)"), ("bonus", "Bonus"), ("gifts", "Gifts"), ("subCards", "Sub-cards"));
        foreach (var x in d.TopUps)
        {
            topUps.Add(x.At, x.OrderNumber, Store(x.StoreId), Yuan(x.Amount), Yuan(x.Bonus), string.Join("; ", x.GiftList), x.SubCards);
        }

        sections.AddRange([svLots, svEntries, topUps]);

        var sales = Table("sales", ("at", "Time"), ("kind", "Kind"), ("orderNumber", "Order number"), ("store", "Store"), ("amount", "Amount (yuan)"), ("discount", "Discount given"),
            ("paid", "Paid"), ("points", "Points"), ("pointsUsed", "Points used"), ("storedValue", "Paid with stored value"), ("originalOrder", "Original order"));
        var lines = Table("saleLines", ("orderNumber", "Order number"), ("line", "Line"), ("sku", "SKU"), ("name", "Product"), ("quantity", "Quantity"), ("unitPrice", "Unit price"),
            ("amount", "Amount (yuan)"), ("discount", "Discount given"), ("paid", "Paid"), ("points", "Points"), ("discountRule", "Discount rule"));
        foreach (var s in d.Sales)
        {
            sales.Add(s.At, Snake(s.Kind, "salekind."), s.OrderNumber, Store(s.StoreId), Yuan(s.Amount), Yuan(s.Discount), Yuan(s.Paid), s.Points, s.PointsUsed,
                Yuan(s.StoredPrincipal + s.StoredBonus), Order(s.OriginalSaleId));
            foreach (var x in s.Lines.OrderBy(x => x.LineNo))
            {
                lines.Add(s.OrderNumber, x.LineNo, x.Sku, x.Name, x.Quantity, Yuan(x.UnitPrice), Yuan(x.Amount), Yuan(x.Discount), Yuan(x.Paid), x.Points, x.DiscountRule);
            }
        }

        sections.AddRange([sales, lines]);

        var coupons = Table("coupons", ("code", "Coupon code"), ("name", "Coupon"), ("kind", "Kind"), ("value", "Value"), ("status", "Status"), ("source", "Source"),
            ("issuedAt", "Issued at"), ("startsAt", "Valid from"), ("expiresAt", "Expires"), ("usedAt", "Used at"), ("store", "Store"));
        foreach (var x in d.Coupons)
        {
            coupons.Add(x.Code, x.Name, Snake(x.Kind, "couponkind."), Yuan(x.Value), Snake(x.Status, "couponstatus."), Snake(x.Source, "couponsource."),
                x.IssuedAt, x.StartsAt, x.ExpiresAt, x.UsedAt, Store(x.StoreId));
        }

        var uses = Table("couponUses", ("at", "Time"), ("coupon", "Coupon code"), ("order", "Order number"), ("store", "Store"), ("discount", "Discount given"), ("returnedAt", "Returned at"));
        foreach (var x in d.CouponUses)
        {
            uses.Add(x.At, d.CouponCodes.GetValueOrDefault(x.CouponId), Order(x.SaleId), Store(x.StoreId), Yuan(x.Discount), x.ReturnedAt);
        }

        // Pickup codes are left out: they hand the gift to whoever holds them.
        var redemptions = Table("redemptions", ("at", "Time"), ("item", "Item"), ("kind", "Kind"), ("points", "Points"), ("value", "Value"), ("store", "Store"),
            ("status", "Status"), ("pickedUpAt", "Picked up"), ("pickedUpStore", "Pickup store"), ("cancelledAt", "Cancelled"));
        foreach (var x in d.Redemptions)
        {
            redemptions.Add(x.At, x.ItemName, Snake(x.Kind, "rewardkind."), x.Points, Yuan(x.Value), Store(x.StoreId), Snake(x.Status, "redemptionstatus."),
                x.PickedUpAt, Store(x.PickedUpStoreId), x.CancelledAt);
        }

        var entitlements = Table("entitlements", ("name", "Entitlement"), ("year", "Year"), ("grantedAt", "Issued at"), ("expiresAt", "Expires"), ("usedAt", "Used at"), ("usedStore", "Store"), ("revokedAt", "Revoked at"));
        foreach (var x in d.Entitlements)
        {
            entitlements.Add(x.Name, x.Year, x.GrantedAt, x.ExpiresAt, x.UsedAt, Store(x.UsedStoreId), x.RevokedAt);
        }

        var milestones = Table("milestones", ("rule", "Milestone"), ("counter", "Progress"), ("nextStep", "Next step"));
        foreach (var x in d.Milestones)
        {
            milestones.Add(x.RuleId, x.Counter, x.NextStep);
        }

        sections.AddRange([coupons, uses, redemptions, entitlements, milestones]);

        var care = Table("careTasks", ("kind", "Kind"), ("dueOn", "Due"), ("store", "Store"), ("createdAt", "Planned at"), ("doneAt", "Done at"), ("outcome", "Outcome"),
            ("systolic", "Systolic"), ("diastolic", "Diastolic"), ("glucose", "Blood glucose"), ("note", "Note"));
        foreach (var x in d.CareTasks)
        {
            var readings = x.Cipher is { } c ? protector.UnprotectReadings(c) : null;
            care.Add(Snake(x.Kind, "carekind."), x.DueOn, Store(x.StoreId), x.CreatedAt, x.DoneAt, x.Outcome is { } o ? new Coded(o, "careoutcome." + o) : null,
                readings?.Systolic, readings?.Diastolic, readings?.Glucose, readings?.Note);
        }

        var log = Table("auditLog", ("at", "Time"), ("action", "Action"), ("actor", "By"), ("store", "Store"), ("entity", "Record"), ("detail", "Detail"));
        foreach (var x in d.AuditEntries)
        {
            object? actor = x.ActorKind switch
            {
                ActorKind.Staff when x.ActorId is { } s && d.StaffRoles.TryGetValue(s, out var role) => new Coded(Snake(role), "role." + Snake(role)),
                ActorKind.Terminal when x.ActorId is { } t => d.TerminalNames.GetValueOrDefault(t) ?? "terminal",
                ActorKind.System => new Coded("system", "actor.system"),
                _ => Snake(x.ActorKind),
            };
            log.Add(x.At, x.Action, actor, Store(x.StoreId), x.EntityType is null ? null : $"{x.EntityType} {x.EntityId}", x.Detail);
        }

        sections.AddRange([care, log]);
        return sections;
    }

    /// <summary>
    /// The member's profile, one field a line. New profile fields go here, and only here: the
    /// JSON object, the CSV and the section count follow. An erased member has no name or phone
    /// left (the placeholders are not shown).
    /// </summary>
    private Section Profile(Loaded d)
    {
        var m = d.Member;
        var erased = m.AnonymisedAt is not null;
        (string Key, string Label, object? Value)[] fields =
        [
            ("memberId", "Member id", m.Id),
            ("program", "Program", d.ProgramName),
            ("name", "Name", erased ? null : m.Name),
            ("gender", "Gender", Lower(m.Gender, "gender.")),
            ("birthday", "Birthday", m.Birthday),
            ("mobile", "Mobile", erased ? null : m.Mobile),
            ("idNumber", "ID number", m.IdNumberCipher is { } c ? protector.UnprotectIdNumber(c) : null),
            ("channel", "How they heard of us", new Coded(m.Channel, "channel." + m.Channel)),
            ("enrolStore", "Enrolment store", d.Stores.GetValueOrDefault(m.EnrolStoreId)),
            ("enrolStaff", "Enrolled by", d.EnrolStaff),
            ("enrolTerminal", "POS terminal", d.EnrolTerminal),
            ("enrolledAt", "Enrolled at", m.EnrolledAt),
            ("status", "Status", Lower(m.Status, "memberstatus.")),
            ("erasedAt", "Personal data erased at", m.AnonymisedAt),
            ("kind", "Member kind", d.File?.Kind == MemberKind.Organisation ? new Coded("organisation", "Organisation") : new Coded("person", "Person")),
            ("lunarBirthday", "Keeps the lunar birthday", d.File?.LunarBirthday ?? false),
            ("phone2", "Second phone", d.File?.Phone2),
            ("district", "District", d.File?.District),
            ("community", "Community", d.File?.Community),
            ("address", "Street address", d.File?.AddressCipher is { } a ? protector.UnprotectAddress(a) : null),
            ("weChat", "WeChat ID", d.File?.WeChat),
            ("email", "E-mail", d.File?.Email),
            ("insured", "Medical insurance", d.File?.Insured),
            ("insuranceType", "Insurance scheme", d.File?.InsuranceType is { } t ? new Coded(t, "insurance." + t) : null),
            ("interests", "Health interests", d.File is { } f1 ? string.Join(", ", f1.InterestList) : null),
            ("tags", "Tags", d.File is { } f2 ? string.Join(", ", f2.TagList) : null),
            ("notes", "Notes", d.File?.Notes),
            ("purchasers", "Purchasers", d.Purchasers.Count == 0 ? null : string.Join("; ", d.Purchasers.Select(x => $"{x.Name} {x.Mobile}" + (x.Role is null ? "" : $" ({x.Role})")))),
        ];
        return Record("profile", fields);
    }

    private static Section Account(Loaded d, Func<string?, string?> tier)
    {
        var a = d.Account;
        (string Key, string Label, object? Value)[] fields =
        [
            ("tier", "Tier", tier(a?.Tier)),
            ("tierSince", "Tier since", a?.TierSince),
            ("points", "Points", a?.Balance ?? 0),
            ("pointsDebt", "Points debt", a?.Debt ?? 0),
            ("pointsEarned", "Points earned in all", a?.CumulativeEarned ?? 0),
            ("spend", "Spend in all", Yuan(a?.CumulativeSpend ?? 0)),
            ("spendYear", "Year", a is { SpendYear: > 0 } ? a.SpendYear : (int?)null),
            ("yearSpend", "Spend in that year", Yuan(a?.YearSpend ?? 0)),
            ("lastPurchaseAt", "Last purchase", a?.LastPurchaseAt),
            ("storedPrincipal", "Principal", Yuan(a?.StoredPrincipal ?? 0)),
            ("storedBonus", "Bonus", Yuan(a?.StoredBonus ?? 0)),
        ];
        return Record("account", fields);
    }

    private static Section Record(string key, (string Key, string Label, object? Value)[] fields)
    {
        var section = new Section(key, true, [.. fields.Select(f => (f.Key, f.Label))]);
        section.Add([.. fields.Select(f => f.Value)]);
        return section;
    }

    private static Section Table(string key, params (string Key, string Label)[] columns) => new(key, false, columns);

    /// <summary>Fen as yuan with two decimals (the scale is kept: 12300 fen is 123.00).</summary>
    private static decimal Yuan(long fen) => fen * 0.01m;

    private static string Snake<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>An enum as its snake_case code, labelled by the resource key <c>prefix + code</c>.</summary>
    private static Coded Snake<T>(T value, string prefix)
        where T : struct, Enum => new(Snake(value), prefix + Snake(value));

    /// <summary>An enum as its snake_case code, labelled by the older resource keys written in lower case without separators.</summary>
    private static Coded Lower<T>(T value, string prefix)
        where T : struct, Enum => new(Snake(value), prefix + value.ToString().ToLowerInvariant());

    /// <summary>A stable code in JSON, its label in the reader's language in CSV (the code when there is no label).</summary>
    private sealed record Coded(string Code, string LabelKey);

    /// <summary>A part of the export, the same in JSON and CSV: one record of named fields, or a table of rows.</summary>
    private sealed class Section(string key, bool isRecord, IReadOnlyList<(string Key, string Label)> columns)
    {
        public string Key => key;

        public string FileName => JsonNamingPolicy.SnakeCaseLower.ConvertName(key) + ".csv";

        public bool IsRecord => isRecord;

        public IReadOnlyList<(string Key, string Label)> Columns => columns;

        public List<object?[]> Rows { get; } = [];

        public void Add(params object?[] row)
        {
            if (row.Length != columns.Count)
            {
                throw new InvalidOperationException($"Section {key}: {row.Length} values for {columns.Count} columns.");
            }

            Rows.Add(row);
        }
    }

    private sealed class Document(TimeZoneInfo zone, DateTimeOffset exportedAt, long memberId, string program, List<Section> sections)
    {
        public byte[] ToJson()
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, JsonOptions))
            {
                w.WriteStartObject();
                w.WriteNumber("memberId", memberId);
                w.WriteString("program", program);
                w.WriteString("exportedAt", exportedAt.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
                w.WriteString("timeZone", zone.Id);
                w.WriteString("currency", "CNY");
                foreach (var s in sections)
                {
                    w.WritePropertyName(s.Key);
                    if (s.IsRecord)
                    {
                        WriteRow(w, s, s.Rows[0]);
                        continue;
                    }

                    w.WriteStartArray();
                    foreach (var row in s.Rows)
                    {
                        WriteRow(w, s, row);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            return buffer.ToArray();
        }

        public byte[] ToZip(IStringLocalizer l)
        {
            using var buffer = new MemoryStream();
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                Put(zip, "member.json", ToJson());
                foreach (var s in sections)
                {
                    Put(zip, s.FileName, ToCsv(s, l));
                }
            }

            return buffer.ToArray();
        }

        private void Put(ZipArchive zip, string name, byte[] content)
        {
            var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
            entry.LastWriteTime = exportedAt;
            using var stream = entry.Open();
            stream.Write(content);
        }

        private byte[] ToCsv(Section s, IStringLocalizer l)
        {
            var text = new StringBuilder();
            void Line(IEnumerable<string> cells) => text.Append(string.Join(',', cells)).Append("\r\n");
            if (s.IsRecord)
            {
                Line([Infrastructure.Export.ExcelCsv.Cell(l["Field"].Value), Infrastructure.Export.ExcelCsv.Cell(l["Content"].Value)]);
                for (var i = 0; i < s.Columns.Count; i++)
                {
                    Line([Infrastructure.Export.ExcelCsv.Cell(l[s.Columns[i].Label].Value), CsvValue(s.Rows[0][i], l)]);
                }
            }
            else
            {
                Line(s.Columns.Select(c => Infrastructure.Export.ExcelCsv.Cell(l[c.Label].Value)));
                foreach (var row in s.Rows)
                {
                    Line(row.Select(v => CsvValue(v, l)));
                }
            }

            return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text.ToString())];
        }

        private void WriteRow(Utf8JsonWriter w, Section s, object?[] row)
        {
            w.WriteStartObject();
            for (var i = 0; i < row.Length; i++)
            {
                w.WritePropertyName(s.Columns[i].Key);
                switch (row[i])
                {
                    case null: w.WriteNullValue(); break;
                    case string text: w.WriteStringValue(text); break;
                    case bool b: w.WriteBooleanValue(b); break;
                    case int n: w.WriteNumberValue(n); break;
                    case long n: w.WriteNumberValue(n); break;
                    case decimal n: w.WriteNumberValue(n); break;
                    case DateTime t: w.WriteStringValue(Local(t)); break;
                    case DateOnly d: w.WriteStringValue(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); break;
                    case Coded c: w.WriteStringValue(c.Code); break;
                    case var other: throw new InvalidOperationException($"Cannot export a {other.GetType().Name}.");
                }
            }

            w.WriteEndObject();
        }

        private string CsvValue(object? value, IStringLocalizer l) => value switch
        {
            null => "",
            string text => Infrastructure.Export.ExcelCsv.Cell(text),
            bool b => Infrastructure.Export.ExcelCsv.Cell(l[b ? "Yes" : "No"].Value),
            int n => n.ToString(CultureInfo.InvariantCulture),
            long n => n.ToString(CultureInfo.InvariantCulture),
            decimal n => n.ToString(CultureInfo.InvariantCulture),
            DateTime t => Local(t),
            DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Coded c => Infrastructure.Export.ExcelCsv.Cell(l[c.LabelKey] is { ResourceNotFound: false } label ? label.Value : c.Code),
            var other => throw new InvalidOperationException($"Cannot export a {other.GetType().Name}."),
        };

        /// <summary>An instant in the program's time zone, with its offset (UTC for the far ends of the calendar).</summary>
        private string Local(DateTime utc)
        {
            var at = new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
            try
            {
                at = TimeZoneInfo.ConvertTime(at, zone);
            }
            catch (ArgumentOutOfRangeException)
            {
                // Stays in UTC: a sentinel far in the future has no local time.
            }

            return at.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The member's records as stored, read in one snapshot.</summary>
    private sealed class Loaded
    {
        public required Member Member { get; init; }

        public required string ProgramName { get; init; }

        public string? EnrolStaff { get; init; }

        public string? EnrolTerminal { get; init; }

        public MemberAccount? Account { get; init; }

        public required List<MemberConsent> Consents { get; init; }

        public MemberHealth? Health { get; init; }

        public MemberProfile? File { get; init; }

        public required List<MemberPurchaser> Purchasers { get; init; }

        public required List<Member> MergedFrom { get; init; }

        public required List<Card> Cards { get; init; }

        public required List<CardEvent> CardEvents { get; init; }

        public required List<TierChange> TierChanges { get; init; }

        public required List<PointsLot> PointsLots { get; init; }

        public required List<PointsEntry> PointsEntries { get; init; }

        public required List<PointsAdjustment> Adjustments { get; init; }

        public required List<StoredValueLot> StoredLots { get; init; }

        public required List<StoredValueEntry> StoredEntries { get; init; }

        public required List<TopUp> TopUps { get; init; }

        public required List<Sale> Sales { get; init; }

        public required List<Coupon> Coupons { get; init; }

        public required List<CouponUse> CouponUses { get; init; }

        public required List<Redemption> Redemptions { get; init; }

        public required List<Entitlement> Entitlements { get; init; }

        public required List<MilestoneProgress> Milestones { get; init; }

        public required List<CareTask> CareTasks { get; init; }

        public required List<AuditEntry> AuditEntries { get; init; }

        public Dictionary<long, string> Stores { get; set; } = [];

        public Dictionary<long, string> CouponCodes { get; set; } = [];

        public Dictionary<long, Domain.Organisation.StaffRole> StaffRoles { get; set; } = [];

        public Dictionary<long, string> TerminalNames { get; set; } = [];

        /// <summary>Records per section, for the audit log: numbers only (the health file counts as one record).</summary>
        public Dictionary<string, int> Counts() => new()
        {
            ["profile"] = 1,
            ["account"] = Account is null ? 0 : 1,
            ["consents"] = Consents.Count,
            ["healthFile"] = Health is null ? 0 : 1,
            ["cards"] = Cards.Count,
            ["cardEvents"] = CardEvents.Count,
            ["tierChanges"] = TierChanges.Count,
            ["pointsLots"] = PointsLots.Count,
            ["pointsEntries"] = PointsEntries.Count,
            ["pointsAdjustments"] = Adjustments.Count,
            ["storedValueLots"] = StoredLots.Count,
            ["storedValueEntries"] = StoredEntries.Count,
            ["topUps"] = TopUps.Count,
            ["sales"] = Sales.Count,
            ["saleLines"] = Sales.Sum(s => s.Lines.Count),
            ["coupons"] = Coupons.Count,
            ["couponUses"] = CouponUses.Count,
            ["redemptions"] = Redemptions.Count,
            ["entitlements"] = Entitlements.Count,
            ["milestones"] = Milestones.Count,
            ["careTasks"] = CareTasks.Count,
            ["auditLog"] = AuditEntries.Count,
        };
    }
}

public static class MemberDataExportApi
{
    public static void MapMemberDataExportApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/members/{id:long}/data-export", async (long id, MemberDataExportRequest request, MemberDataExport export, HttpContext http, CancellationToken ct) =>
            {
                var file = await export.CreateAsync(id, request, CallerScope.From(http.User), ct);
                http.Response.Headers.CacheControl = "no-cache, no-store";
                return TypedResults.File(file.Content, file.ContentType, file.FileName);
            })
            .WithTags("Members")
            .RequireAuthorization(Permissions.PersonalDataUnmask)
            .WithName("ExportMemberData")
            .WithSummary("Everything held about one member, in clear, for handing to that person: format json (one document) or zip (member.json and one CSV per section). Audited with the reason.")
            .WithDescription("For administrators and the store managers of the member's enrolment store. data_export.reason_required, data_export.format_unknown (400); "
                + "scope.store_forbidden (403); member.not_found (404). The file name carries the member id and the date only.")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);
    }
}
