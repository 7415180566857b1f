using Patron.Domain.Members;

namespace Patron.Domain.Care;

/// <summary>When a long-term medicine runs out and when to remind the member to buy it again.</summary>
public sealed record RefillStatus(string Name, string? Sku, decimal DailyDose, int PackSize, DateOnly? LastBought, DateOnly? RunsOutOn, DateOnly? RemindOn, bool Overdue);

/// <summary>
/// Refill dates from purchases: each purchase of <c>q</c> packs adds <c>q × packSize ÷ dailyDose</c>
/// days of supply, counted from the day the previous supply runs out or the day of purchase,
/// whichever is later (a member who buys early keeps what they had). Returns take supply back.
/// </summary>
public static class Refill
{
    public const int DefaultLeadDays = 3;

    /// <param name="purchases">Local date and packs bought (negative for a return), in any order.</param>
    public static RefillStatus For(LongTermMedicine medicine, IEnumerable<(DateOnly Date, int Packs)> purchases, DateOnly today, int leadDays = DefaultLeadDays)
    {
        DateOnly? runsOut = null;
        DateOnly? last = null;
        foreach (var group in purchases.GroupBy(p => p.Date).OrderBy(g => g.Key))
        {
            var packs = group.Sum(p => p.Packs);
            var days = (int)Math.Floor(packs * medicine.PackSize / medicine.DailyDose);
            if (days == 0)
            {
                continue;
            }

            if (packs > 0)
            {
                last = group.Key;
            }

            var from = runsOut is { } r && r > group.Key ? r : group.Key;
            runsOut = from.AddDays(days);
        }

        var remind = runsOut?.AddDays(-leadDays);
        return new RefillStatus(medicine.Name, medicine.Sku, medicine.DailyDose, medicine.PackSize, last, runsOut, remind, runsOut is { } end && end <= today);
    }
}
