using System.Collections.Concurrent;
using System.Globalization;
using System.Resources;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Patron.Server.Tests.Infrastructure;

/// <summary>
/// Records every console string looked up that the current language lacks: in zh-CN a key missing
/// from SharedResource.zh-CN.resx (it would show in English); in English a code-like key
/// (<c>cause.sale</c>) missing from SharedResource.resx (it would show as the code). English text
/// keys are their own English.
/// </summary>
public sealed partial class TranslationWatch
{
    private static readonly ResourceManager Resources = new("Patron.Server.Resources.SharedResource", typeof(SharedResource).Assembly);

    public ConcurrentDictionary<string, string> Missing { get; } = new();

    public static void Register(IServiceCollection services, TranslationWatch watch)
    {
        services.AddSingleton(watch);
        services.AddSingleton<ResourceManagerStringLocalizerFactory>();
        services.AddSingleton<IStringLocalizerFactory>(sp => new Factory(sp.GetRequiredService<ResourceManagerStringLocalizerFactory>(), watch));
    }

    private void Check(string name)
    {
        var culture = CultureInfo.CurrentUICulture;
        if (culture.Name == "zh-CN")
        {
            if (Resources.GetResourceSet(culture, true, false)?.GetString(name) is null)
            {
                Missing.TryAdd("zh-CN: " + name, name);
            }
        }
        else if (CodeLike().IsMatch(name) && Resources.GetResourceSet(CultureInfo.InvariantCulture, true, false)?.GetString(name) is null)
        {
            Missing.TryAdd("en: " + name, name);
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$")]
    private static partial Regex CodeLike();

    private sealed class Factory(IStringLocalizerFactory inner, TranslationWatch watch) : IStringLocalizerFactory
    {
        public IStringLocalizer Create(Type resourceSource) => new Localizer(inner.Create(resourceSource), watch);

        public IStringLocalizer Create(string baseName, string location) => new Localizer(inner.Create(baseName, location), watch);
    }

    private sealed class Localizer(IStringLocalizer inner, TranslationWatch watch) : IStringLocalizer
    {
        public LocalizedString this[string name]
        {
            get
            {
                watch.Check(name);
                return inner[name];
            }
        }

        public LocalizedString this[string name, params object[] arguments]
        {
            get
            {
                watch.Check(name);
                return inner[name, arguments];
            }
        }

        public IEnumerable<LocalizedString> GetAllStrings(bool includeParentCultures) => inner.GetAllStrings(includeParentCultures);
    }
}
