using System.Globalization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Cards;
using Patron.Domain.Coupons;
using Patron.Server.Features.Members;
using Patron.Server.Features.Points;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Checkout;

/// <summary>How the counter identifies a member: exactly one of card number, phone, ID number or the member's QR token.</summary>
public sealed record IdentifyRequest(string? CardNumber = null, string? Phone = null, string? IdNumber = null, string? QrToken = null);

public sealed record IdentifiedCard(string Number, string Kind, string Status, bool Usable, string? Reason, DateTime? ValidUntil = null, string? Tier = null, string? Holder = null);

public sealed record IdentifiedTier(string Code, string Name, decimal PercentOff, int PointsMultiplierPercent, IReadOnlyList<string> Benefits);

/// <summary>
/// What the cashier needs at once: the member (masked), the card and whether it may be used (and
/// why not), tier and benefits, points with what expires soon, usable coupons and warnings.
/// A sub-card identifies its principal member with the sub-card's tier and no stored value.
/// Warnings: points.debt, card.lapsed, allergies_on_file (the quote names the lines an allergy hits).
/// </summary>
public sealed record IdentifyResult(
    MemberView Member,
    IdentifiedCard? Card,
    IdentifiedTier? Tier,
    long Points,
    long PointsDebt,
    long PointsExpiringSoon,
    DateTime PointsExpiringBy,
    StoredValue.StoredValueBalance? StoredValue,
    IReadOnlyList<IssuedCouponView> Coupons,
    IReadOnlyList<string> Warnings);

/// <summary>
/// Identifies a member at the counter within the caller's programs. A lost, replaced, lapsed or
/// frozen card still identifies its member, with <c>usable: false</c> and the reason, so the
/// cashier can explain; it cannot be used to buy.
/// </summary>
public sealed class IdentifyMember(PatronDb db, FindMembers find, MemberQrTokens tokens, PointsQueries points, StoredValue.StoredValueQueries storedValue, HealthFile health, TimeProvider clock)
{
    public async Task<IdentifyResult> HandleAsync(IdentifyRequest r, CallerScope caller, CancellationToken ct)
    {
        Card? card = null;
        long memberId;
        if (!string.IsNullOrWhiteSpace(r.QrToken))
        {
            if (!string.IsNullOrWhiteSpace(r.CardNumber) || !string.IsNullOrWhiteSpace(r.Phone) || !string.IsNullOrWhiteSpace(r.IdNumber))
            {
                throw Problem.Invalid("lookup.one_identifier", "Give exactly one of: card number, phone, ID number, QR token.");
            }

            memberId = tokens.Read(r.QrToken.Trim());
        }
        else
        {
            var found = await find.LookupAsync(new MemberLookupRequest(r.CardNumber, r.Phone, r.IdNumber), caller, ct);
            memberId = found.Count == 1 ? found[0].Id : throw Problem.NotFound("member.not_found", "No member matches.");
            if (!string.IsNullOrWhiteSpace(r.CardNumber))
            {
                card = await db.Cards.AsNoTracking().FirstAsync(c => c.Number == r.CardNumber.Trim(), ct);
            }
        }

        var member = await find.GetAsync(memberId, caller, ct, anyStoreOfProgram: true);
        card ??= await db.Cards.AsNoTracking().Where(c => c.MemberId == memberId).OrderBy(c => c.Kind == CardKind.SubCard).ThenBy(c => c.Status).ThenByDescending(c => c.Id).FirstOrDefaultAsync(ct);
        var summary = await points.GetAsync(memberId, caller, ct, history: false);
        var rules = await points.RulesAsync(member.ProgramId, ct);
        var tier = rules.FindTier(card is { Kind: CardKind.SubCard, Tier: { } subTier } ? subTier : summary.Tier);
        var coupons = summary.Coupons.Where(c => c.ExpiresAt is null || c.ExpiresAt > clock.GetUtcNow().UtcDateTime).ToList();
        var stored = card is { Kind: CardKind.SubCard } ? null : (await storedValue.GetAsync(memberId, caller, ct, history: false)).Balance;
        var warnings = new List<string>();
        if (summary.Debt > 0)
        {
            warnings.Add("points.debt");
        }

        if (stored?.Frozen == true || (card is not null && card.IsPrincipal && card.IsExpiredAt(clock.GetUtcNow().UtcDateTime)))
        {
            warnings.Add("card.lapsed");
        }

        if (await health.AllergiesOnFileAsync(memberId, ct))
        {
            // That there are allergies on file, not which: the quote names the lines they hit.
            warnings.Add("allergies_on_file");
        }

        return new IdentifyResult(
            member,
            card is null ? null : new IdentifiedCard(card.Number, Cards.CardView.Name(card.Kind), card.Status.ToString().ToLowerInvariant(), card.IsUsable, card.RefusalCode, card.ValidUntil, card.Tier, card.Holder is null ? null : Domain.Common.Masking.Name(card.Holder)),
            tier is null ? null : new IdentifiedTier(tier.Code, tier.Name, tier.PercentOff, tier.PointsMultiplierPercent, tier.Benefits),
            summary.Balance,
            summary.Debt,
            summary.ExpiringSoon,
            summary.ExpiringBy,
            stored,
            coupons,
            warnings);
    }
}

/// <summary>
/// The member's dynamic QR code: a token naming the member and its expiry, encrypted and signed
/// with Data Protection (so it cannot be forged or read), valid for <see cref="Lifetime"/> by the
/// server's clock. The member page shows a fresh one; the POS scans it into identify.
/// </summary>
public sealed class MemberQrTokens(IDataProtectionProvider provider, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);
    private readonly IDataProtector _protector = provider.CreateProtector("Patron.Members.QrToken.v1");

    public (string Token, DateTime ExpiresAt) Issue(long memberId)
    {
        var expires = clock.GetUtcNow().Add(Lifetime);
        var payload = string.Create(CultureInfo.InvariantCulture, $"{memberId}|{expires.ToUnixTimeSeconds()}");
        return (_protector.Protect(payload), expires.UtcDateTime);
    }

    public long Read(string token)
    {
        string payload;
        try
        {
            payload = _protector.Unprotect(token);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            throw Problem.Invalid("qr.invalid", "The QR code is not a member code of this system.", "qrToken");
        }

        var parts = payload.Split('|');
        var expires = DateTimeOffset.FromUnixTimeSeconds(long.Parse(parts[1], CultureInfo.InvariantCulture));
        return expires < clock.GetUtcNow()
            ? throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "qr.expired", "The member code has expired; ask the member to refresh it.")
            : long.Parse(parts[0], CultureInfo.InvariantCulture);
    }
}
