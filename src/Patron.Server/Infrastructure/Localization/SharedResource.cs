namespace Patron.Server;

/// <summary>
/// Marker for the shared string resources. Keys are English text or stable error codes;
/// Resources/SharedResource.zh-CN.resx carries the Simplified Chinese (the default language).
/// </summary>
public sealed class SharedResource;
