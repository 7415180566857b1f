using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Patron.Server.Tests.Infrastructure;

namespace Patron.Browser.Tests;

/// <summary>The Patron host on a real loopback port (Kestrel), on its own SQLite database, for the browser.</summary>
public sealed class ConsoleHost : SqliteApp
{
    public ConsoleHost() => UseKestrel(0);

    /// <summary>A POS terminal speaking to the real port.</summary>
    public HttpClient Terminal(string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public string BaseUrl => Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
}
