using Patron.Domain.Common;

namespace Patron.Domain.Care;

public enum CareTaskKind
{
    Call = 0,
    Visit = 1,
}

/// <summary>What a follow-up found, kept encrypted with the member's health data: readings and the pharmacist's note.</summary>
public sealed record CareReadings(int? Systolic = null, int? Diastolic = null, decimal? Glucose = null, string? Note = null)
{
    public IReadOnlyList<DomainError> Check()
    {
        var errors = new List<DomainError>();
        if (Systolic is < 50 or > 300 || Diastolic is < 30 or > 200 || (Systolic is null) != (Diastolic is null))
        {
            errors.Add(new DomainError("care.blood_pressure_invalid", "Blood pressure is systolic 50–300 and diastolic 30–200 mmHg, both or neither.", "systolic"));
        }

        if (Glucose is < 0.5m or > 50m)
        {
            errors.Add(new DomainError("care.glucose_invalid", "Blood glucose is 0.5–50 mmol/L.", "glucose"));
        }

        if ((Note?.Length ?? 0) > 500)
        {
            errors.Add(new DomainError("care.note_too_long", "A note is at most 500 characters.", "note"));
        }

        return errors;
    }
}

/// <summary>
/// A pharmacist's follow-up of a member with a chronic condition: a call or a visit due on a day,
/// done (with an outcome, readings and a note, all but the outcome encrypted) or overdue.
/// </summary>
public sealed class CareTask
{
    public static readonly IReadOnlyList<string> Outcomes = ["reached", "no_answer", "visited", "declined"];

    private CareTask()
    {
    }

    public CareTask(long memberId, long storeId, CareTaskKind kind, DateOnly dueOn, string? cipher, DateTime atUtc, long? staffId)
    {
        MemberId = memberId;
        StoreId = storeId;
        Kind = kind;
        DueOn = dueOn;
        Cipher = cipher;
        CreatedAt = atUtc;
        CreatedBy = staffId;
    }

    public long Id { get; private set; }

    public long MemberId { get; private set; }

    public long StoreId { get; private set; }

    public CareTaskKind Kind { get; private set; }

    public DateOnly DueOn { get; private set; }

    /// <summary>The encrypted readings and note (the plan's note before, the follow-up's after).</summary>
    public string? Cipher { get; private set; }

    public DateTime CreatedAt { get; private set; }

    public long? CreatedBy { get; private set; }

    public DateTime? DoneAt { get; private set; }

    public long? DoneBy { get; private set; }

    public string? Outcome { get; private set; }

    public bool IsOverdue(DateOnly today) => DoneAt is null && DueOn < today;

    public void Complete(string outcome, string? cipher, DateTime atUtc, long? staffId)
    {
        if (DoneAt is not null)
        {
            throw new DomainException(new DomainError("care.task_done", "This follow-up is already done."));
        }

        if (!Outcomes.Contains(outcome))
        {
            throw new DomainException(new DomainError("care.outcome_unknown", $"The outcome is one of {string.Join(", ", Outcomes)}.", "outcome"));
        }

        Outcome = outcome;
        Cipher = cipher ?? Cipher;
        DoneAt = atUtc;
        DoneBy = staffId;
    }
}
