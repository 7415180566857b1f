namespace Patron.Domain.Organisation;

public sealed class Store
{
    public const string DefaultTimeZone = "Asia/Shanghai";

    private Store()
    {
        Code = "";
        Name = "";
        City = "";
        District = "";
        Address = "";
        TimeZone = DefaultTimeZone;
    }

    public Store(string code, string name, long regionId, string city, long programId, string timeZone = DefaultTimeZone, string district = "", string address = "")
    {
        Code = code;
        Name = name;
        RegionId = regionId;
        City = city;
        District = district;
        Address = address;
        ProgramId = programId;
        TimeZone = timeZone;
        IsActive = true;
    }

    public long Id { get; private set; }

    public string Code { get; private set; }

    public string Name { get; private set; }

    public long RegionId { get; private set; }

    public string City { get; private set; }

    /// <summary>District within the city (朝阳区); empty when not given.</summary>
    public string District { get; private set; }

    /// <summary>Street address; empty when not given.</summary>
    public string Address { get; private set; }

    public long ProgramId { get; private set; }

    /// <summary>IANA time zone; rules are evaluated in it.</summary>
    public string TimeZone { get; private set; }

    public bool IsActive { get; private set; }

    /// <summary>Changes the store's particulars; validation is the caller's (the console and API share it).</summary>
    public void Update(string code, string name, long regionId, string city, string district, string address, long programId, string timeZone)
    {
        Code = code;
        Name = name;
        RegionId = regionId;
        City = city;
        District = district;
        Address = address;
        ProgramId = programId;
        TimeZone = timeZone;
    }

    /// <summary>Opens or closes the store: a closed store's terminals are refused.</summary>
    public void SetOpen(bool open) => IsActive = open;
}
