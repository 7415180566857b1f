using Patron.Domain.Common;

namespace Patron.Domain.Programs;

public enum ProgramVersionStatus
{
    Draft = 0,
    Published = 1,
}

/// <summary>
/// One stored version of a program's rules: a draft until published, then in force from its
/// effective date until a later published version takes over. The definition is the program
/// file itself (JSON), so an export is exactly what was imported and validated.
/// </summary>
public sealed class ProgramVersion
{
    private ProgramDefinition? _parsed;

    private ProgramVersion()
    {
        Definition = "";
    }

    /// <param name="publishedBefore">The <see cref="PublishOrder"/> of the program's last publish at this moment (0 for none).</param>
    public ProgramVersion(long programId, int version, ProgramDefinition definition, long? staffId, DateTime nowUtc, int publishedBefore)
    {
        ProgramId = programId;
        Version = version;
        PublishedBefore = publishedBefore;
        Replace(definition with { Version = version }, staffId, nowUtc);
        CreatedAt = nowUtc;
        CreatedBy = staffId;
        Definition ??= "";
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public int Version { get; private set; }

    public DateOnly EffectiveFrom { get; private set; }

    public ProgramVersionStatus Status { get; private set; }

    public string Definition { get; private set; }

    public DateTime CreatedAt { get; private set; }

    public long? CreatedBy { get; private set; }

    public DateTime UpdatedAt { get; private set; }

    public DateTime? PublishedAt { get; private set; }

    public long? PublishedBy { get; private set; }

    /// <summary>1 for the program's first publish, 2 for the next, and so on (unique per program); null for a draft.</summary>
    public int? PublishOrder { get; private set; }

    /// <summary>
    /// The <see cref="PublishOrder"/> of the program's last publish when this version was made: a version
    /// published later (a higher order) holds changes this one never saw, whatever the two version numbers.
    /// </summary>
    public int PublishedBefore { get; private set; }

    public ProgramDefinition Rules => _parsed ??= ProgramFile.Read(Definition);

    /// <summary>Replaces a draft's rules; a published version never changes.</summary>
    public void Replace(ProgramDefinition definition, long? staffId, DateTime nowUtc)
    {
        if (Status == ProgramVersionStatus.Published)
        {
            throw new DomainException(new DomainError("program.version_published", "A published version cannot change; make a new draft."));
        }

        var errors = ProgramFile.Validate(definition);
        if (errors.Count > 0)
        {
            throw new DomainException(errors);
        }

        var normalized = definition with { Version = Version };
        Definition = ProgramFile.Write(normalized);
        EffectiveFrom = normalized.EffectiveFrom;
        _parsed = normalized;
        UpdatedAt = nowUtc;
        CreatedBy ??= staffId;
    }

    /// <param name="order">The program's next <see cref="PublishOrder"/>.</param>
    public void Publish(long? staffId, DateTime nowUtc, int order)
    {
        if (Status == ProgramVersionStatus.Published)
        {
            throw new DomainException(new DomainError("program.version_published", "This version is already published."));
        }

        // A draft saved under older rules is checked again: a rule added since (an impossible date, say) holds for what is published now.
        var errors = ProgramFile.Validate(Rules);
        if (errors.Count > 0)
        {
            throw new DomainException(errors);
        }

        Status = ProgramVersionStatus.Published;
        PublishedAt = nowUtc;
        PublishedBy = staffId;
        PublishOrder = order;
    }
}
