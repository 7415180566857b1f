using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc.Razor;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.WebEncoders;
using Patron.Data;
using Patron.Server.Features.Audit;
using Patron.Server.Features.Checkout;
using Patron.Server.Features.Demo;
using Patron.Server.Features.Members;
using Patron.Server.Features.Points;
using Patron.Server.Features.Programs;
using Patron.Server.Features.Rewards;
using Patron.Server.Features.Staff;
using Patron.Server.Features.Stores;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Console;
using Patron.Server.Infrastructure.Problems;
using Patron.Server.Infrastructure.Protection;

namespace Patron.Server.Infrastructure.Hosting;

/// <summary>Composes the features into one host: services first, then the request pipeline.</summary>
public static class PatronHost
{
    public static readonly CultureInfo[] Cultures = [new("zh-CN"), new("en")];

    public static void AddPatron(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var config = sp.GetRequiredService<IConfiguration>();
            return DatabaseSettings.Resolve(config["Patron:Db"] ?? config["PATRON_DB"], config["Patron:DataDir"]);
        });
        services.AddDbContextPool<PatronDb>((sp, o) => sp.GetRequiredService<DatabaseSettings>().Apply(o));
        services.AddDataProtection().SetApplicationName("Patron").PersistKeysToDbContext<PatronDb>();
        services.AddSingleton<PersonalDataProtector>();
        services.AddSingleton(sp => Localization.ConsoleTime.From(sp.GetRequiredService<IConfiguration>()));

        services.AddLocalization(o => o.ResourcesPath = "Resources");
        services.Configure<RequestLocalizationOptions>(o =>
        {
            o.DefaultRequestCulture = new RequestCulture("zh-CN");
            o.SupportedCultures = Cultures;
            o.SupportedUICultures = Cultures;
            o.RequestCultureProviders = [new CookieRequestCultureProvider(), new AcceptLanguageHeaderRequestCultureProvider()];
        });
        services.AddRazorPages(o =>
            {
                o.RootDirectory = "/Features";
                o.Conventions.AuthorizeFolder("/", Permissions.Console);
                o.Conventions.AllowAnonymousToPage("/Staff/Login");
                o.Conventions.AllowAnonymousToPage("/Staff/Denied");
                o.Conventions.AllowAnonymousToPage("/Home/Status");
                o.Conventions.AddPageApplicationModelConvention("/Programs/Edit", m => m.Filters.Add(new Microsoft.AspNetCore.Mvc.RequestFormLimitsAttribute { ValueCountLimit = Features.Programs.ProgramSettingsForm.MaxFormValues }));
            })
            .AddViewLocalization();
        services.Configure<RazorViewEngineOptions>(o => o.PageViewLocationFormats.Add("/Pages/Shared/{0}.cshtml"));
        // Chinese text goes out as text, not as &#x…; entities (HTML stays encoded for safety).
        services.Configure<WebEncoderOptions>(o => o.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));

        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddPatronOpenApi();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        services.AddPatronAuth();

        services.AddScoped<AuditLog>();
        services.AddScoped<Infrastructure.Data.Idempotency>();
        services.AddScoped<StaffSignIn>();
        services.AddScoped<EnrollMember>();
        services.AddScoped<FindMembers>();
        services.AddScoped<StoreDirectory>();
        services.AddScoped<TerminalAdmin>();
        services.AddScoped<StaffAdmin>();
        services.AddScoped<DemoSeeder>();
        services.AddSingleton<ProgramRules.PublishedCache>();
        services.AddScoped<ProgramRules>();
        services.AddScoped<SimulateProgram>();
        services.AddScoped<ProgramSettings>();
        services.AddScoped<MemberLedger>();
        services.AddScoped<EarningEffects>();
        services.AddScoped<CommitSale>();
        services.AddScoped<IdentifyMember>();
        services.AddSingleton<MemberQrTokens>();
        services.AddScoped<ReturnSale>();
        services.AddScoped<Redeem>();
        services.AddScoped<Entitlements>();
        services.AddScoped<AdjustPoints>();
        services.AddScoped<AwardEventPoints>();
        services.AddScoped<PointsQueries>();
        services.AddScoped<PointsJobs>();
        services.AddScoped<Features.Cards.CardNumbers>();
        services.AddScoped<Features.Cards.CardOperations>();
        services.AddScoped<Features.Cards.CardsJob>();
        services.AddScoped<Features.StoredValue.TopUpStoredValue>();
        services.AddScoped<Features.StoredValue.RefundStoredValue>();
        services.AddScoped<Features.StoredValue.StoredValueQueries>();
        services.AddScoped<Features.StoredValue.Liability>();
        services.AddSingleton<Features.StoredValue.LiabilitySnapshot>();
        services.AddScoped<Features.Coupons.CouponIssuer>();
        services.AddScoped<Features.Coupons.CheckoutCoupons>();
        services.AddScoped<Features.Coupons.ManageCoupons>();
        services.AddScoped<Features.Rewards.Catalogue>();
        services.AddScoped<Features.Import.MemberImporter>();
        services.AddScoped<Features.Members.HealthFile>();
        services.AddScoped<Features.Members.MemberProfiles>();
        services.AddScoped<Features.Audit.AuditTrail>();
        services.AddScoped<Features.Audit.AuditExport>();
        services.AddScoped<Features.StoredValue.ProgramCosts>();
        services.AddScoped<Features.Care.CarePlans>();
        services.AddScoped<Features.Members.MemberExport>();
        services.AddScoped<Features.Members.MemberDataExport>();
        services.AddScoped<Features.Members.Duplicates>();
        services.AddScoped<Features.Members.MergeMembers>();
        services.AddScoped<Features.Desk.DeskQueries>();
        services.AddScoped<Features.Members.MemberHistory>();
        services.AddScoped<Features.Members.MemberDirectory>();
        services.AddHostedService<JobRunner>();
        Features.Import.ImportsApi.AddMemberImports(services);
        Features.Jobs.JobsApi.AddConsoleJobs(services);
    }

    public static void UsePatron(this WebApplication app)
    {
        // First: its duration covers everything below, the page's queries and rendering included.
        app.UseServerTiming();
        // Localization first: the exception handler runs outside the inner middleware's
        // culture scope, and problem titles must be in the caller's language.
        app.UseRequestLocalization();
        app.UseExceptionHandler();
        // Console pages get a page in the user's language; the API gets problem details.
        app.UseWhen(ctx => IsApi(ctx.Request.Path), b => b.UseStatusCodePages());
        app.UseWhen(ctx => !IsApi(ctx.Request.Path), b => b.UseStatusCodePagesWithReExecute("/status/{0}"));
        app.UseStaticFiles();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.Use((ctx, next) =>
        {
            // Answers may carry personal data: never cache them anywhere.
            ctx.Response.Headers.CacheControl = "no-cache, no-store";
            ctx.Response.Headers.Pragma = "no-cache";
            ctx.Response.Headers.XContentTypeOptions = "nosniff";
            ctx.Response.Headers.XFrameOptions = "DENY";
            return next(ctx);
        });

        app.MapOpenApi();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResultStatusCodes = { [HealthStatus.Unhealthy] = 503 } }).AllowAnonymous();
        app.MapMembersApi();
        app.MapStoresApi();
        app.MapStaffApi();
        app.MapProgramsApi();
        app.MapCheckoutApi();
        app.MapPointsApi();
        Features.Cards.CardsApi.MapCardsApi(app);
        Features.StoredValue.StoredValueApi.MapStoredValueApi(app);
        Features.Coupons.CouponsApi.MapCouponsApi(app);
        Features.Rewards.CatalogueApi.MapCatalogueApi(app);
        Features.Care.CareApi.MapCareApi(app);
        Features.Members.MemberExportApi.MapMemberExportApi(app);
        Features.Members.MemberDataExportApi.MapMemberDataExportApi(app);
        Features.Members.MergeApi.MapMergeApi(app);
        Features.Import.ImportsApi.MapImportsApi(app);
        Features.Jobs.JobsApi.MapJobsApi(app);
        Features.Audit.AuditTrail.Map(app);
        app.MapConsoleEndpoints();
        app.MapRazorPages();
    }

    private static bool IsApi(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/openapi") || path.StartsWithSegments("/health");

    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var settings = scope.ServiceProvider.GetRequiredService<DatabaseSettings>();
        app.Logger.LogInformation("Migrating {Database}", settings.Describe());
        await PatronDbMigrator.MigrateAsync(db);
    }

    public static async Task SeedDemoAsync(this WebApplication app, TextWriter output, bool onlyIfEmpty)
    {
        using var scope = app.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync(output, onlyIfEmpty);
    }
}

internal sealed class DatabaseHealthCheck(PatronDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        await db.Database.CanConnectAsync(ct) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The database cannot be reached.");
}
