namespace Patron.Domain.Organisation;

/// <summary>A region or city grouping stores (华北, 北京市 …).</summary>
public sealed class Region
{
    private Region()
    {
        Code = "";
        Name = "";
    }

    public Region(string code, string name)
    {
        Code = code;
        Name = name;
    }

    public long Id { get; private set; }

    public string Code { get; private set; }

    public string Name { get; private set; }
}
