using Patron.Domain.Pricing;

namespace Patron.Bench;

/// <summary>One item a pharmacy sells: SKU, name, price in fen, category and POS flags.</summary>
public sealed record Item(string Sku, string Name, long Price, string Category, string? Flag)
{
    public IReadOnlyList<string>? Flags { get; } = Flag is null ? null : [Flag];
}

/// <summary>
/// The shelf both the generator and the driver buy from: medicines, vitamins, devices and
/// first aid, a few at special prices (which earn no points and take no member discount under P1).
/// </summary>
public static class Catalogue
{
    public static readonly IReadOnlyList<Item> Items =
    [
        new("6920001", "阿莫西林胶囊 0.25g×24粒", 1850, "drug", null),
        new("6920002", "布洛芬缓释胶囊 0.3g×20粒", 2280, "drug", null),
        new("6920003", "板蓝根颗粒 10g×20袋", 2380, "drug", null),
        new("6920004", "连花清瘟胶囊 0.35g×36粒", 2980, "drug", null),
        new("6920005", "复方甘草片 100片", 850, "drug", null),
        new("6920006", "蒙脱石散 3g×10袋", 1960, "drug", null),
        new("6920007", "氯雷他定片 10mg×6片", 2450, "drug", null),
        new("6920008", "奥美拉唑肠溶胶囊 20mg×14粒", 3200, "drug", null),
        new("6920009", "硝苯地平控释片 30mg×7片", 3580, "chronic", null),
        new("6920010", "二甲双胍缓释片 0.5g×30片", 2760, "chronic", null),
        new("6920011", "阿托伐他汀钙片 20mg×7片", 4120, "chronic", null),
        new("6920012", "苯磺酸氨氯地平片 5mg×28片", 3390, "chronic", null),
        new("6920013", "维生素C片 100片", 1290, "vitamin", null),
        new("6920014", "钙尔奇 碳酸钙D3片 60片", 8800, "vitamin", null),
        new("6920015", "善存 多维元素片 100片", 12800, "vitamin", null),
        new("6920016", "鱼油软胶囊 100粒", 9900, "vitamin", "special_price"),
        new("6920017", "医用外科口罩 50只", 3990, "device", "special_price"),
        new("6920018", "电子体温计", 2990, "device", null),
        new("6920019", "电子血压计", 19900, "device", null),
        new("6920020", "血糖试纸 50片", 13800, "device", null),
        new("6920021", "创可贴 100片", 990, "first_aid", "special_price"),
        new("6920022", "医用酒精 75% 500ml", 990, "first_aid", null),
        new("6920023", "碘伏消毒液 100ml", 690, "first_aid", null),
        new("6920024", "云南白药气雾剂", 4680, "first_aid", null),
        new("6920025", "眼药水 10ml", 2650, "drug", null),
        new("6920026", "感冒灵颗粒 10g×9袋", 1580, "drug", null),
        new("6920027", "健胃消食片 32片", 1200, "drug", null),
        new("6920028", "六味地黄丸 360粒", 3600, "tcm", null),
        new("6920029", "枸杞 250g", 4500, "tcm", "special_price"),
        new("6920030", "西洋参片 50g", 16800, "tcm", null),
    ];

    public static readonly IReadOnlyDictionary<string, Item> BySku = Items.ToDictionary(i => i.Sku, StringComparer.Ordinal);

    /// <summary>A basket of 1–<paramref name="maxLines"/> different items, mostly one unit each.</summary>
    public static List<BasketLine> Basket(Random rng, int maxLines = 4)
    {
        var count = rng.Next(1, maxLines + 1);
        var lines = new List<BasketLine>(count);
        Span<int> picked = stackalloc int[count];
        for (var i = 0; i < count; i++)
        {
            int index;
            do
            {
                index = rng.Next(Items.Count);
            }
            while (picked[..i].Contains(index));

            picked[i] = index;
            var item = Items[index];
            var quantity = rng.Next(10) switch { < 7 => 1, < 9 => 2, _ => 3 };
            lines.Add(new BasketLine(item.Sku, quantity, item.Price, item.Category, null, item.Flags, item.Name));
        }

        return lines;
    }
}
