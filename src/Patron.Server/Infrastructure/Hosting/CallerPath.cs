namespace Patron.Server.Infrastructure.Hosting;

/// <summary>
/// Paths given on the command line are relative to where the user typed them. <c>./patron</c>
/// runs the server through <c>dotnet run</c>, which starts it in the project folder, so the
/// script passes the caller's folder in <c>PATRON_CALLER_DIR</c>.
/// </summary>
public static class CallerPath
{
    public static string Resolve(string path) =>
        Path.IsPathRooted(path) || Environment.GetEnvironmentVariable("PATRON_CALLER_DIR") is not { Length: > 0 } dir
            ? path
            : Path.Combine(dir, path);
}
