namespace Patron.Data;

public enum ImportStatus
{
    Running = 0,
    Completed = 1,
    Failed = 2,
}

/// <summary>
/// A member import from a CSV file: which file (by its SHA-256, so the same file resumes where
/// it stopped), how far it got (rows committed), how many rows went in and how many were
/// refused. Each chunk of rows and the progress that covers it commit together.
/// </summary>
public sealed class ImportJob
{
    private ImportJob()
    {
        FileName = "";
        FileHash = "";
    }

    public ImportJob(long programId, string fileName, string fileHash, long? staffId, DateTime atUtc)
    {
        ProgramId = programId;
        FileName = fileName;
        FileHash = fileHash;
        StaffId = staffId;
        StartedAt = atUtc;
        UpdatedAt = atUtc;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public string FileName { get; private set; }

    public string FileHash { get; private set; }

    public ImportStatus Status { get; set; }

    /// <summary>Data rows in the file (without the header), once known.</summary>
    public int TotalRows { get; set; }

    /// <summary>Data rows handled and committed so far; a resumed import starts after them.</summary>
    public int DoneRows { get; set; }

    public int Imported { get; set; }

    public int Rejected { get; set; }

    public long? StaffId { get; private set; }

    public DateTime StartedAt { get; private set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public string? Message { get; set; }
}

/// <summary>One refused row of an import: its number in the file (the header is row 1), the column and why.</summary>
public sealed class ImportError
{
    private ImportError()
    {
        Code = "";
        Message = "";
    }

    public ImportError(long jobId, int row, string? column, string code, string message)
    {
        JobId = jobId;
        Row = row;
        Column = column;
        Code = code;
        Message = message;
    }

    public long Id { get; private set; }

    public long JobId { get; private set; }

    public int Row { get; private set; }

    public string? Column { get; private set; }

    public string Code { get; private set; }

    public string Message { get; private set; }
}
