using Microsoft.AspNetCore.Mvc;
using Patron.Server.Features.Checkout;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Coupons;

public static class CouponsApi
{
    public static void MapCouponsApi(this IEndpointRouteBuilder app)
    {
        var c = app.MapGroup("/api/coupons").WithTags("Coupons");
        c.MapGet("/templates", async (long programId, ManageCoupons coupons, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await coupons.TemplatesAsync(programId, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.ProgramsRead)
            .WithName("ListCouponTemplates")
            .WithSummary("The coupon templates of the program in force, with how many coupons were issued, used and are still open, and what their uses took off and cost.")
            .ProducesProblem(404);

        c.MapPost("/issue", async (IssueCouponsRequest request, [FromHeader(Name = Idempotency.Header)] string? key, ManageCoupons coupons, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "coupons_issue", request }, (caller, t) => coupons.IssueAsync(request, caller, t), ct)))
            .RequireAuthorization(Permissions.CouponsIssue)
            .WithName("IssueCoupons")
            .WithSummary("Issue coupons of a template to members (by id or card number, up to 10,000 at once) or as bearer coupons; staff give a reason, campaigns their name. Audited per coupon.")
            .WithDescription("coupon.template_unknown, coupon.recipients_invalid, coupon.reason_required, member.not_found, card.not_found (400); member.merged (409: a member named by id was merged into another; mergedIntoId, and merged listing each such id); coupon.total_reached, coupon.member_limit (422). "
                + "Send an Idempotency-Key so a retried request issues nothing twice.")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        c.MapGet("/{code}", async (string code, ManageCoupons coupons, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await coupons.GetAsync(code, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.Checkout)
            .WithName("GetCoupon")
            .WithSummary("One coupon by its code: template, terms, holder, uses left, validity, status.")
            .ProducesProblem(404);

        c.MapPost("/{code}/void", async (string code, VoidCouponRequest request, ManageCoupons coupons, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await coupons.VoidAsync(code, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.CouponsIssue)
            .WithName("VoidCoupon")
            .WithSummary("Void an unused coupon with a reason (audited).")
            .WithDescription("coupon.not_voidable (422), coupon.reason_required (400).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        app.MapGet("/api/members/{memberId:long}/coupons", async (long memberId, bool? all, ManageCoupons coupons, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await coupons.ForMemberAsync(memberId, all ?? false, CallerScope.From(http.User), ct)))
            .WithTags("Coupons")
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("ListMemberCoupons")
            .WithSummary("The member's open coupons (all=true: used, voided and expired too), newest first.")
            .ProducesProblem(404);
    }
}
