namespace Patron.Data;

public enum ConsoleJobKind
{
    Simulation = 0,
    MemberExport = 1,
}

public enum ConsoleJobStatus
{
    Queued = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
}

/// <summary>
/// A long piece of console work (a program simulation, a member export) that a staff member
/// started and the server's job runner carries out: what to do (kind and parameters as JSON),
/// who asked, and the run's state (status, fraction done, heartbeat, attempts), so the staff
/// member can leave the page and come back. A finished job keeps its result (JSON) or, for an
/// export, its file in <see cref="ConsoleJobFile"/>; both are deleted after a day.
/// </summary>
public sealed class ConsoleJob
{
    private ConsoleJob()
    {
        Parameters = "{}";
    }

    public ConsoleJob(ConsoleJobKind kind, long staffId, string parameters, DateTime atUtc)
    {
        Kind = kind;
        StaffId = staffId;
        Parameters = parameters;
        CreatedAt = atUtc;
    }

    public long Id { get; private set; }

    public ConsoleJobKind Kind { get; private set; }

    /// <summary>The staff member who started the job; only they see it.</summary>
    public long StaffId { get; private set; }

    /// <summary>What the job works on, as JSON (the kind's request).</summary>
    public string Parameters { get; private set; }

    public ConsoleJobStatus Status { get; set; }

    /// <summary>How far the run has got, 0–1.</summary>
    public double Fraction { get; set; }

    public DateTime? HeartbeatAt { get; set; }

    /// <summary>How many times a runner took the job up (a run that stopped is taken up again).</summary>
    public int Attempts { get; set; }

    public DateTime CreatedAt { get; private set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>The job's result as JSON (a simulation's report); null for a file.</summary>
    public string? Result { get; set; }

    /// <summary>The produced file's name and size (the bytes are in <see cref="ConsoleJobFile"/>).</summary>
    public string? FileName { get; set; }

    public long? FileSize { get; set; }
}

/// <summary>The file a console job produced, in a table of its own so listing jobs never loads it and any node can serve it.</summary>
public sealed class ConsoleJobFile
{
    private ConsoleJobFile()
    {
        ContentType = "";
        Content = [];
    }

    public ConsoleJobFile(long jobId, string contentType, byte[] content, DateTime atUtc)
    {
        JobId = jobId;
        ContentType = contentType;
        Content = content;
        CreatedAt = atUtc;
    }

    public long JobId { get; private set; }

    public string ContentType { get; private set; }

    public byte[] Content { get; private set; }

    public DateTime CreatedAt { get; private set; }
}
