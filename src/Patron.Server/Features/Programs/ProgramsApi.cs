using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Programs;

/// <summary>One day of the member-day calendar: its lunar date (农历) and the ids of the member-day discounts on it.</summary>
public sealed record MemberDayView(DateOnly Date, string? Lunar, int? LunarDay, IReadOnlyList<string> Discounts);

/// <summary>Publishing: <see cref="ConfirmOutdated"/> publishes a draft made before another version was published.</summary>
public sealed record PublishRequest(bool ConfirmOutdated = false);

public static class ProgramsApi
{
    public static void MapProgramsApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/programs/{programId:long}/versions").WithTags("Programs").RequireAuthorization(Permissions.ProgramsRead);

        g.MapGet("/", async (long programId, ProgramRules rules, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await rules.ListAsync(programId, CallerScope.From(http.User), ct)))
            .WithName("ListProgramVersions")
            .WithSummary("The program's versions, newest first: drafts and published versions with their effective dates.");

        g.MapGet("/{version:int}", async (long programId, int version, ProgramRules rules, HttpContext http, CancellationToken ct) =>
                TypedResults.Text(await rules.ExportAsync(programId, version, CallerScope.From(http.User), ct), "application/json"))
            .WithName("ExportProgramVersion")
            .WithSummary("Export one version as a program file (docs/programs.md).")
            .ProducesProblem(404);

        g.MapPost("/", async (long programId, HttpRequest request, ProgramRules rules, HttpContext http, CancellationToken ct) =>
            {
                var view = await rules.ImportAsync(programId, await ReadBodyAsync(request, ct), CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/programs/{programId}/versions/{view.Version}", view);
            })
            .RequireAuthorization(Permissions.ProgramsManage)
            .Accepts<object>("application/json")
            .WithName("ImportProgramVersion")
            .WithSummary("Import a program file as a new draft version.")
            .WithDescription("The body is a program file. Errors name the field: program.file_malformed (syntax or unknown field), program.invalid (a rule), program.code_mismatch (400 or 422).")
            .ProducesProblem(400).ProducesProblem(422);

        g.MapPut("/{version:int}", async (long programId, int version, HttpRequest request, ProgramRules rules, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await rules.ReplaceAsync(programId, version, await ReadBodyAsync(request, ct), CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.ProgramsManage)
            .Accepts<object>("application/json")
            .WithName("ReplaceProgramDraft")
            .WithSummary("Replace the rules of a draft version (published versions never change: program.version_published).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        g.MapPost("/{version:int}/publish", async (long programId, int version, HttpRequest request, ProgramRules rules, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await rules.PublishAsync(programId, version, CallerScope.From(http.User), ct, (await ReadPublishAsync(request, ct)).ConfirmOutdated)))
            .RequireAuthorization(Permissions.ProgramsManage)
            .Accepts<PublishRequest>("application/json")
            .WithName("PublishProgramVersion")
            .WithSummary("Publish a draft: it is the program's rules from its effective date (today or later once a version is in force).")
            .WithDescription("The body is optional: { \"confirmOutdated\": true } publishes a draft made before another version was published, which otherwise answers 409 program.draft_outdated with newerVersion.")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        MapSimulation(g);
        MapSettings(g);
    }

    private static void MapSettings(RouteGroupBuilder g)
    {
        g.MapPost("/from-in-force", async (long programId, ProgramSettings settings, HttpContext http, CancellationToken ct) =>
            {
                var view = await settings.NewDraftFromInForceAsync(programId, CallerScope.From(http.User), ct);
                return TypedResults.Created($"/api/programs/{programId}/versions/{view.Version}", view);
            })
            .RequireAuthorization(Permissions.ProgramsManage)
            .WithName("NewDraftFromInForce")
            .WithSummary("A new draft whose rules are a copy of the version in force today, effective from today (program.not_in_force when none is).")
            .ProducesProblem(404).ProducesProblem(409);

        g.MapGet("/{version:int}/member-days", async (long programId, int version, string? month, ProgramSettings settings, HttpContext http, CancellationToken ct) =>
            {
                var view = await settings.GetAsync(programId, version, CallerScope.From(http.User), ct);
                var first = month is null ? new DateOnly(view.Today.Year, view.Today.Month, 1)
                    : DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var m) && m.Year is > 1901 and < 2100 ? m
                    : throw Problem.Invalid("program.month_invalid", "Give the month as yyyy-MM.", "month");
                return TypedResults.Ok(Domain.Programs.MemberDayCalendar.Month(view.Rules, first.Year, first.Month)
                    .Select(c => new MemberDayView(c.Date, c.Lunar?.ToString(), c.Lunar?.Day, [.. c.Discounts.Select(d => d.Id)])));
            })
            .WithName("ProgramMemberDays")
            .WithSummary("The days of a month (yyyy-MM, this month by default) with their lunar date and the member-day discounts that apply on them under this version, as the checkout decides.")
            .ProducesProblem(400).ProducesProblem(404);
    }

    private static void MapSimulation(RouteGroupBuilder g) =>
        g.MapPost("/{version:int}/simulate", async (long programId, int version, SimulationRequest request, SimulateProgram simulate, HttpContext http, CancellationToken ct) =>
                TypedResults.Ok(await simulate.RunAsync(programId, version, request, CallerScope.From(http.User), ct)))
            .RequireAuthorization(Permissions.ProgramsManage)
            .WithName("SimulateProgramVersion")
            .WithSummary("Run a version (usually a draft) over the stored sales of a period beside the rules in force: discount cost, points issued, tier distribution, liability. Changes nothing.")
            .ProducesProblem(400).ProducesProblem(404);

    /// <summary>The publish request's optional body; none means no confirmation.</summary>
    private static async Task<PublishRequest> ReadPublishAsync(HttpRequest request, CancellationToken ct)
    {
        var body = await ReadBodyAsync(request, ct);
        if (string.IsNullOrWhiteSpace(body))
        {
            return new PublishRequest();
        }

        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<PublishRequest>(body, System.Text.Json.JsonSerializerOptions.Web) ?? new PublishRequest();
        }
        catch (System.Text.Json.JsonException)
        {
            throw Problem.Invalid("request.malformed", "The request body could not be read: check the JSON and the field types.");
        }
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        return await reader.ReadToEndAsync(ct);
    }
}
