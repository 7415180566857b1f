namespace Patron.Server.Infrastructure.Export;

/// <summary>
/// CSV as Excel opens it (files are written UTF-8 with a BOM): a text field is quoted when it
/// needs it; a leading =, +, - or @ is neutralised so it is never run as a formula; a long run of
/// digits (card, ID and order numbers) gets a leading tab so Excel keeps it as text instead of
/// rounding it to 1.1E+17.
/// </summary>
public static class ExcelCsv
{
    public static string Cell(string value)
    {
        if (value.Length > 0 && "=+-@".Contains(value[0], StringComparison.Ordinal))
        {
            value = "'" + value;
        }
        else if (value.Length >= 12 && value.All(char.IsAsciiDigit))
        {
            value = "\t" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n\t") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
