namespace Patron.Data;

/// <summary>
/// A server secret shared by every node (for example the key of the ID-number lookup hash),
/// stored encrypted with Data Protection so that the database alone does not reveal it.
/// </summary>
public sealed class AppSecret
{
    private AppSecret()
    {
        Name = "";
        ProtectedValue = "";
    }

    public AppSecret(string name, string protectedValue, DateTime createdAtUtc)
    {
        Name = name;
        ProtectedValue = protectedValue;
        CreatedAt = createdAtUtc;
    }

    public string Name { get; private set; }

    public string ProtectedValue { get; private set; }

    public DateTime CreatedAt { get; private set; }
}
