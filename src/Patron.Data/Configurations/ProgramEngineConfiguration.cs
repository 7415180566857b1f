using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Patron.Domain.Coupons;
using Patron.Domain.Members;
using Patron.Domain.Organisation;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Domain.Sales;
using Patron.Domain.Tiers;

namespace Patron.Data.Configurations;

internal sealed class ProgramVersionConfiguration : IEntityTypeConfiguration<ProgramVersion>
{
    public void Configure(EntityTypeBuilder<ProgramVersion> b)
    {
        b.ToTable("program_versions");
        b.Ignore(x => x.Rules);

        // A draft saved while another request publishes it (or saves it) must not overwrite it.
        b.Property(x => x.Status).IsConcurrencyToken();
        b.Property(x => x.UpdatedAt).IsConcurrencyToken();
        b.HasIndex(x => new { x.ProgramId, x.Version }).IsUnique();

        b.Property(x => x.PublishedBefore).HasDefaultValue(0);

        // Two versions of a program published at once take the same order: the second is refused.
        b.HasIndex(x => new { x.ProgramId, x.PublishOrder }).IsUnique();
        b.HasOne<LoyaltyProgram>().WithMany().HasForeignKey(x => x.ProgramId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class MemberAccountConfiguration : IEntityTypeConfiguration<MemberAccount>
{
    public void Configure(EntityTypeBuilder<MemberAccount> b)
    {
        b.ToTable("member_accounts");
        b.HasKey(x => x.MemberId);
        b.Property(x => x.MemberId).ValueGeneratedNever();
        b.Property(x => x.Tier).HasMaxLength(32);
        b.Ignore(x => x.Counters);
        b.Property(x => x.AnnualFeePaid).HasDefaultValue(0L);
        b.Property(x => x.StoredPrincipal).HasDefaultValue(0L);
        b.Property(x => x.StoredBonus).HasDefaultValue(0L);
        b.HasIndex(x => new { x.ProgramId, x.Tier });
        b.HasOne<Member>().WithOne().HasForeignKey<MemberAccount>(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<LoyaltyProgram>().WithMany().HasForeignKey(x => x.ProgramId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PointsLotConfiguration : IEntityTypeConfiguration<PointsLot>
{
    public void Configure(EntityTypeBuilder<PointsLot> b)
    {
        b.ToTable("points_lots");
        b.HasIndex(x => new { x.MemberId, x.Remaining });
        b.HasIndex(x => new { x.ExpiresAt, x.Remaining });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PointsEntryConfiguration : IEntityTypeConfiguration<PointsEntry>
{
    public void Configure(EntityTypeBuilder<PointsEntry> b)
    {
        b.ToTable("points_entries");
        b.Property(x => x.Reference).HasMaxLength(200);
        b.Ignore(x => x.Draws);
        b.HasIndex(x => new { x.MemberId, x.At });
        b.HasIndex(x => x.SaleId);
        b.HasOne(x => x.Lot).WithMany().HasForeignKey(x => x.LotId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class SaleConfiguration : IEntityTypeConfiguration<Sale>
{
    public void Configure(EntityTypeBuilder<Sale> b)
    {
        b.ToTable("sales");
        b.Property(x => x.OrderNumber).HasMaxLength(Sale.OrderNumberMaxLength);
        b.Property(x => x.RequestHash).HasMaxLength(64);
        b.Ignore(x => x.StoredValue);
        b.Ignore(x => x.FullyReturned);
        b.Property(x => x.StoredPrincipal).HasDefaultValue(0L);
        b.Property(x => x.StoredBonus).HasDefaultValue(0L);
        b.Property(x => x.ReturnedStoredPrincipal).HasDefaultValue(0L);
        b.Property(x => x.ReturnedStoredBonus).HasDefaultValue(0L);
        b.HasIndex(x => new { x.StoreId, x.Kind, x.OrderNumber }).IsUnique();
        b.HasIndex(x => new { x.MemberId, x.At });
        b.HasIndex(x => x.OriginalSaleId);
        b.HasIndex(x => new { x.ProgramId, x.LocalDate });
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.StoreId).OnDelete(DeleteBehavior.Restrict);
        b.HasMany(x => x.Lines).WithOne().HasForeignKey(x => x.SaleId).OnDelete(DeleteBehavior.Cascade);
        b.Navigation(x => x.Lines).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class SaleLineConfiguration : IEntityTypeConfiguration<SaleLine>
{
    public void Configure(EntityTypeBuilder<SaleLine> b)
    {
        b.ToTable("sale_lines");
        b.Property(x => x.Sku).HasMaxLength(64);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Category).HasMaxLength(64);
        b.Property(x => x.Brand).HasMaxLength(64);
        b.Property(x => x.Flags).HasMaxLength(200);
        b.Property(x => x.DiscountRule).HasMaxLength(200);
        b.Property(x => x.CouponDiscount).HasDefaultValue(0L);
        b.Ignore(x => x.FlagList);
        b.HasIndex(x => new { x.SaleId, x.LineNo }).IsUnique();
    }
}

internal sealed class CouponConfiguration : IEntityTypeConfiguration<Coupon>
{
    public void Configure(EntityTypeBuilder<Coupon> b)
    {
        b.ToTable("coupons");
        b.Property(x => x.Code).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.Terms).HasMaxLength(500);
        b.Property(x => x.SourceRef).HasMaxLength(100);
        b.Property(x => x.TemplateCode).HasMaxLength(32).HasDefaultValue("");
        b.Property(x => x.Kind).HasDefaultValue(CouponKind.Cash);
        b.Property(x => x.Rules).HasDefaultValue("{}");
        b.Property(x => x.UsesLeft).HasDefaultValue(1);
        b.Ignore(x => x.Template);
        b.HasIndex(x => x.Code).IsUnique();
        b.HasIndex(x => new { x.MemberId, x.Status });
        b.HasIndex(x => new { x.ProgramId, x.TemplateCode });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class CouponUseConfiguration : IEntityTypeConfiguration<CouponUse>
{
    public void Configure(EntityTypeBuilder<CouponUse> b)
    {
        b.ToTable("coupon_uses");
        b.HasIndex(x => x.CouponId);
        b.HasIndex(x => x.SaleId);
        b.HasIndex(x => new { x.ProgramId, x.At });
        b.HasOne<Coupon>().WithMany().HasForeignKey(x => x.CouponId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Sale>().WithMany().HasForeignKey(x => x.SaleId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class GiftStockConfiguration : IEntityTypeConfiguration<GiftStock>
{
    public void Configure(EntityTypeBuilder<GiftStock> b)
    {
        b.ToTable("gift_stocks");
        b.HasKey(x => new { x.ProgramId, x.ItemCode, x.StoreId });
        b.Property(x => x.ItemCode).HasMaxLength(32);
        b.HasIndex(x => x.StoreId);
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.StoreId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class RedemptionConfiguration : IEntityTypeConfiguration<Redemption>
{
    public void Configure(EntityTypeBuilder<Redemption> b)
    {
        b.ToTable("redemptions");
        b.Property(x => x.ItemCode).HasMaxLength(32);
        b.Property(x => x.ItemName).HasMaxLength(100);
        b.Property(x => x.Kind).HasDefaultValue(RewardKind.Gift);
        b.Property(x => x.PickupCode).HasMaxLength(16);
        b.Property(x => x.TookStock).HasDefaultValue(false);
        b.Ignore(x => x.AwaitsPickup);
        b.HasIndex(x => new { x.MemberId, x.At });
        b.HasIndex(x => new { x.ProgramId, x.At });
        b.HasIndex(x => new { x.ProgramId, x.PickupCode }).IsUnique();
        b.HasIndex(x => new { x.StoreId, x.Status });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class EntitlementConfiguration : IEntityTypeConfiguration<Entitlement>
{
    public void Configure(EntityTypeBuilder<Entitlement> b)
    {
        b.ToTable("entitlements");
        b.Property(x => x.Code).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(100);
        b.HasIndex(x => new { x.MemberId, x.Code, x.Year });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class MilestoneProgressConfiguration : IEntityTypeConfiguration<MilestoneProgress>
{
    public void Configure(EntityTypeBuilder<MilestoneProgress> b)
    {
        b.ToTable("milestone_progress");
        b.HasKey(x => new { x.MemberId, x.RuleId });
        b.Property(x => x.RuleId).HasMaxLength(32);
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class TierChangeConfiguration : IEntityTypeConfiguration<TierChange>
{
    public void Configure(EntityTypeBuilder<TierChange> b)
    {
        b.ToTable("tier_changes");
        b.Property(x => x.FromTier).HasMaxLength(32);
        b.Property(x => x.ToTier).HasMaxLength(32);
        b.Property(x => x.Note).HasMaxLength(200);
        b.HasIndex(x => new { x.MemberId, x.At });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PointsAdjustmentConfiguration : IEntityTypeConfiguration<PointsAdjustment>
{
    public void Configure(EntityTypeBuilder<PointsAdjustment> b)
    {
        b.ToTable("points_adjustments");
        b.Property(x => x.Reason).HasMaxLength(PointsAdjustment.ReasonMaxLength);
        b.Property(x => x.RequestedRole).HasMaxLength(32);
        b.HasIndex(x => new { x.MemberId, x.RequestedAt });
        b.HasIndex(x => new { x.ProgramId, x.Status });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> b)
    {
        b.ToTable("idempotency_keys");
        b.HasKey(x => new { x.ActorKind, x.ActorId, x.Key });
        b.Property(x => x.Key).HasMaxLength(IdempotencyRecord.KeyMaxLength);
        b.Property(x => x.RequestHash).HasMaxLength(64);
        b.HasIndex(x => x.CreatedAt);
    }
}

internal sealed class JobRunConfiguration : IEntityTypeConfiguration<JobRun>
{
    public void Configure(EntityTypeBuilder<JobRun> b)
    {
        b.ToTable("job_runs");
        b.HasKey(x => new { x.Job, x.Period });
        b.Property(x => x.Job).HasMaxLength(64);
        b.Property(x => x.Period).HasMaxLength(32);
        b.Property(x => x.Outcome).HasMaxLength(500);
    }
}
