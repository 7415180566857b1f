namespace Patron.Domain.Organisation;

public sealed class Store
{
    public const string DefaultTimeZone = "Asia/Shanghai";

    private Store()
    {
        Code = "";
        Name = "";
        City = "";
        TimeZone = DefaultTimeZone;
    }

    public Store(string code, string name, long regionId, string city, long programId, string timeZone = DefaultTimeZone)
    {
        Code = code;
        Name = name;
        RegionId = regionId;
        City = city;
        ProgramId = programId;
        TimeZone = timeZone;
        IsActive = true;
    }

    public long Id { get; private set; }

    public string Code { get; private set; }

    public string Name { get; private set; }

    public long RegionId { get; private set; }

    public string City { get; private set; }

    public long ProgramId { get; private set; }

    /// <summary>IANA time zone; rules are evaluated in it.</summary>
    public string TimeZone { get; private set; }

    public bool IsActive { get; private set; }
}
