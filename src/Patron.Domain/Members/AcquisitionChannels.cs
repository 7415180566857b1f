namespace Patron.Domain.Members;

/// <summary>How a member came to the program (获客渠道).</summary>
public static class AcquisitionChannels
{
    public const string Store = "store";

    public static readonly IReadOnlyList<string> All = [Store, "referral", "wechat", "online", "event", "phone", "other"];

    public static bool IsKnown(string? channel) => channel is not null && All.Contains(channel);
}
