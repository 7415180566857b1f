using Patron.Data;
using Patron.Server.Infrastructure.Auth;

namespace Patron.Server.Infrastructure.Jobs;

/// <summary>
/// How the console job runner works, from configuration (<c>Patron:ConsoleJobs:*</c>): whether
/// this node runs jobs (<c>Runner</c>), how often it looks for work when nobody wakes it
/// (<c>PollSeconds</c>), how often a run saves its progress and heartbeat (<c>ProgressSeconds</c>),
/// when a running job counts as abandoned (<c>StaleSeconds</c>), and how long finished jobs and
/// their files are kept (<c>KeepHours</c>).
/// </summary>
public sealed class ConsoleJobOptions
{
    public bool RunnerEnabled { get; init; } = true;

    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Keep { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The heartbeat must be saved at least this many times within <see cref="StaleAfter"/>, so one late or failed save does not make a live run look abandoned.</summary>
    public const int HeartbeatsPerStale = 3;

    /// <summary>The options from configuration; refuses (at startup) a progress interval not well below the stale interval.</summary>
    public static ConsoleJobOptions From(IConfiguration config)
    {
        var section = config.GetSection("Patron:ConsoleJobs");
        var options = new ConsoleJobOptions
        {
            RunnerEnabled = section.GetValue("Runner", true),
            Poll = TimeSpan.FromSeconds(Math.Max(0.1, section.GetValue("PollSeconds", 5.0))),
            ProgressEvery = TimeSpan.FromSeconds(Math.Max(0.05, section.GetValue("ProgressSeconds", 1.0))),
            StaleAfter = TimeSpan.FromSeconds(Math.Max(5, section.GetValue("StaleSeconds", 30.0))),
            Keep = TimeSpan.FromHours(Math.Max(1, section.GetValue("KeepHours", 24.0))),
        };
        if (options.ProgressEvery * HeartbeatsPerStale > options.StaleAfter)
        {
            throw new InvalidOperationException(
                $"Patron:ConsoleJobs:ProgressSeconds ({options.ProgressEvery.TotalSeconds:0.###}) must be at most a third of Patron:ConsoleJobs:StaleSeconds ({options.StaleAfter.TotalSeconds:0.###}): "
                + "a running job saves its heartbeat every ProgressSeconds, and one with no heartbeat for StaleSeconds is taken up by another runner while it still runs.");
        }

        return options;
    }
}

/// <summary>What a finished job gives: a result as JSON, or a file.</summary>
public sealed record ConsoleJobOutput(string? Result, string? FileName = null, string? ContentType = null, byte[]? File = null);

/// <summary>
/// The stores whose members a job's output holds: every store, or these. Saved with the job
/// when it runs, so the output is given only to a staff member who still covers them all.
/// </summary>
public sealed record JobStoreScope(bool AllStores, IReadOnlyList<long> StoreIds)
{
    /// <summary>What a job filtered on <paramref name="storeId"/> (or on none: the caller's stores) covers.</summary>
    public static JobStoreScope Of(long? storeId, CallerScope caller) =>
        storeId is { } s ? new(false, [s]) : caller.AllStores ? new(true, []) : new(false, [.. caller.StoreIds.Order()]);

    public bool IsCoveredBy(CallerScope caller) => caller.AllStores || (!AllStores && StoreIds.All(caller.CanBrowseStore));
}

/// <summary>
/// The work of one kind of console job, living in its feature. The same permission
/// (<see cref="Policy"/>) and checks (<see cref="CheckAsync"/>) apply when the job is queued,
/// when it runs (as the staff member who started it, as they are then), and when the job or
/// its file is read (with <see cref="CheckResult"/> once it is done).
/// </summary>
public interface IConsoleJobWork
{
    ConsoleJobKind Kind { get; }

    /// <summary>The authorization policy of the synchronous path.</summary>
    string Policy { get; }

    /// <summary>Refuses (with a problem) parameters the caller may not use: scope, program, store.</summary>
    Task CheckAsync(string parameters, CallerScope caller, CancellationToken ct);

    /// <summary>Refuses (with a problem) a finished job's result to a caller who may no longer see what it holds (the stores an export covered).</summary>
    void CheckResult(string parameters, string? result, CallerScope caller);

    /// <summary>The audit action of each download of the job's file; null when downloads are not audited.</summary>
    string? DownloadAction { get; }

    Task<ConsoleJobOutput> RunAsync(long jobId, string parameters, CallerScope caller, IProgress<double> progress, CancellationToken ct);
}

/// <summary>Sees every progress report of a run as it is made (tests hold a run here to read its row while it runs).</summary>
public interface IConsoleJobProbe
{
    void Reported(long jobId, double fraction);
}
