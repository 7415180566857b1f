using System.Globalization;

namespace Patron.Bench;

/// <summary>
/// <c>--name value</c> switches after the command word. Every switch is read at most once; an
/// unknown or unused one is an error, so a typo never silently falls back to a default.
/// </summary>
public sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public Options(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length < 3)
            {
                throw new UsageException($"Unexpected argument '{a}'.");
            }

            var eq = a.IndexOf('=');
            if (eq > 0)
            {
                _values[a[2..eq]] = a[(eq + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                _values[a[2..]] = args[++i];
            }
            else
            {
                _values[a[2..]] = "true";
            }
        }
    }

    public string? String(string name, string? fallback = null)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var v) ? v : fallback;
    }

    public string Required(string name, string? environmentVariable = null)
    {
        var value = String(name) ?? (environmentVariable is null ? null : Environment.GetEnvironmentVariable(environmentVariable));
        return string.IsNullOrWhiteSpace(value)
            ? throw new UsageException($"--{name} is required" + (environmentVariable is null ? "." : $" (or {environmentVariable})."))
            : value;
    }

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = String(name);
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new UsageException($"--{name} must be a whole number from {min} to {max}.");
    }

    public bool Flag(string name) => String(name) is "true" or "1" or "yes";

    /// <summary>Fails on switches nobody asked for.</summary>
    public void EnsureAllUsed()
    {
        var unused = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unused.Count > 0)
        {
            throw new UsageException("Unknown option(s): " + string.Join(", ", unused.Select(u => "--" + u)));
        }
    }
}

public sealed class UsageException(string message) : Exception(message);
