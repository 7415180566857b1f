using Patron.Domain.Common;

namespace Patron.Server.Infrastructure.Problems;

/// <summary>
/// An answer that is not a success: an HTTP status, a stable code and, for invalid input, the
/// fields at fault. Thrown by application code and written as RFC 9457 problem details.
/// </summary>
public sealed class ProblemException(int status, string code, string message, IReadOnlyList<DomainError>? errors = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public IReadOnlyList<DomainError> Errors { get; } = errors ?? [];

    /// <summary>Further members of the answer beside <c>code</c> (e.g. <c>mergedIntoId</c>).</summary>
    public IReadOnlyDictionary<string, object?> Extensions { get; init; } = new Dictionary<string, object?>();
}

public static class Problem
{
    public const string ValidationCode = "validation.failed";

    public static ProblemException Unauthorized() =>
        new(StatusCodes.Status401Unauthorized, "auth.required", "Sign in or present a valid terminal key.");

    public static ProblemException Forbidden(string code, string message) =>
        new(StatusCodes.Status403Forbidden, code, message);

    public static ProblemException NotFound(string code, string message) =>
        new(StatusCodes.Status404NotFound, code, message);

    public static ProblemException Conflict(string code, string message, string? field = null) =>
        new(StatusCodes.Status409Conflict, code, message, field is null ? null : [new DomainError(code, message, field)]);

    public static ProblemException Invalid(IReadOnlyList<DomainError> errors) =>
        new(StatusCodes.Status400BadRequest, ValidationCode, "The request has invalid fields.", errors);

    public static ProblemException Invalid(string code, string message, string? field = null) =>
        Invalid([new DomainError(code, message, field)]);

    /// <summary>
    /// A refused domain rule: conflicts with existing data ("…_taken") are 409, the rest 422.
    /// </summary>
    public static ProblemException FromDomain(DomainException e) =>
        e.Code.EndsWith("_taken", StringComparison.Ordinal)
            ? new(StatusCodes.Status409Conflict, e.Code, e.Message, e.Errors)
            : new(StatusCodes.Status422UnprocessableEntity, e.Code, e.Message, e.Errors);
}

/// <summary>Collects field errors and throws them together as one 400 answer.</summary>
public sealed class FieldErrors
{
    private readonly List<DomainError> _errors = [];

    public bool Any => _errors.Count > 0;

    public IReadOnlyList<DomainError> All => _errors;

    public void Add(string field, string code, string message) => _errors.Add(new DomainError(code, message, field));

    public bool Has(string field) => _errors.Exists(e => e.Field == field);

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
        {
            throw Problem.Invalid(_errors);
        }
    }
}
