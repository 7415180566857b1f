using Microsoft.AspNetCore.Mvc;
using Patron.Server.Features.Checkout;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Rewards;

public static class CatalogueApi
{
    public static void MapCatalogueApi(this IEndpointRouteBuilder app)
    {
        var c = app.MapGroup("/api/catalogue").WithTags("Redemption catalogue");
        c.MapGet("", async (long? programId, long? storeId, Catalogue catalogue, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await catalogue.GetAsync(programId, storeId, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.StoresRead)
            .WithName("GetCatalogue")
            .WithSummary("The redemption catalogue in force: points price, kind, tiers, limits, windows, stores, whether it is open today, and stock per store for gifts that count it.")
            .ProducesProblem(404);

        c.MapPut("/{item}/stock", async (string item, SetStockRequest request, Catalogue catalogue, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await catalogue.SetStockAsync(item, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.CatalogueStock)
            .WithName("SetGiftStock")
            .WithSummary("Set a store's stock of a gift (after a delivery or a count); audited with the quantity before.")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);

        var r = app.MapGroup("/api/redemptions").WithTags("Redemption catalogue");
        r.MapGet("", async (long storeId, bool? awaitingPickup, int? page, Catalogue catalogue, HttpContext http, CancellationToken ct) =>
            {
                var found = await catalogue.PageAsync(storeId, awaitingPickup ?? false, page ?? 1, Catalogue.ApiPageSize, CallerScope.From(http.User), ct);
                http.Response.Headers["X-Total-Count"] = found.Total.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Ok(found.Items);
            })
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("ListRedemptions")
            .WithSummary("Redemptions taken at a store, newest first, 200 a page (page=2 for the next; X-Total-Count says how many in all; awaitingPickup=true: gifts not yet collected). Pickup codes are never listed.");

        r.MapPost("/pickup", async (PickupRequest request, [FromHeader(Name = Idempotency.Header)] string? key, Catalogue catalogue, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "pickup", request }, (caller, t) => catalogue.PickUpAsync(request, caller, t), ct)))
            .RequireAuthorization(Permissions.Checkout)
            .WithName("PickUpGift")
            .WithSummary("Hand over a redeemed gift against the member's pickup code, at the store that took the redemption (audited).")
            .WithDescription("redemption.not_found (404); redemption.picked_up, redemption.cancelled, redemption.wrong_store (422).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        r.MapPost("/{id:long}/cancel", async (long id, CancelRedemptionRequest request, [FromHeader(Name = Idempotency.Header)] string? key, Catalogue catalogue, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "cancel_redemption", id, request }, (caller, t) => catalogue.CancelAsync(id, request, caller, t), ct)))
            .RequireAuthorization(Permissions.Checkout)
            .WithName("CancelRedemption")
            .WithSummary("Cancel a redemption before its gift is collected (or its coupon or service used): points and stock come back; audited with the reason.")
            .WithDescription("redemption.picked_up, redemption.cancelled, redemption.coupon_used, redemption.service_used (422); redemption.reason_required (400).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
    }
}
