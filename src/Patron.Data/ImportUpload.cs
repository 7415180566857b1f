namespace Patron.Data;

public enum ImportUploadStatus
{
    Queued = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
}

/// <summary>
/// A member file uploaded in the console or through the API, run by the server's import runner
/// one at a time: the file (kept under the data folder until the run has finished), what to do
/// with it (check only, or import), and the run's state and counts, so that whoever opens the
/// console later sees where it is. An import run drives an <see cref="ImportJob"/> (which
/// resumes by the file's SHA-256); a check-only run keeps its refused rows here.
/// </summary>
public sealed class ImportUpload
{
    private ImportUpload()
    {
        FileName = "";
        FileHash = "";
    }

    public ImportUpload(long programId, string? storeCode, bool checkOnly, string fileName, long fileSize, string fileHash, string storedName, long? staffId, DateTime atUtc, long? checkedUploadId = null)
    {
        ProgramId = programId;
        StoreCode = storeCode;
        CheckOnly = checkOnly;
        FileName = fileName;
        FileSize = fileSize;
        FileHash = fileHash;
        StoredName = storedName;
        StaffId = staffId;
        QueuedAt = atUtc;
        CheckedUploadId = checkedUploadId;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    /// <summary>The store for rows without one (the program's first store when null).</summary>
    public string? StoreCode { get; private set; }

    public bool CheckOnly { get; private set; }

    /// <summary>The name the file had on the uploader's computer.</summary>
    public string FileName { get; private set; }

    public long FileSize { get; private set; }

    public string FileHash { get; private set; }

    /// <summary>The file's generated name in the upload folder; null once it is deleted.</summary>
    public string? StoredName { get; set; }

    public ImportUploadStatus Status { get; set; }

    /// <summary>How many times a runner took the upload up (a run that stopped is taken up again).</summary>
    public int Attempts { get; set; }

    /// <summary>Data rows read and checked so far.</summary>
    public int Rows { get; set; }

    /// <summary>Rows imported (in a check-only run: rows that would be imported).</summary>
    public int Imported { get; set; }

    public int Rejected { get; set; }

    /// <summary>How far through the file the run has read, 0–1.</summary>
    public double Fraction { get; set; }

    public double RowsPerSecond { get; set; }

    public long? StaffId { get; private set; }

    public DateTime QueuedAt { get; private set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    /// <summary>Refreshed by the runner while it works; a running upload whose heartbeat is old has lost its runner.</summary>
    public DateTime? HeartbeatAt { get; set; }

    /// <summary>The import job of an import run (null for a check-only run).</summary>
    public long? ImportJobId { get; set; }

    /// <summary>For an import started from a check-only run: that run.</summary>
    public long? CheckedUploadId { get; private set; }

    /// <summary>For a check-only run whose rows were then imported: the import run.</summary>
    public long? ImportedAsId { get; set; }

    /// <summary>Why the run failed: a stable code and a message (never personal data).</summary>
    public string? ErrorCode { get; set; }

    public string? Message { get; set; }
}

/// <summary>One refused row of a check-only run (or a refused header): its number in the file, the column and why.</summary>
public sealed class ImportUploadError
{
    private ImportUploadError()
    {
        Code = "";
        Message = "";
    }

    public ImportUploadError(long uploadId, int row, string? column, string code, string message)
    {
        UploadId = uploadId;
        Row = row;
        Column = column;
        Code = code;
        Message = message;
    }

    public long Id { get; private set; }

    public long UploadId { get; private set; }

    public int Row { get; private set; }

    public string? Column { get; private set; }

    public string Code { get; private set; }

    public string Message { get; private set; }
}
