using Patron.Domain.Programs;

namespace Patron.Domain.Tests;

/// <summary>The shipped program files under samples/programs, as users get them.</summary>
internal static class Samples
{
    public static ProgramDefinition P1 => Load("p1-haoyaoshi-beijing.json");

    public static ProgramDefinition P2 => Load("p2-wangqu-tongxin.json");

    public static ProgramDefinition P3 => Load("p3-five-tiers.json");

    public static string Text(string file) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "programs", file));

    public static ProgramDefinition Load(string file) => ProgramFile.Parse(Text(file));

    public static long Yuan(decimal yuan) => (long)(yuan * 100);
}
