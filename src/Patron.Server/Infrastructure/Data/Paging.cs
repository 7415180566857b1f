namespace Patron.Server.Infrastructure.Data;

/// <summary>Page numbers of server-side lists: kept within the pages there are, so no offset overflows.</summary>
public static class Paging
{
    /// <summary>How many pages <paramref name="total"/> rows fill; an empty list has one (empty) page.</summary>
    public static int Pages(int total, int pageSize) => Math.Max(1, (total + pageSize - 1) / pageSize);

    /// <summary>The page asked for, within the first and the last page (a console list shows its last page for one past it).</summary>
    public static int Clamp(int page, int total, int pageSize) => Math.Clamp(page, 1, Pages(total, pageSize));

    /// <summary>The page asked for, up to one past the last: an API answers it empty, so a client paging through stops.</summary>
    public static int ClampPastTheEnd(int page, int total, int pageSize) => Math.Clamp(page, 1, Pages(total, pageSize) + 1);
}
