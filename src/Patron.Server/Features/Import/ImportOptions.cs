using System.Globalization;
using Patron.Data;

namespace Patron.Server.Features.Import;

/// <summary>
/// Where uploaded member files wait for the import runner and how it works, from configuration
/// (<c>Patron:Import:*</c>): the upload folder (default <c>imports</c> in the data folder), the
/// largest upload, the chunk size, how long a checked file waits for "import these rows", how
/// often the runner looks for work, and when a running upload counts as abandoned.
/// </summary>
public sealed class ImportOptions
{
    public const long DefaultMaxUploadBytes = 512L * 1024 * 1024;

    public required string UploadDirectory { get; init; }

    public long MaxUploadBytes { get; init; } = DefaultMaxUploadBytes;

    public int ChunkSize { get; init; } = MemberImporter.DefaultChunk;

    public TimeSpan KeepChecked { get; init; } = TimeSpan.FromHours(24);

    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether this node runs uploads (<c>Patron:Import:Runner=false</c> turns it off).</summary>
    public bool RunnerEnabled { get; init; } = true;

    public static ImportOptions From(IConfiguration config)
    {
        var section = config.GetSection("Patron:Import");
        var dataDir = config["Patron:DataDir"];
        var folder = section["UploadDir"] is { Length: > 0 } dir
            ? dir
            : Path.Combine(string.IsNullOrWhiteSpace(dataDir) ? DatabaseSettings.DefaultDataDirectory : dataDir, "imports");
        return new ImportOptions
        {
            UploadDirectory = Path.GetFullPath(folder),
            MaxUploadBytes = section.GetValue("MaxUploadBytes", DefaultMaxUploadBytes),
            ChunkSize = Math.Max(1, section.GetValue("Chunk", MemberImporter.DefaultChunk)),
            KeepChecked = TimeSpan.FromHours(section.GetValue("KeepCheckedHours", 24.0)),
            Poll = TimeSpan.FromSeconds(Math.Max(0.1, section.GetValue("PollSeconds", 5.0))),
            StaleAfter = TimeSpan.FromSeconds(Math.Max(5, section.GetValue("StaleSeconds", 30.0))),
            RunnerEnabled = section.GetValue("Runner", true),
        };
    }

    /// <summary>The path of a stored upload; names are generated here, never taken from the request.</summary>
    public string PathOf(string storedName) => Path.Combine(UploadDirectory, Path.GetFileName(storedName));

    public static string NewStoredName() => Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture) + ".csv";

    /// <summary>Deletes a stored upload; false when it could not be deleted (it stays for the next clean-up).</summary>
    public bool TryDelete(string? storedName, ILogger log)
    {
        if (storedName is null)
        {
            return true;
        }

        try
        {
            File.Delete(PathOf(storedName));
            return true;
        }
        catch (IOException e)
        {
            log.LogWarning(e, "Could not delete the uploaded file {File}", storedName);
            return false;
        }
        catch (UnauthorizedAccessException e)
        {
            log.LogWarning(e, "Could not delete the uploaded file {File}", storedName);
            return false;
        }
    }
}

/// <summary>Wakes the import runner when a file is uploaded on this node.</summary>
public sealed class ImportSignal : Infrastructure.Jobs.RunnerSignal;
