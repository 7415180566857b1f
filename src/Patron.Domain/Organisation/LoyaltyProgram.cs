namespace Patron.Domain.Organisation;

/// <summary>
/// One loyalty program per brand or city. Members, cards and points belong to a program and
/// never cross into another. The rules themselves are configured in a later layer.
/// </summary>
public sealed class LoyaltyProgram
{
    private LoyaltyProgram()
    {
        Code = "";
        Name = "";
        CardPrefix = "";
    }

    public LoyaltyProgram(string code, string name, string cardPrefix)
    {
        if (cardPrefix.Length is < 1 or > 8 || !cardPrefix.All(char.IsAsciiDigit))
        {
            throw new ArgumentException("A card prefix is one to eight digits.", nameof(cardPrefix));
        }

        Code = code;
        Name = name;
        CardPrefix = cardPrefix;
    }

    public long Id { get; private set; }

    public string Code { get; private set; }

    public string Name { get; private set; }

    /// <summary>Digits every card number of this program starts with.</summary>
    public string CardPrefix { get; private set; }

    /// <summary>The last card sequence handed out; advanced by a guarded update, never read-modify-write.</summary>
    public long CardSequence { get; private set; }
}
