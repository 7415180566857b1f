namespace Patron.Server.Infrastructure.Jobs;

/// <summary>
/// The heartbeat loop of a background run (a console job, an import upload): saves the run's
/// progress and heartbeat every interval until the run ends. A save that fails (a dropped
/// connection) is logged and the loop goes on, so the next save renews the heartbeat before
/// another node takes the run for abandoned; a save that finds the row no longer this run's
/// (another runner took it) cancels the run.
/// </summary>
public static class Heartbeat
{
    /// <param name="beat">Saves one heartbeat; false when the row is no longer this run's.</param>
    public static async Task RunAsync(TimeSpan every, Func<CancellationToken, Task<bool>> beat, CancellationTokenSource run, ILogger log, string what, long id, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    if (!await beat(stop))
                    {
                        await run.CancelAsync();
                        return;
                    }
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    log.LogWarning(e, "Could not save the heartbeat of {What} {Id}; trying again at the next tick", what, id);
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // The run ended.
        }
    }
}
