using Microsoft.AspNetCore.Mvc;
using Patron.Server.Features.Checkout;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.StoredValue;

public static class StoredValueApi
{
    public static void MapStoredValueApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/checkout/top-ups", async (TopUpRequest request, [FromHeader(Name = Idempotency.Header)] string? key, TopUpStoredValue topUp, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "top_up", request }, (c, t) => topUp.HandleAsync(request, c, t), ct)))
            .WithTags("Checkout")
            .RequireAuthorization(Permissions.Checkout)
            .WithName("TopUp")
            .WithSummary("Top up a member's stored value: bonus, sub-cards and gifts of the bonus tier reached, tier by single top-up, validity restarted where the program says so.")
            .WithDescription("Keyed by (store, orderNumber) like a sale: the same request again answers with the recorded top-up (replayed: true); different content is top_up.order_taken (409). "
                + "stored_value.disabled, stored_value.sub_card (422); stored_value.amount_invalid (400).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        var m = app.MapGroup("/api/members/{memberId:long}/stored-value").WithTags("Stored value");
        m.MapGet("", async (long memberId, StoredValueQueries q, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await q.GetAsync(memberId, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("GetStoredValue")
            .WithSummary("Principal, bonus, frozen or not (card lapsed), the latest entries and top-ups.")
            .ProducesProblem(404);

        m.MapPost("/refunds", async (long memberId, StoredValueRefundRequest request, [FromHeader(Name = Idempotency.Header)] string? key, RefundStoredValue refund, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "sv_refund", memberId, request }, (c, t) => refund.HandleAsync(memberId, request, c, t), ct)))
            .RequireAuthorization(Permissions.StoredValueRefund)
            .WithName("RefundStoredValue")
            .WithSummary("Pay back principal (never bonus: the bonus already spent is deducted) with a reason; the bonus that came with it lapses in proportion. Audited.")
            .WithDescription("stored_value.refund_exceeds, stored_value.refund_granted_benefits (money of a top-up that gave sub-cards, gifts or a tier), stored_value.not_refundable (422); stored_value.reason_required (400).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        var f = app.MapGroup("/api/finance").WithTags("Finance").RequireAuthorization(Permissions.FinanceRead);
        f.MapGet("/liability", async (long? programId, Liability liability, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await liability.GetAsync(CallerScope.From(http.User), programId, ct)))
            .WithName("GetLiability")
            .WithSummary("Outstanding stored value (principal, bonus) and points (at the program's point cash value) by program, store of issue and month of issue.");

        f.MapGet("/liability.csv", async (long? programId, Liability liability, HttpContext http, CancellationToken ct) =>
            {
                var report = await liability.GetAsync(CallerScope.From(http.User), programId, ct);
                return TypedResults.File(Liability.Csv(report), "text/csv; charset=utf-8", $"liability-{report.At:yyyyMMdd-HHmm}.csv");
            })
            .WithName("ExportLiability")
            .WithSummary("The liability report as CSV (UTF-8 with BOM, amounts in yuan).");

        f.MapGet("/costs", async (DateOnly from, DateOnly to, ProgramCosts costs, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await costs.GetAsync(from, to, CallerScope.From(http.User), ct)))
            .WithName("GetProgramCosts")
            .WithSummary("Redemption value, coupon discounts and cost, and card fees by store and month (local days from–to, at most two years), for the caller's stores.")
            .WithDescription("report.period_invalid (400).")
            .ProducesProblem(400);

        f.MapGet("/costs.csv", async (DateOnly from, DateOnly to, ProgramCosts costs, HttpContext http, CancellationToken ct) =>
                TypedResults.File(ProgramCosts.Csv(await costs.GetAsync(from, to, CallerScope.From(http.User), ct)), "text/csv; charset=utf-8", $"costs-{from:yyyyMMdd}-{to:yyyyMMdd}.csv"))
            .WithName("ExportProgramCosts")
            .WithSummary("The costs and fees report as CSV (UTF-8 with BOM, amounts in yuan), with a total row.")
            .WithDescription("report.period_invalid (400).")
            .ProducesProblem(400);
    }
}
