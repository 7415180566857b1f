using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Checkout;

public static class CheckoutApi
{
    public static void MapCheckoutApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/checkout").WithTags("Checkout").RequireAuthorization(Permissions.Checkout);

        g.MapPost("/quote", async (SaleRequest request, CommitSale sale, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await sale.QuoteAsync(request, CallerScope.From(http.User), ct)))
            .WithName("QuoteSale")
            .WithSummary("Price a basket for a member: per-line member price and discount with the rule that gave it, and the points it would earn. Changes nothing.")
            .ProducesProblem(400).ProducesProblem(404);

        g.MapPost("/sales", async (SaleRequest request, CommitSale sale, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await sale.HandleAsync(request, CallerScope.From(http.User), ct)))
            .WithName("CommitSale")
            .WithSummary("Record a sale: the quote's figures, points earned, tier, conversions, milestones and entitlements, in one transaction.")
            .WithDescription("Keyed by (store, orderNumber): the same request again answers with the recorded sale (replayed: true); different content is sale.order_taken (409). "
                + "enrolment.purchase_too_small (422) when enrolling with a purchase below the program's minimum.")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        g.MapPost("/returns", async (ReturnRequest request, ReturnSale ret, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await ret.HandleAsync(request, CallerScope.From(http.User), ct)))
            .WithName("ReturnSale")
            .WithSummary("Return lines of a sale (all when none are named), reversing exactly the points they earned.")
            .WithDescription("Refusals: return.window_closed, return.not_returnable, return.quantity_exceeds, return.points_spent (422); sale.not_found (404).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
    }
}
