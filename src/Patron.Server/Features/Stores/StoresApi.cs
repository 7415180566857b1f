using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Features.Stores;

public static class StoresApi
{
    public static void MapStoresApi(this IEndpointRouteBuilder app)
    {
        var org = app.MapGroup("/api").WithTags("Organisation");
        org.MapGet("/stores", async (StoreDirectory d, HttpContext http, CancellationToken ct) => TypedResults.Ok(await d.ListAsync(CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.StoresRead)
            .WithSummary("Stores the caller may see: every store for head office, their own for store staff and terminals.");
        org.MapGet("/stores/{id:long}", async (long id, StoreDirectory d, HttpContext http, CancellationToken ct) => TypedResults.Ok(await d.GetAsync(id, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.StoresRead)
            .WithSummary("One store the caller may see; another store is not found.");
        org.MapPut("/stores/{id:long}", async (long id, UpdateStoreRequest r, StoreDirectory d, HttpContext http, CancellationToken ct) => TypedResults.Ok(await d.UpdateStoreAsync(id, r, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.StaffManage)
            .WithSummary("Change a store's code, name, region, city, district, address, program or open/closed (admin).");
        org.MapGet("/regions", async (StoreDirectory d, CancellationToken ct) => TypedResults.Ok(await d.ListRegionsAsync(ct)))
            .RequireAuthorization(Permissions.StaffManage)
            .WithSummary("Regions and cities (admin).");
        org.MapGet("/programs", async (StoreDirectory d, HttpContext http, CancellationToken ct) => TypedResults.Ok(await d.ListProgramsAsync(CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.StoresRead)
            .WithSummary("Loyalty programs the caller may see.");
        org.MapPost("/programs", async (CreateProgramRequest r, StoreDirectory d, HttpContext http, CancellationToken ct) =>
            {
                var p = await d.CreateProgramAsync(r, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/programs/{p.Id}", p);
            })
            .RequireAuthorization(Permissions.StaffManage)
            .WithSummary("Create a loyalty program (admin).");
        org.MapPost("/regions", async (CreateRegionRequest r, StoreDirectory d, HttpContext http, CancellationToken ct) =>
            {
                var region = await d.CreateRegionAsync(r, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/regions/{region.Id}", region);
            })
            .RequireAuthorization(Permissions.StaffManage)
            .WithSummary("Create a region or city (admin).");
        org.MapPost("/stores", async (CreateStoreRequest r, StoreDirectory d, HttpContext http, CancellationToken ct) =>
            {
                var s = await d.CreateStoreAsync(r, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/stores/{s.Id}", s);
            })
            .RequireAuthorization(Permissions.StaffManage)
            .WithSummary("Create a store in a region and program (admin).");

        var terminals = app.MapGroup("/api").WithTags("Terminals").RequireAuthorization(Permissions.TerminalsManage);
        terminals.MapGet("/stores/{storeId:long}/terminals", async (long storeId, TerminalAdmin t, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await t.ListAsync(storeId, CallerScope.From(http.User), ct)))
            .WithSummary("List a store's POS terminals.");
        terminals.MapPost("/stores/{storeId:long}/terminals", async (long storeId, CreateTerminalRequest r, TerminalAdmin t, HttpContext http, CancellationToken ct) =>
            {
                var created = await t.CreateAsync(storeId, r, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/terminals/{created.Terminal.Id}", created);
            })
            .WithSummary("Create a POS terminal; the answer holds its API key, shown only this once.");
        terminals.MapPost("/terminals/{terminalId:long}/revoke", async (long terminalId, TerminalAdmin t, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await t.RevokeAsync(terminalId, CallerScope.From(http.User), ct)))
            .WithSummary("Revoke a terminal's key; its next request is refused.");
        terminals.MapPost("/terminals/{terminalId:long}/rotate", async (long terminalId, TerminalAdmin t, HttpContext http, CancellationToken ct) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return TypedResults.Ok(await t.RotateAsync(terminalId, CallerScope.From(http.User), ct));
            })
            .WithSummary("Give a terminal a new API key, shown only this once; the old key is refused from then on.");
    }
}
