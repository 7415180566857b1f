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

    public static ConsoleJobOptions From(IConfiguration config)
    {
        var section = config.GetSection("Patron:ConsoleJobs");
        return new ConsoleJobOptions
        {
            RunnerEnabled = section.GetValue("Runner", true),
            Poll = TimeSpan.FromSeconds(Math.Max(0.1, section.GetValue("PollSeconds", 5.0))),
            ProgressEvery = TimeSpan.FromSeconds(Math.Max(0.05, section.GetValue("ProgressSeconds", 1.0))),
            StaleAfter = TimeSpan.FromSeconds(Math.Max(5, section.GetValue("StaleSeconds", 30.0))),
            Keep = TimeSpan.FromHours(Math.Max(1, section.GetValue("KeepHours", 24.0))),
        };
    }
}

/// <summary>Wakes the console job runner when a job is queued on this node (other nodes find it when they next look).</summary>
public sealed class ConsoleJobSignal
{
    private readonly SemaphoreSlim _queued = new(0, 1);

    public void Queued()
    {
        try
        {
            _queued.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct) => await _queued.WaitAsync(timeout, ct);
}

/// <summary>What a finished job gives: a result as JSON, or a file.</summary>
public sealed record ConsoleJobOutput(string? Result, string? FileName = null, string? ContentType = null, byte[]? File = null);

/// <summary>
/// The work of one kind of console job, living in its feature. The same permission
/// (<see cref="Policy"/>) and checks (<see cref="CheckAsync"/>) apply when the job is queued,
/// when it runs (as the staff member who started it, as they are then) and when its file is
/// downloaded.
/// </summary>
public interface IConsoleJobWork
{
    ConsoleJobKind Kind { get; }

    /// <summary>The authorization policy of the synchronous path.</summary>
    string Policy { get; }

    /// <summary>Refuses (with a problem) parameters the caller may not use: scope, program, store.</summary>
    Task CheckAsync(string parameters, CallerScope caller, CancellationToken ct);

    Task<ConsoleJobOutput> RunAsync(string parameters, CallerScope caller, IProgress<double> progress, CancellationToken ct);
}

/// <summary>Sees every progress report of a run as it is made (tests hold a run here to read its row while it runs).</summary>
public interface IConsoleJobProbe
{
    void Reported(long jobId, double fraction);
}
