namespace Patron.Server.Infrastructure.Jobs;

/// <summary>
/// Wakes a background runner when work is queued on this node (other nodes find it when they next
/// look). A signal given while one is pending is one signal: the runner looks once and finds all.
/// </summary>
public abstract class RunnerSignal
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

/// <summary>Wakes the console job runner.</summary>
public sealed class ConsoleJobSignal : RunnerSignal;

/// <summary>
/// The loop of a background runner: clean up now and then, run the work there is one piece at a
/// time, and when there is none wait for the signal or the poll interval. A failure is logged and
/// the loop looks again after the wait; it ends when the host stops.
/// </summary>
public static class RunnerLoop
{
    /// <summary>How often the runner cleans up (in real time: the clean-up itself reads the clock it is given).</summary>
    public static readonly TimeSpan CleanUpEvery = TimeSpan.FromMinutes(1);

    /// <param name="runOne">Claims and runs one piece of work; false when nothing waits.</param>
    public static async Task RunAsync(RunnerSignal signal, TimeSpan poll, Func<CancellationToken, Task> cleanUp, Func<CancellationToken, Task<bool>> runOne, ILogger log, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var cleaned = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow - cleaned > CleanUpEvery)
                {
                    cleaned = DateTime.UtcNow;
                    await cleanUp(stoppingToken);
                }

                if (await runOne(stoppingToken))
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError(e, "The background runner failed; it looks again shortly");
            }

            try
            {
                await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
