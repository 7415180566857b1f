using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Staff;

public static class StaffApi
{
    public static void MapStaffApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/staff").WithTags("Staff").RequireAuthorization(Permissions.StaffTeam);
        g.MapGet("/", async (long? storeId, string? role, bool? active, string? sort, int? page, int? pageSize, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await admin.ListAsync(new StaffQuery(storeId, role, active, sort, page ?? 1, pageSize ?? StaffAdmin.DefaultPageSize), CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.StaffManage)
            .WithSummary("List staff accounts, filtered by store, role and active, sorted by login or name (-login, -name), paged (admin).");
        g.MapPost("/", async (CreateStaffRequest request, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
            {
                var created = await admin.CreateAsync(request, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/staff/{created.Id}", created);
            })
            .WithSummary("Create a staff account with a role and, for store roles, its stores (admin; a store manager creates cashiers of their stores).");
        g.MapGet("/{id:long}", async (long id, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await admin.GetAsync(id, CallerScope.From(http.User), ct)))
            .WithSummary("One staff account the caller manages.");
        g.MapPut("/{id:long}", async (long id, UpdateStaffRequest request, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await admin.UpdateAsync(id, request, CallerScope.From(http.User), ct)))
            .WithSummary("Change a staff member's name, role and stores; their sessions end when role or stores change.");
        g.MapPost("/{id:long}/disable", async (long id, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await admin.SetActiveAsync(id, false, CallerScope.From(http.User), ct)))
            .WithSummary("Disable an account: sign-in is refused and existing sessions end at their next request.");
        g.MapPost("/{id:long}/enable", async (long id, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await admin.SetActiveAsync(id, true, CallerScope.From(http.User), ct)))
            .WithSummary("Enable a disabled account.");
        g.MapPost("/{id:long}/password", async (long id, ResetPasswordRequest request, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return TypedResults.Ok(await admin.ResetPasswordAsync(id, request, CallerScope.From(http.User), ct));
            })
            .WithSummary("Reset a password: the one given, or a new one returned this once. Clears a lockout and ends existing sessions.");
        app.MapGet("/api/stores/{storeId:long}/staff", async (long storeId, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await admin.ListForStoreAsync(storeId, CallerScope.From(http.User), ct)))
            .WithTags("Staff")
            .RequireAuthorization(Permissions.StaffTeam)
            .WithSummary("The staff of one of the caller's stores.");
    }
}
