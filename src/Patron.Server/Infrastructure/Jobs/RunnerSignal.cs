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
