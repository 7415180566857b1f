using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Staff;

public static class StaffApi
{
    public static void MapStaffApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/staff").WithTags("Staff").RequireAuthorization(Permissions.StaffManage);
        g.MapGet("/", async (StaffAdmin admin, CancellationToken ct) => TypedResults.Ok(await admin.ListAsync(ct)))
            .WithSummary("List staff accounts (admin).");
        g.MapPost("/", async (CreateStaffRequest request, StaffAdmin admin, HttpContext http, CancellationToken ct) =>
            {
                var created = await admin.CreateAsync(request, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/staff/{created.Id}", created);
            })
            .WithSummary("Create a staff account with a role and, for store roles, its stores (admin).");
    }
}
