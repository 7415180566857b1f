using System.Net.Http.Json;
using System.Text.Json;

namespace Patron.Server.Tests.Infrastructure;

/// <summary>HTTP helpers that pass the test's cancellation token, so a cancelled run stops at once.</summary>
public static class TestHttp
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string url, object body) => client.PostAsJsonAsync(url, body, Ct);

    public static Task<HttpResponseMessage> PostRaw(this HttpClient client, string url, string json) =>
        client.PostAsync(url, new StringContent(json, System.Text.Encoding.UTF8, "application/json"), Ct);

    public static Task<HttpResponseMessage> PutJson(this HttpClient client, string url, object body) => client.PutAsJsonAsync(url, body, Ct);

    public static Task<HttpResponseMessage> Get(this HttpClient client, string url) => client.GetAsync(url, Ct);

    public static Task<HttpResponseMessage> Delete(this HttpClient client, string url) => client.DeleteAsync(url, Ct);

    public static Task<HttpResponseMessage> SendRequest(this HttpClient client, HttpRequestMessage request) => client.SendAsync(request, Ct);

    public static async Task<JsonElement> ReadJson(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

    public static Task<string> ReadText(this HttpResponseMessage response) => response.Content.ReadAsStringAsync(Ct);
}
