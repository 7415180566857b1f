using System.Globalization;

namespace Patron.Bench;

/// <summary>
/// Reads a server process's resident memory and CPU time from /proc (Linux), and finds the
/// process listening on a TCP port when no PID is given.
/// </summary>
public sealed class ServerProcess(int pid)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux build that matters here

    public int Pid { get; } = pid;

    /// <summary>VmRSS in bytes, or null when the process is gone.</summary>
    public long? ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>User + system CPU seconds the process has used so far, or null.</summary>
    public double? CpuSeconds() => CpuSecondsOf(Pid);

    /// <summary>User + system CPU seconds of one process, or null when it is gone or not readable.</summary>
    public static double? CpuSecondsOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces: fields follow the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>CPU seconds of every visible process with this command name (e.g. all PostgreSQL backends).</summary>
    public static double CpuSecondsOfProcessesNamed(string comm)
    {
        double total = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == comm)
                    {
                        total += CpuSecondsOf(pid) ?? 0;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone already.
                }
            }
        }

        return total;
    }

    /// <summary>The whole machine's busy and total CPU seconds since boot, summed over cores (/proc/stat).</summary>
    public static (double Busy, double Total) MachineCpuSeconds()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait irq softirq steal …
        var values = f.Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = values.Sum();
        var idle = values[3] + values[4];
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }

    /// <summary>The process with a listening TCP socket on <paramref name="port"/> (IPv4 or IPv6), if any is visible.</summary>
    public static ServerProcess? Listening(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // local_address is HEXIP:HEXPORT; st 0A is LISTEN; the inode is field 9.
                if (f.Length > 9 && f[3] == "0A" && int.Parse(f[1][(f[1].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    inodes.Add($"socket:[{f[9]}]");
                }
            }
        }

        if (inodes.Count == 0)
        {
            return null;
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                foreach (var fd in Directory.EnumerateFiles(Path.Combine(dir, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target))
                    {
                        return new ServerProcess(pid);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's process, or gone already.
            }
        }

        return null;
    }
}

/// <summary>Where the CPU went at one moment: the server, PostgreSQL, this driver and the whole machine (seconds since start).</summary>
public sealed record CpuSnapshot(double? Server, double Postgres, double Driver, double MachineBusy, double MachineTotal)
{
    public static CpuSnapshot Take(ServerProcess? server)
    {
        var (busy, total) = ServerProcess.MachineCpuSeconds();
        return new CpuSnapshot(server?.CpuSeconds(), ServerProcess.CpuSecondsOfProcessesNamed("postgres"),
            System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, busy, total);
    }
}

/// <summary>Cores kept busy over a window, by whom.</summary>
public sealed record CpuUse(double? Server, double Postgres, double Driver, double Machine, int Cores)
{
    public static CpuUse Between(CpuSnapshot a, CpuSnapshot b, double seconds) => new(
        a.Server is { } s0 && b.Server is { } s1 ? (s1 - s0) / seconds : null,
        (b.Postgres - a.Postgres) / seconds,
        (b.Driver - a.Driver) / seconds,
        (b.MachineBusy - a.MachineBusy) / seconds,
        Environment.ProcessorCount);
}

/// <summary>Samples a process's memory in the background: the value at start, the peak and the last.</summary>
public sealed class MemorySampler : IAsyncDisposable
{
    private readonly ServerProcess _process;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peak;

    public MemorySampler(ServerProcess process, TimeSpan interval)
    {
        _process = process;
        Start = process.ResidentBytes();
        _peak = Start ?? 0;
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    Sample();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public long? Start { get; }

    public long Peak => Interlocked.Read(ref _peak);

    public long? Last { get; private set; }

    private void Sample()
    {
        if (_process.ResidentBytes() is { } rss)
        {
            Last = rss;
            long seen;
            while (rss > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, rss, seen) != seen)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Sample();
        _stop.Dispose();
    }
}
