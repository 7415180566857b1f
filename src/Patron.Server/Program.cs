using Patron.Server.Features.Import;
using Patron.Server.Features.Programs.Scenarios;
using Patron.Server.Infrastructure.Hosting;

var cli = CommandLine.Parse(args);
if (cli.Command == "scenario")
{
    return await ScenarioCommand.RunAsync(args[1..], Console.Out, Console.Error);
}

if (cli.Command == "help" || !CommandLine.Commands.Contains(cli.Command))
{
    Console.WriteLine(CommandLine.Usage);
    return cli.Command == "help" ? 0 : 2;
}

var import = cli.Command == "import" ? ImportCommand.Parse(cli.HostArgs) : null;
var hostArgs = import?.HostArgs ?? cli.HostArgs;
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = hostArgs });
builder.Configuration.AddCommandLine(hostArgs, CommandLine.SwitchMappings);
builder.AddPatron();

var app = builder.Build();
app.UsePatron();

await app.MigrateDatabaseAsync();
switch (cli.Command)
{
    case "migrate":
        return 0;
    case "import":
        return await ImportCommand.RunAsync(app.Services, import!, Console.Out, Console.Error, CancellationToken.None);
    case "seed-demo":
        try
        {
            await app.SeedDemoAsync(Console.Out, onlyIfEmpty: false);
            return 0;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine("seed-demo: " + e.Message);
            return 1;
        }

    default:
        if (cli.Demo)
        {
            await app.SeedDemoAsync(Console.Out, onlyIfEmpty: true);
        }

        await app.RunAsync();
        return 0;
}

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
