using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Members;

public static class MembersApi
{
    public static void MapMembersApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/members").WithTags("Members").RequireAuthorization(Permissions.MembersRead);

        g.MapPost("/", async (EnrollMemberRequest request, EnrollMember enrol, HttpContext http, CancellationToken ct) =>
            {
                var member = await enrol.HandleAsync(request, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/members/{member.Id}", member);
            })
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("EnrollMember")
            .WithSummary("Enrol a member at a store and issue their card.")
            .WithDescription("Phone (mainland mobile) and name are required; an ID number is checked by its check character. "
                + "Without cardNumber a virtual card is numbered from the program's sequence. A terminal enrols at its own store. "
                + "Errors: validation.failed (400, field errors), member.phone_taken / member.id_number_taken / card.number_taken (409), scope.store_forbidden (403).")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(409);

        g.MapPost("/lookup", async (MemberLookupRequest request, FindMembers find, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await find.LookupAsync(request, CallerScope.From(http.User), ct)))
            .WithName("LookupMember")
            .WithSummary("Find members by exactly one identifier: card number, phone, ID number, or name + last four phone digits.")
            .WithDescription("Searches every store of the caller's programs. POST keeps phone and ID numbers out of URLs and logs. Answers are masked.")
            .ProducesProblem(400);

        g.MapGet("/", async (long? storeId, int? page, int? pageSize, FindMembers find, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await find.ListAsync(storeId, page ?? 1, pageSize ?? 20, CallerScope.From(http.User), ct)))
            .WithName("ListMembers")
            .WithSummary("Members enrolled at the caller's stores, newest first, paged (pageSize ≤ 100).")
            .ProducesProblem(403);

        g.MapGet("/{id:long}", async (long id, FindMembers find, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await find.GetAsync(id, CallerScope.From(http.User), ct)))
            .WithName("GetMember")
            .WithSummary("One member of the caller's stores (masked).")
            .ProducesProblem(404);

        g.MapGet("/duplicates", async (long programId, Duplicates duplicates, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await duplicates.FindAsync(programId, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.Console)
            .WithName("FindDuplicateMembers")
            .WithSummary("Members of the program (in the caller's stores) who look like one person: the same name and birthday. Phones masked.")
            .ProducesProblem(404);

        g.MapGet("/{id:long}/consents", async (long id, HealthFile health, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await health.ConsentsAsync(id, CallerScope.From(http.User), ct)))
            .WithName("GetConsents")
            .WithSummary("The member's consents now (marketing by SMS, e-mail and WeChat; health data) and their history.")
            .ProducesProblem(404);

        g.MapPost("/{id:long}/consents", async (long id, ConsentRequest request, HealthFile health, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await health.RecordConsentAsync(id, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("RecordConsent")
            .WithSummary("Record a consent given or withdrawn, with its source; it counts at once. Withdrawing health consent erases the health profile. Audited.")
            .WithDescription("consent.kind_unknown, consent.source_unknown (400).")
            .ProducesProblem(400).ProducesProblem(404);

        g.MapGet("/{id:long}/health", async (long id, HealthFile health, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await health.SummaryAsync(id, CallerScope.From(http.User), ct)))
            .WithName("GetHealthSummary")
            .WithSummary("Whether the member consented to keep health data and how many conditions, allergies and medicines are on file — never which (unmask for that).")
            .ProducesProblem(404);

        g.MapPut("/{id:long}/health", async (long id, HealthRequest request, HealthFile health, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await health.SaveAsync(id, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("SaveHealthProfile")
            .WithSummary("Replace the member's chronic conditions, drug allergies (ingredients or drug classes, as products are tagged) and long-term medicines; kept encrypted. Needs health consent.")
            .WithDescription("consent.health_required (422); health.item_invalid, health.medicine_invalid (400).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        g.MapPost("/{id:long}/anonymise", async (long id, AnonymiseRequest request, HealthFile health, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await health.AnonymiseAsync(id, request.Reason, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.StaffManage)
            .WithName("AnonymiseMember")
            .WithSummary("Erase a member's personal data at their request (PIPL), keeping ledgers and reports right under the member id; administrators only, with the reason audited.")
            .WithDescription("anonymise.reason_required (400); anonymise.done (409).")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        g.MapPost("/{id:long}/unmask", async (long id, UnmaskRequest request, HealthFile health, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await health.UnmaskAsync(id, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.PersonalDataUnmask)
            .WithName("UnmaskMember")
            .WithSummary("One field of one member in clear text (id_number, mobile or health) for admins and store managers of the member's store, with the reason kept in the audit log.")
            .WithDescription("unmask.field_unknown, unmask.reason_required (400); 403 for other roles and stores.")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);
    }
}
