namespace Patron.Data;

/// <summary>
/// A periodic job's claim on one period ("points-expiry", "2027-01-01"). The primary key makes
/// the claim exclusive: whichever node inserts it first runs the period, every other node and
/// every re-run finds it taken and does nothing.
/// </summary>
public sealed class JobRun
{
    private JobRun()
    {
        Job = "";
        Period = "";
    }

    public JobRun(string job, string period, DateTime startedAtUtc)
    {
        Job = job;
        Period = period;
        StartedAt = startedAtUtc;
    }

    public string Job { get; private set; }

    public string Period { get; private set; }

    public DateTime StartedAt { get; private set; }

    public DateTime? FinishedAt { get; private set; }

    /// <summary>What the run did, in a few words (counts), for operators.</summary>
    public string? Outcome { get; private set; }

    /// <summary>Records progress of a run that did not complete (it is taken over later).</summary>
    public void Note(string outcome) => Outcome = outcome;

    public void Finish(DateTime atUtc, string outcome)
    {
        FinishedAt = atUtc;
        Outcome = outcome;
    }
}
