using Microsoft.AspNetCore.Mvc;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Checkout;

public static class CheckoutApi
{
    public static void MapCheckoutApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/checkout").WithTags("Checkout").RequireAuthorization(Permissions.Checkout);

        g.MapPost("/identify", async (IdentifyRequest request, IdentifyMember identify, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await identify.HandleAsync(request, CallerScope.From(http.User), ct)))
            .WithName("IdentifyMember")
            .WithSummary("Identify a member by card number, phone, ID number or QR token: masked profile, card usability with the reason, tier, points and what expires soon, coupons, warnings.")
            .WithDescription("A lost, replaced, lapsed or frozen card identifies its member with usable: false and the reason. Errors: lookup.one_identifier (400), member.not_found (404), qr.invalid (400), qr.expired (422).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        g.MapPost("/quote", async (SaleRequest request, CommitSale sale, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await sale.QuoteAsync(request, CallerScope.From(http.User), ct)))
            .WithName("QuoteSale")
            .WithSummary("Price a basket for a member: per-line member price and discount with the rule that gave it, and the points it would earn. Changes nothing.")
            .ProducesProblem(400).ProducesProblem(404);

        g.MapPost("/sales", async (SaleRequest request, [FromHeader(Name = Idempotency.Header)] string? key, CommitSale sale, Idempotency idempotency, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                return TypedResults.Ok(Mark(http, await idempotency.RunAsync(caller, key, new { op = "sale", request }, ct => sale.HandleAsync(request, caller, ct), ct)));
            })
            .WithName("CommitSale")
            .WithSummary("Record a sale: the quote's figures, points earned, tier, conversions, milestones and entitlements, in one transaction.")
            .WithDescription("Keyed by (store, orderNumber): the same request again answers with the recorded sale (replayed: true); different content is sale.order_taken (409). "
                + "enrolment.purchase_too_small (422) when enrolling with a purchase below the program's minimum.")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        g.MapPost("/returns", async (ReturnRequest request, [FromHeader(Name = Idempotency.Header)] string? key, ReturnSale ret, Idempotency idempotency, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                return TypedResults.Ok(Mark(http, await idempotency.RunAsync(caller, key, new { op = "return", request }, ct => ret.HandleAsync(request, caller, ct), ct)));
            })
            .WithName("ReturnSale")
            .WithSummary("Return lines of a sale (all when none are named), reversing exactly the points they earned.")
            .WithDescription("Refusals: return.window_closed, return.not_returnable, return.quantity_exceeds, return.points_spent (422); sale.not_found (404).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
    }

    /// <summary>Runs a write under the request's Idempotency-Key (see <see cref="Idempotency"/>) and marks a replay.</summary>
    internal static async Task<T> IdempotentAsync<T>(HttpContext http, string? key, object fingerprint, Func<CallerScope, CancellationToken, Task<T>> work, CancellationToken ct)
    {
        var caller = CallerScope.From(http.User);
        var idempotency = http.RequestServices.GetRequiredService<Idempotency>();
        return Mark(http, await idempotency.RunAsync(caller, key, fingerprint, c => work(caller, c), ct));
    }

    /// <summary>Answers a replayed write with its first result and says so in a header.</summary>
    internal static T Mark<T>(HttpContext http, (T Result, bool Replayed) outcome)
    {
        if (outcome.Replayed)
        {
            http.Response.Headers["Idempotency-Replayed"] = "true";
        }

        return outcome.Result;
    }
}
