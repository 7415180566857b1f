using Patron.Server.Features.Import;

namespace Patron.Server.Tests;

public sealed class MemberRowsHeaderTests
{
    [Fact]
    public void FromHeader_AFileWithoutAHeaderRow_NamesTheColumnsByPosition_NeverByTheValuesInThem()
    {
        var (rows, errors) = MemberRows.FromHeader(["张三", "13912345678", "11010519491231002X"]);
        Assert.Null(rows);
        var unknown = errors.Where(e => e.Code == "import.column_unknown").ToList();
        Assert.Equal(["张三", "#2", "#3"], unknown.Select(e => e.Column));
        Assert.All(errors, e => Assert.DoesNotContain("13912345678", e.Message));
        Assert.All(errors, e => Assert.DoesNotContain("11010519491231002X", e.Message));
        Assert.Contains("header row", unknown[1].Message);
    }
}
