using System.Globalization;

namespace Patron.Bench;

public enum Operation
{
    Identify = 0,
    Quote = 1,
    Commit = 2,
    Return = 3,
}

/// <summary>Relative weights of the operations a terminal performs, e.g. <c>identify=40,quote=25,commit=30,return=5</c>.</summary>
public sealed class Mix
{
    public const string Default = "identify=40,quote=25,commit=30,return=5";

    public static readonly IReadOnlyList<Operation> All = Enum.GetValues<Operation>();

    private readonly int[] _weights;
    private readonly int _total;

    private Mix(int[] weights)
    {
        _weights = weights;
        _total = weights.Sum();
    }

    public int Weight(Operation op) => _weights[(int)op];

    public static Mix Parse(string text)
    {
        var weights = new int[All.Count];
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !Enum.TryParse<Operation>(kv[0], ignoreCase: true, out var op)
                || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var w))
            {
                throw new UsageException($"--mix: '{part}' is not op=weight (ops: identify, quote, commit, return).");
            }

            weights[(int)op] = w;
        }

        return weights.Sum() == 0 ? throw new UsageException("--mix: the weights add up to 0.") : new Mix(weights);
    }

    public Operation Pick(Random rng)
    {
        var x = rng.Next(_total);
        for (var i = 0; i < _weights.Length; i++)
        {
            if (x < _weights[i])
            {
                return (Operation)i;
            }

            x -= _weights[i];
        }

        return Operation.Identify;
    }

    public override string ToString() =>
        string.Join(',', All.Select(op => string.Create(CultureInfo.InvariantCulture, $"{op.ToString().ToLowerInvariant()}={Weight(op)}")));
}
