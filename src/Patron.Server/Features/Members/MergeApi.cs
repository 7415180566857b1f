using Microsoft.AspNetCore.Mvc;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Members;

public static class MergeApi
{
    public static void MapMergeApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/members/merge").WithTags("Members").RequireAuthorization(Permissions.MembersMerge);

        g.MapPost("/preview", async (MergeRequest request, MergeMembers merge, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await merge.PreviewAsync(request, CallerScope.From(http.User), ct)))
            .WithName("PreviewMemberMerge")
            .WithSummary("What merging one member into another would move: each card and what happens to it, points, stored value (principal, bonus), coupons, sales and other records, the tier, and conflicts. Changes nothing.")
            .WithDescription("Body { survivorId, mergedId } (reason optional here). The same refusals as the merge: merge.member_required, merge.same_member (400); scope.store_forbidden (403); member.not_found (404); merge.already_merged (409); merge.program_mismatch, merge.anonymised, merge.card_frozen, merge.health_too_large (422).")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        g.MapPost("", async (MergeRequest request, [FromHeader(Name = Idempotency.Header)] string? key, MergeMembers merge, Idempotency idempotency, HttpContext http, CancellationToken ct) =>
            {
                var caller = CallerScope.From(http.User);
                var (result, replayed) = await idempotency.RunAsync(caller, key, new { op = "member_merge", request }, c => merge.MergeAsync(request, caller, c), ct);
                if (replayed)
                {
                    http.Response.Headers["Idempotency-Replayed"] = "true";
                }

                return TypedResults.Ok(result);
            })
            .WithName("MergeMembers")
            .WithSummary("Merge a duplicate member (mergedId) into the member kept (survivorId), with a reason: cards, points and stored value (by ledger entries), counters, coupons, sales, redemptions, entitlements, top-ups, care tasks and consents move, the health files, milestone progress and the ID number are combined on the survivor, purchasers follow to an organisation, all in one transaction; the merged member stays, inactive, pointing to the survivor. Audited on both.")
            .WithDescription("Administrators, and store managers for two members of their own stores. merge.reason_required, merge.member_required, merge.same_member (400); scope.store_forbidden (403); member.not_found (404); merge.already_merged (409); merge.program_mismatch, merge.anonymised, merge.card_frozen, merge.health_too_large (both health files together over the limits) (422). "
                + "Afterwards a write naming the merged member answers member.merged (409) with mergedIntoId.")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
    }
}
