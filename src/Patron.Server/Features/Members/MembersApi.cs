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
            .WithSummary("Members of the program (in the caller's stores) who look like one person: the same name and birthday, or a second phone that is another member's phone. Phones masked.")
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
            .WithSummary("One field of one member in clear text (id_number, mobile, contacts or health) for admins and store managers of the member's store, with the reason kept in the audit log.")
            .WithDescription("unmask.field_unknown, unmask.reason_required (400); 403 for other roles and stores.")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);

        g.MapGet("/{id:long}/profile", async (long id, MemberProfiles profiles, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await profiles.GetAsync(id, CallerScope.From(http.User), ct)))
            .WithName("GetMemberProfile")
            .WithSummary("The member file beyond the counter's needs (kind, lunar birthday, second phone, district and community, address, WeChat, e-mail, insurance, interests, tags, notes, purchasers) with its completeness score; contacts masked.")
            .ProducesProblem(404);

        g.MapPut("/{id:long}/profile", async (long id, ProfileRequest request, MemberProfiles profiles, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await profiles.SaveAsync(id, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("SaveMemberProfile")
            .WithSummary("Replace the profile; correct the name, phone, gender, birthday or ID number when given. The street address is kept encrypted. Audited (which fields, never their values).")
            .WithDescription("validation.failed with profile.* and member.* field codes (400); member.phone_taken, member.id_number_taken (409); member.anonymised (422).")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        g.MapPost("/{id:long}/purchasers", async (long id, PurchaserRequest request, MemberProfiles profiles, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await profiles.AddPurchaserAsync(id, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("AddPurchaser")
            .WithSummary("List a person who buys for an organisation member; the counter finds the organisation by their phone. Audited.")
            .WithDescription("profile.not_organisation, profile.purchasers_full (422); profile.purchaser_exists (409).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        g.MapDelete("/{id:long}/purchasers/{purchaserId:long}", async (long id, long purchaserId, MemberProfiles profiles, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await profiles.RemovePurchaserAsync(id, purchaserId, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.MembersEnrol)
            .WithName("RemovePurchaser")
            .WithSummary("Take a purchaser off an organisation member. Audited.")
            .ProducesProblem(404);

        g.MapGet("/completeness", async (long programId, long? storeId, DateOnly from, DateOnly to, MemberProfiles profiles, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await profiles.ReportAsync(programId, storeId, from, to, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.Console)
            .WithName("ProfileCompletenessReport")
            .WithSummary("Members enrolled in a period (local dates) at the caller's stores, by enrolling staff: how many, how many with a complete file, average completeness.")
            .WithDescription("report.period_invalid (400).")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);
    }
}
