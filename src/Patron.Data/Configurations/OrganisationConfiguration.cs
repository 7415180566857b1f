using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Patron.Domain.Organisation;

namespace Patron.Data.Configurations;

internal sealed class LoyaltyProgramConfiguration : IEntityTypeConfiguration<LoyaltyProgram>
{
    public void Configure(EntityTypeBuilder<LoyaltyProgram> b)
    {
        b.ToTable("programs");
        b.Property(x => x.Code).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.CardPrefix).HasMaxLength(8);
        b.HasIndex(x => x.Code).IsUnique();
    }
}

internal sealed class RegionConfiguration : IEntityTypeConfiguration<Region>
{
    public void Configure(EntityTypeBuilder<Region> b)
    {
        b.ToTable("regions");
        b.Property(x => x.Code).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(100);
        b.HasIndex(x => x.Code).IsUnique();
    }
}

internal sealed class StoreConfiguration : IEntityTypeConfiguration<Store>
{
    public void Configure(EntityTypeBuilder<Store> b)
    {
        b.ToTable("stores");
        b.Property(x => x.Code).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.City).HasMaxLength(50);
        b.Property(x => x.District).HasMaxLength(50).HasDefaultValue("");
        b.Property(x => x.Address).HasMaxLength(200).HasDefaultValue("");
        b.Property(x => x.TimeZone).HasMaxLength(64);
        b.HasIndex(x => x.Code).IsUnique();
        b.HasOne<Region>().WithMany().HasForeignKey(x => x.RegionId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<LoyaltyProgram>().WithMany().HasForeignKey(x => x.ProgramId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class StaffConfiguration : IEntityTypeConfiguration<Staff>
{
    public void Configure(EntityTypeBuilder<Staff> b)
    {
        b.ToTable("staff");
        b.Property(x => x.Login).HasMaxLength(64);
        b.Property(x => x.DisplayName).HasMaxLength(100);
        b.Property(x => x.PasswordHash).HasMaxLength(200);
        b.Property(x => x.SecurityStamp).HasMaxLength(64);
        b.HasIndex(x => x.Login).IsUnique();
        b.Ignore(x => x.AllStores);
        b.HasMany(x => x.Stores).WithOne(x => x.Staff).HasForeignKey(x => x.StaffId).OnDelete(DeleteBehavior.Cascade);
        b.Navigation(x => x.Stores).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class StaffStoreConfiguration : IEntityTypeConfiguration<StaffStore>
{
    public void Configure(EntityTypeBuilder<StaffStore> b)
    {
        b.ToTable("staff_stores");
        b.HasKey(x => new { x.StaffId, x.StoreId });
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.StoreId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class TerminalConfiguration : IEntityTypeConfiguration<Terminal>
{
    public void Configure(EntityTypeBuilder<Terminal> b)
    {
        b.ToTable("terminals");
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.KeyId).HasMaxLength(32);
        b.Property(x => x.KeyHash).HasMaxLength(64);
        b.HasIndex(x => x.KeyId).IsUnique();
        b.Ignore(x => x.IsRevoked);
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.StoreId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Staff>().WithMany().HasForeignKey(x => x.CreatedByStaffId).OnDelete(DeleteBehavior.Restrict);
    }
}
