using Patron.Server.Infrastructure.Jobs;

namespace Patron.Server.Tests.Infrastructure;

/// <summary>
/// Holds a console job at its first progress report strictly between 0 and 1 (after <see cref="HoldNext"/>),
/// so a test reads the job's row while it runs, then lets it go on: no sleeps that race.
/// </summary>
public sealed class JobProbe : IConsoleJobProbe
{
    private Hold? _hold;

    public Hold HoldNext()
    {
        var hold = new Hold();
        return Interlocked.CompareExchange(ref _hold, hold, null) is null ? hold : throw new InvalidOperationException("A hold is already set.");
    }

    public void Reported(long jobId, double fraction)
    {
        var hold = Volatile.Read(ref _hold);
        if (hold is null || fraction <= 0 || fraction >= 1 || Interlocked.CompareExchange(ref _hold, null, hold) != hold)
        {
            return;
        }

        hold.Reached.TrySetResult((jobId, fraction));
        hold.Released.Wait(TimeSpan.FromSeconds(60));
    }

    public sealed class Hold : IDisposable
    {
        public TaskCompletionSource<(long JobId, double Fraction)> Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ManualResetEventSlim Released { get; } = new();

        public void Dispose() => Released.Set();
    }
}
