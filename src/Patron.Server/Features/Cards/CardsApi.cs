using Microsoft.AspNetCore.Mvc;
using Patron.Server.Features.Checkout;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;

namespace Patron.Server.Features.Cards;

public static class CardsApi
{
    private const string Refusals = "Refusals (422) name the rule: card.anonymous, card.not_lost, card.not_reportable, card.not_exchangeable, card.not_frozen, card.not_inactive, card.not_sub_card, card.sub_card_limit, card.renewal_not_offered.";

    public static void MapCardsApi(this IEndpointRouteBuilder app)
    {
        var m = app.MapGroup("/api/members/{memberId:long}").WithTags("Cards");
        m.MapGet("/cards", async (long memberId, CardOperations cards, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await cards.ListAsync(memberId, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.MembersRead)
            .WithName("ListMemberCards")
            .WithSummary("The member's cards (principal and sub-cards, with status, validity, tier and holder) and their history with fees.")
            .ProducesProblem(404);

        m.MapPost("/cards", async (long memberId, IssueCardRequest request, [FromHeader(Name = Idempotency.Header)] string? key, CardOperations cards, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "card.issue", memberId, request }, (c, t) => cards.IssueAsync(memberId, request, c, t), ct)))
            .RequireAuthorization(Permissions.CardsManage)
            .WithName("IssueCard")
            .WithSummary("Issue another card to a member: physical (a number from stock) or virtual; the program's card fee and validity apply.")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);

        m.MapPost("/sub-cards", async (long memberId, SubCardRequest request, [FromHeader(Name = Idempotency.Header)] string? key, CardOperations cards, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "card.sub", memberId, request }, (c, t) => cards.IssueSubCardAsync(memberId, request, c, t), ct)))
            .RequireAuthorization(Permissions.CardsManage)
            .WithName("IssueSubCard")
            .WithSummary("Issue a sub-card for someone the principal member names: it carries the program's sub-card tier (or the member's) and no balance.")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        var c = app.MapGroup("/api/cards/{cardId:long}").WithTags("Cards").RequireAuthorization(Permissions.CardsManage);
        Action("report-lost", "ReportCardLost", "Report a card lost: it is refused at every store at once; points and balance stay with the member.", (s, id, r, caller, ct) => s.ReportLostAsync(id, r, caller, ct));
        Action("activate", "ActivateCard", "Activate a card issued inactive.", (s, id, r, caller, ct) => s.ActivateAsync(id, r, caller, ct));
        Action("revoke", "RevokeSubCard", "Take back a sub-card (the principal's decision).", (s, id, r, caller, ct) => s.RevokeAsync(id, r, caller, ct));
        Action("renew", "RenewCard", "Renew a card for the program's renewal (and annual) fee: a new validity period; a lapsed card's stored value is usable again.", (s, id, r, caller, ct) => s.RenewAsync(id, r, caller, ct));
        Action("freeze", "FreezeCard", "Freeze a card (store manager or head office): refused at checkout until unfrozen.", (s, id, r, caller, ct) => s.FreezeAsync(id, r, caller, ct))
            .RequireAuthorization(Permissions.CardsFreeze);
        Action("unfreeze", "UnfreezeCard", "Unfreeze a frozen card.", (s, id, r, caller, ct) => s.UnfreezeAsync(id, r, caller, ct))
            .RequireAuthorization(Permissions.CardsFreeze);

        c.MapPost("/replace", async (long cardId, ReplaceCardRequest request, [FromHeader(Name = Idempotency.Header)] string? key, CardOperations cards, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "card.replace", cardId, request }, (caller, t) => cards.ReplaceAsync(cardId, request, caller, t), ct)))
            .WithName("ReplaceCard")
            .WithSummary("Replace a card reported lost (reason lost) or exchange a damaged one (reason damaged): the new card carries validity and holder; points and balance stay with the member; the old number is void. The replacement fee is recorded.")
            .WithDescription(Refusals)
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        c.MapPut("/holder", async (long cardId, CardHolderRequest request, CardOperations cards, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await cards.ChangeHolderAsync(cardId, request, CallerScope.From(http.User), ct)))
            .WithName("ChangeCardHolder")
            .WithSummary("Change who holds the card (a sub-card's holder, an organisation member's purchaser).")
            .ProducesProblem(400).ProducesProblem(404);

        RouteHandlerBuilder Action(string path, string name, string summary, Func<CardOperations, long, CardActionRequest, CallerScope, CancellationToken, Task<CardView>> run) =>
            c.MapPost("/" + path, async (long cardId, CardActionRequest? request, [FromHeader(Name = Idempotency.Header)] string? key, CardOperations cards, HttpContext http, CancellationToken ct) =>
                    TypedResults.Ok(await CheckoutApi.IdempotentAsync(http, key, new { op = "card." + path, cardId, request }, (caller, t) => run(cards, cardId, request ?? new CardActionRequest(), caller, t), ct)))
                .WithName(name)
                .WithSummary(summary)
                .WithDescription(Refusals)
                .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
    }
}
