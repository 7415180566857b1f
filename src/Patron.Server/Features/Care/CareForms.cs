using System.Globalization;
using Patron.Domain.Common;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Care;

/// <summary>The console's form for planning a follow-up: fields as typed.</summary>
public sealed class CarePlanForm
{
    /// <summary>call or visit.</summary>
    public string? Kind { get; set; } = "call";

    /// <summary>yyyy-MM-dd, as a date input sends it.</summary>
    public string? DueOn { get; set; }

    public string? Note { get; set; }
}

/// <summary>The console's form for recording a follow-up: fields as typed.</summary>
public sealed class CareDoneForm
{
    public string? Outcome { get; set; } = "reached";

    public string? Systolic { get; set; }

    public string? Diastolic { get; set; }

    /// <summary>mmol/L.</summary>
    public string? Glucose { get; set; }

    public string? Note { get; set; }
}

/// <summary>
/// Turns the console's care forms into the API's requests. Numbers that do not read as numbers are
/// refused here with the same codes and fields as the readings' own check, so the page shows
/// one kind of error beside the field whatever was typed; everything else is for <see cref="CarePlans"/>.
/// </summary>
public static class CareForms
{
    public static CareTaskRequest ToRequest(CarePlanForm form, long? storeId) =>
        new(form.Kind, DateOnly.TryParseExact((form.DueOn ?? "").Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var due) ? due : null, Blank(form.Note), storeId);

    public static CareTaskDoneRequest ToRequest(CareDoneForm form)
    {
        var errors = new List<DomainError>();
        var systolic = Number(form.Systolic, out var badSystolic);
        var diastolic = Number(form.Diastolic, out var badDiastolic);
        if (badSystolic || badDiastolic)
        {
            errors.Add(new DomainError("care.blood_pressure_invalid", "Blood pressure is systolic 50–300 and diastolic 30–200 mmHg, both or neither.", "systolic"));
        }

        decimal? glucose = null;
        if (Blank(form.Glucose) is { } g)
        {
            if (decimal.TryParse(g.Replace('，', '.').Replace(',', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                glucose = value;
            }
            else
            {
                errors.Add(new DomainError("care.glucose_invalid", "Blood glucose is 0.5–50 mmol/L.", "glucose"));
            }
        }

        if (errors.Count > 0)
        {
            // Report the other fields' errors with these, as the readings' own check would.
            errors.AddRange(new Domain.Care.CareReadings(systolic, diastolic, glucose, Blank(form.Note)).Check().Where(e => !errors.Exists(x => x.Field == e.Field)));
            throw Problem.Invalid(errors);
        }

        return new CareTaskDoneRequest(Blank(form.Outcome), systolic, diastolic, glucose, Blank(form.Note));
    }

    private static int? Number(string? text, out bool invalid)
    {
        invalid = false;
        if (Blank(text) is not { } t)
        {
            return null;
        }

        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }

        invalid = true;
        return null;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
