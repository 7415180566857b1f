using System.Diagnostics;

namespace Patron.Server.Features.Import;

public enum ImportPhase
{
    /// <summary>Hashing the file and reading its card numbers, before the first row is checked.</summary>
    Preparing,

    /// <summary>Checking and writing rows.</summary>
    Rows,

    Done,
}

/// <summary>
/// Live counters of one run of <see cref="MemberImporter"/>, written by the importer and read
/// from another thread (the command line's progress line, the console's import runner): rows
/// read and checked (ahead of the writer), rows committed, imported and refused, how far into
/// the file, and the rate of this run. Counts include the rows an earlier run of the same job
/// committed. Optionally told each chunk's refused rows (all of them), once the chunk is done.
/// </summary>
public sealed class ImportTracker
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _phase;
    private int _checked;
    private int _written;
    private int _imported;
    private int _refused;
    private int _startRows;
    private long _fraction;
    private long _jobId;

    /// <summary>Called with each chunk's refused rows once the chunk is committed (checked, in a check-only run).</summary>
    public Func<IReadOnlyList<RowError>, CancellationToken, Task>? OnRefused { get; init; }

    public ImportPhase Phase => (ImportPhase)Volatile.Read(ref _phase);

    /// <summary>Data rows read and checked.</summary>
    public int Checked => Volatile.Read(ref _checked);

    /// <summary>Data rows whose chunk has committed (checked, in a check-only run).</summary>
    public int Written => Volatile.Read(ref _written);

    /// <summary>Rows imported (in a check-only run: rows that would be).</summary>
    public int Imported => Volatile.Read(ref _imported);

    public int Refused => Volatile.Read(ref _refused);

    /// <summary>How far into the file the rows checked reach, 0–1.</summary>
    public double Fraction => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _fraction));

    /// <summary>The import job (an import run that has begun; null for a check-only run).</summary>
    public long? JobId => Interlocked.Read(ref _jobId) is > 0 and var id ? id : null;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Rows checked per second in this run (rows an earlier run committed are not counted).</summary>
    public double RowsPerSecond => Elapsed.TotalSeconds > 0.05 ? Math.Max(0, Checked - Volatile.Read(ref _startRows)) / Elapsed.TotalSeconds : 0;

    internal void Job(long? id) => Interlocked.Exchange(ref _jobId, id ?? 0);

    /// <summary>The rows begin, after <paramref name="done"/> rows that an earlier run committed.</summary>
    internal void Begin(int done, int imported, int refused)
    {
        Volatile.Write(ref _startRows, done);
        Volatile.Write(ref _checked, done);
        Volatile.Write(ref _written, done);
        Volatile.Write(ref _imported, imported);
        Volatile.Write(ref _refused, refused);
        Volatile.Write(ref _phase, (int)ImportPhase.Rows);
    }

    internal void RowChecked(int rows) => Volatile.Write(ref _checked, rows);

    internal void Reached(double fraction) => Interlocked.Exchange(ref _fraction, BitConverter.DoubleToInt64Bits(Math.Clamp(fraction, 0, 1)));

    internal void Committed(int rows, int imported, int refused)
    {
        Volatile.Write(ref _written, rows);
        Volatile.Write(ref _imported, imported);
        Volatile.Write(ref _refused, refused);
    }

    internal void Finish(int rows, int imported, int refused)
    {
        Committed(rows, imported, refused);
        if (Checked < rows)
        {
            Volatile.Write(ref _checked, rows);
        }

        Reached(1);
        Volatile.Write(ref _phase, (int)ImportPhase.Done);
    }
}
