namespace Patron.Domain.Common;

/// <summary>
/// A rule the caller broke. <see cref="Code"/> is stable (clients and translations key on it);
/// <see cref="Field"/> names the input at fault when there is one.
/// </summary>
public sealed record DomainError(string Code, string Message, string? Field = null);

/// <summary>Thrown when a domain rule refuses an operation; carries one or more errors.</summary>
public sealed class DomainException : Exception
{
    public DomainException(DomainError error)
        : this([error])
    {
    }

    public DomainException(IReadOnlyList<DomainError> errors)
        : base(errors.Count > 0 ? errors[0].Message : "Domain rule violated.")
    {
        Errors = errors;
    }

    public IReadOnlyList<DomainError> Errors { get; }

    public string Code => Errors.Count > 0 ? Errors[0].Code : "domain.error";
}
