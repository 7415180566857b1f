using Microsoft.OpenApi;

namespace Patron.Server.Infrastructure.Hosting;

public static class OpenApiSetup
{
    public static IServiceCollection AddPatronOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info = new OpenApiInfo
            {
                Title = "Patron API",
                Version = "v1",
                Description = "Membership and loyalty API for POS terminals and integrations. Terminals authenticate with "
                    + "their key in `X-Api-Key` (or `Authorization: Bearer`); console staff with the session cookie. "
                    + "Errors are RFC 9457 problem details with a stable `code` and, for invalid input, `errors` by field.",
            };
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes["terminalKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Api-Key",
                Description = "A terminal's API key (ptk_…), shown once when the terminal is created.",
            };
            doc.Security ??= [];
            doc.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("terminalKey", doc)] = [] });
            return Task.CompletedTask;
        }));
}
