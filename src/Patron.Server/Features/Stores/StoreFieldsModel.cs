namespace Patron.Server.Features.Stores;

/// <summary>What the store form partial shows: the values, the choices, and whether open/closed is editable.</summary>
public sealed record StoreFieldsModel(StoreForm Form, IReadOnlyList<RegionView> Regions, IReadOnlyList<ProgramView> Programs, bool ShowOpen);
