using Patron.Domain.Common;
using Patron.Domain.Programs;

namespace Patron.Domain.Points;

public enum AdjustmentStatus
{
    Applied = 0,
    Pending = 1,
    Rejected = 2,
}

/// <summary>
/// A manual change to a member's points, with its reason. Within the requester's role cap it is
/// applied at once; above the program's approval threshold it waits for a second person.
/// </summary>
public sealed class PointsAdjustment
{
    public const int ReasonMaxLength = 200;

    private PointsAdjustment()
    {
        Reason = "";
        RequestedRole = "";
    }

    private PointsAdjustment(long programId, long memberId, long storeId, long points, string reason, long requestedBy, string requestedRole, DateTime atUtc, AdjustmentStatus status)
    {
        ProgramId = programId;
        MemberId = memberId;
        StoreId = storeId;
        Points = points;
        Reason = reason;
        RequestedBy = requestedBy;
        RequestedRole = requestedRole;
        RequestedAt = atUtc;
        Status = status;
    }

    public long Id { get; private set; }

    public long ProgramId { get; private set; }

    public long MemberId { get; private set; }

    public long StoreId { get; private set; }

    public long Points { get; private set; }

    public string Reason { get; private set; }

    public long RequestedBy { get; private set; }

    public string RequestedRole { get; private set; }

    public DateTime RequestedAt { get; private set; }

    public AdjustmentStatus Status { get; private set; }

    public long? DecidedBy { get; private set; }

    public DateTime? DecidedAt { get; private set; }

    /// <summary>Checks the request against the policy: applied at once, or pending a second approver.</summary>
    public static PointsAdjustment Request(AdjustmentPolicy policy, long programId, long memberId, long storeId, long points, string? reason, long staffId, string role, DateTime atUtc)
    {
        var text = (reason ?? "").Trim();
        if (points == 0)
        {
            throw new DomainException(new DomainError("adjustment.points_zero", "An adjustment moves at least one point.", "points"));
        }

        if (text.Length == 0 || text.Length > ReasonMaxLength)
        {
            throw new DomainException(new DomainError("adjustment.reason_required", $"Give a reason (at most {ReasonMaxLength} characters).", "reason"));
        }

        var cap = Cap(policy, role) ?? throw new DomainException(new DomainError("adjustment.role_forbidden", "Your role may not adjust points."));
        if (Math.Abs(points) > cap)
        {
            throw new DomainException(new DomainError("adjustment.over_cap", $"Your role may adjust at most {cap} points at a time.", "points"));
        }

        var pending = policy.ApprovalAbove is { } above && Math.Abs(points) > above;
        return new PointsAdjustment(programId, memberId, storeId, points, text, staffId, role, atUtc, pending ? AdjustmentStatus.Pending : AdjustmentStatus.Applied);
    }

    /// <summary>A second person decides on a pending adjustment; they must be allowed to make it themselves.</summary>
    public void Decide(AdjustmentPolicy policy, bool approve, long staffId, string role, DateTime atUtc)
    {
        if (Status != AdjustmentStatus.Pending)
        {
            throw new DomainException(new DomainError("adjustment.not_pending", "This adjustment has already been decided."));
        }

        if (staffId == RequestedBy)
        {
            throw new DomainException(new DomainError("adjustment.same_approver", "A second person must approve an adjustment of this size."));
        }

        if (Cap(policy, role) is not { } cap || Math.Abs(Points) > cap)
        {
            throw new DomainException(new DomainError("adjustment.approver_over_cap", "Your role may not approve an adjustment of this size."));
        }

        Status = approve ? AdjustmentStatus.Applied : AdjustmentStatus.Rejected;
        DecidedBy = staffId;
        DecidedAt = atUtc;
    }

    private static long? Cap(AdjustmentPolicy policy, string role) => policy.CapByRole.TryGetValue(role, out var cap) ? cap : null;
}
