using Microsoft.AspNetCore.Mvc;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Rewards;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Points;

public static class PointsApi
{
    public static void MapPointsApi(this IEndpointRouteBuilder app)
    {
        var m = app.MapGroup("/api/members/{memberId:long}").WithTags("Points").RequireAuthorization(Permissions.MembersRead);

        m.MapGet("/points", async (long memberId, PointsQueries q, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await q.GetAsync(memberId, CallerScope.From(http.User), ct)))
            .WithName("GetMemberPoints")
            .WithSummary("Balance, debt, tier, points expiring soon, open lots, the latest ledger entries, coupons held and tier history.")
            .ProducesProblem(404);

        m.MapPost("/points/adjustments", async (long memberId, AdjustPointsRequest request, [FromHeader(Name = Idempotency.Header)] string? key, AdjustPoints adjust, Idempotency idempotency, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                return TypedResults.Ok(CheckoutApi.Mark(http, await idempotency.RunAsync(caller, key, new { op = "adjust", memberId, request }, ct => adjust.RequestAsync(memberId, request, caller, ct), ct)));
            })
            .RequireAuthorization(Permissions.PointsAdjust)
            .WithName("AdjustPoints")
            .WithSummary("Add (positive) or remove (negative) points with a reason; above the program's threshold it waits for a second approver (status pending).")
            .WithDescription("adjustment.role_forbidden / adjustment.over_cap / points.insufficient (422), adjustment.reason_required (422).")
            .ProducesProblem(403).ProducesProblem(404).ProducesProblem(422);

        m.MapPost("/tier", async (long memberId, SetTierRequest request, AdjustPoints adjust, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(new { tier = await adjust.SetTierAsync(memberId, request, CallerScope.From(http.User), ct) }))
            .RequireAuthorization(Permissions.TiersAssign)
            .WithName("SetMemberTier")
            .WithSummary("Grant a tier by head office's decision (recorded in the tier history with the reason).")
            .ProducesProblem(400).ProducesProblem(404);

        m.MapPost("/redemptions", async (long memberId, RedeemRequest request, [FromHeader(Name = Idempotency.Header)] string? key, Redeem redeem, Idempotency idempotency, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                return TypedResults.Ok(CheckoutApi.Mark(http, await idempotency.RunAsync(caller, key, new { op = "redeem", memberId, request }, ct => redeem.HandleAsync(memberId, request, caller, ct), ct)));
            })
            .RequireAuthorization(Permissions.Checkout)
            .WithName("RedeemPoints")
            .WithSummary("Exchange points for an item of the catalogue: a coupon, a cash coupon, a service entitlement or a gift waiting at the store for its pickup code.")
            .WithDescription("Refusals (422), changing nothing: redemption.closed, redemption.wrong_store, redemption.tier_forbidden, redemption.limit, redemption.points_debt, points.insufficient, redemption.out_of_stock, coupon.total_reached; redemption.item_unknown (400). A gift answers with its pickupCode.")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        m.MapGet("/entitlements", async (long memberId, Entitlements e, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await e.ListAsync(memberId, CallerScope.From(http.User), ct)))
            .WithName("ListEntitlements")
            .WithSummary("The member's entitlements (services granted by the program), used or not.");

        m.MapPost("/entitlements/{code}/use", async (long memberId, string code, long? storeId, [FromHeader(Name = Idempotency.Header)] string? key, Entitlements e, Idempotency idempotency, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                return TypedResults.Ok(CheckoutApi.Mark(http, await idempotency.RunAsync(caller, key, new { op = "entitlement", memberId, code, storeId }, ct => e.UseAsync(memberId, code, storeId, caller, ct), ct)));
            })
            .RequireAuthorization(Permissions.Checkout)
            .WithName("UseEntitlement")
            .WithSummary("Mark an entitlement used (once; entitlement.used or entitlement.none otherwise).")
            .ProducesProblem(404).ProducesProblem(422);

        var a = app.MapGroup("/api/points/adjustments").WithTags("Points").RequireAuthorization(Permissions.PointsAdjust);
        a.MapGet("/pending", async (AdjustPoints adjust, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await adjust.PendingAsync(CallerScope.From(http.User), ct)))
            .WithName("PendingAdjustments")
            .WithSummary("Adjustments waiting for a second approver, in the caller's stores.");
        a.MapPost("/{id:long}/approve", async (long id, AdjustPoints adjust, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await adjust.DecideAsync(id, true, CallerScope.From(http.User), ct)))
            .WithName("ApproveAdjustment")
            .WithSummary("Approve a pending adjustment (not by its requester; adjustment.same_approver).")
            .ProducesProblem(404).ProducesProblem(422);
        a.MapPost("/{id:long}/reject", async (long id, AdjustPoints adjust, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await adjust.DecideAsync(id, false, CallerScope.From(http.User), ct)))
            .WithName("RejectAdjustment")
            .WithSummary("Reject a pending adjustment.")
            .ProducesProblem(404).ProducesProblem(422);
    }
}
