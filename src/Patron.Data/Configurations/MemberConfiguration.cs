using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Patron.Domain.Audit;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Organisation;

namespace Patron.Data.Configurations;

internal sealed class MemberConfiguration : IEntityTypeConfiguration<Member>
{
    public void Configure(EntityTypeBuilder<Member> b)
    {
        b.ToTable("members");
        b.Property(x => x.Name).HasMaxLength(Member.NameMaxLength);
        b.Property(x => x.Mobile).HasMaxLength(11);
        b.Property(x => x.MobileTail).HasMaxLength(4);
        b.Property(x => x.IdNumberHash).HasMaxLength(64);
        b.Property(x => x.IdNumberCipher).HasMaxLength(1000);
        b.Property(x => x.IdNumberTail).HasMaxLength(4);
        b.Property(x => x.Channel).HasMaxLength(20);
        b.Ignore(x => x.MaskedMobile);
        b.Ignore(x => x.MaskedIdNumber);
        b.HasIndex(x => new { x.ProgramId, x.Mobile }).IsUnique();
        b.HasIndex(x => new { x.ProgramId, x.IdNumberHash }).IsUnique();
        b.HasIndex(x => new { x.ProgramId, x.Name });
        // The duplicate list groups a program's live members by name and birthday: read from this index alone (the store for staff limited to some stores).
        b.HasIndex(x => new { x.ProgramId, x.Name, x.Birthday, x.EnrolStoreId }, "IX_members_duplicates").HasFilter("anonymised_at IS NULL AND merged_into_id IS NULL");
        b.HasIndex(x => new { x.EnrolStoreId, x.Id });
        b.HasIndex(x => x.MergedIntoId);
        b.HasOne<LoyaltyProgram>().WithMany().HasForeignKey(x => x.ProgramId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.EnrolStoreId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Staff>().WithMany().HasForeignKey(x => x.EnrolStaffId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Terminal>().WithMany().HasForeignKey(x => x.EnrolTerminalId).OnDelete(DeleteBehavior.Restrict);
        b.HasMany(x => x.Cards).WithOne(x => x.Member).HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
        b.Navigation(x => x.Cards).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class CardConfiguration : IEntityTypeConfiguration<Card>
{
    public void Configure(EntityTypeBuilder<Card> b)
    {
        b.ToTable("cards");
        b.Property(x => x.Number).HasMaxLength(Card.NumberMaxLength);
        b.Ignore(x => x.IsUsable);
        b.Ignore(x => x.IsPrincipal);
        b.Ignore(x => x.RefusalCode);
        b.Property(x => x.Tier).HasMaxLength(32);
        b.Property(x => x.Holder).HasMaxLength(Card.HolderMaxLength);
        b.Property(x => x.Anonymous).HasDefaultValue(false);
        b.HasIndex(x => new { x.Status, x.ValidUntil });
        b.HasIndex(x => x.Number).IsUnique();
        b.HasIndex(x => x.MemberId);
        b.HasOne<LoyaltyProgram>().WithMany().HasForeignKey(x => x.ProgramId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.IssuedStoreId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> b)
    {
        b.ToTable("audit_log");
        b.Property(x => x.Action).HasMaxLength(64);
        b.Property(x => x.EntityType).HasMaxLength(32);
        b.Property(x => x.Detail).HasMaxLength(4000);
        b.HasIndex(x => x.At);
        b.HasIndex(x => x.MemberId);

        // The audit list's sorts (by action, by who, by store; newest first within each) and the
        // filters by who and by store read these in order instead of sorting the log.
        b.HasIndex(x => new { x.StoreId, x.Id }).IsDescending(false, true);
        b.HasIndex(x => new { x.Action, x.Id }).IsDescending(false, true);
        b.HasIndex(x => new { x.ActorKind, x.ActorId, x.Id }).IsDescending(false, false, true);
    }
}

internal sealed class MemberHealthConfiguration : IEntityTypeConfiguration<MemberHealth>
{
    public void Configure(EntityTypeBuilder<MemberHealth> b)
    {
        b.ToTable("member_health");
        b.HasKey(x => x.MemberId);
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class MemberConsentConfiguration : IEntityTypeConfiguration<MemberConsent>
{
    public void Configure(EntityTypeBuilder<MemberConsent> b)
    {
        b.ToTable("member_consents");
        b.Property(x => x.Kind).HasMaxLength(32);
        b.Property(x => x.Source).HasMaxLength(20);
        b.HasIndex(x => new { x.MemberId, x.Kind, x.At });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class CareTaskConfiguration : IEntityTypeConfiguration<Patron.Domain.Care.CareTask>
{
    public void Configure(EntityTypeBuilder<Patron.Domain.Care.CareTask> b)
    {
        b.ToTable("care_tasks");
        b.Property(x => x.Outcome).HasMaxLength(20);
        b.HasIndex(x => new { x.StoreId, x.DoneAt, x.DueOn });
        b.HasIndex(x => x.MemberId);
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class MemberProfileConfiguration : IEntityTypeConfiguration<MemberProfile>
{
    public void Configure(EntityTypeBuilder<MemberProfile> b)
    {
        b.ToTable("member_profiles");
        b.HasKey(x => x.MemberId);
        b.Property(x => x.Phone2).HasMaxLength(11);
        b.Property(x => x.District).HasMaxLength(MemberProfile.AreaMaxLength);
        b.Property(x => x.Community).HasMaxLength(MemberProfile.AreaMaxLength);
        b.Property(x => x.AddressCipher).HasMaxLength(2000);
        b.Property(x => x.WeChat).HasMaxLength(MemberProfile.WeChatMaxLength);
        b.Property(x => x.Email).HasMaxLength(MemberProfile.EmailMaxLength);
        b.Property(x => x.InsuranceType).HasMaxLength(20);
        b.Property(x => x.Interests).HasMaxLength(MemberProfile.ListMaxLength);
        b.Property(x => x.Tags).HasMaxLength(MemberProfile.ListMaxLength);
        b.Property(x => x.Notes).HasMaxLength(MemberProfile.NotesMaxLength);
        b.Ignore(x => x.InterestList);
        b.Ignore(x => x.TagList);
        b.HasIndex(x => x.Phone2);
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class MemberPurchaserConfiguration : IEntityTypeConfiguration<MemberPurchaser>
{
    public void Configure(EntityTypeBuilder<MemberPurchaser> b)
    {
        b.ToTable("member_purchasers");
        b.Property(x => x.Name).HasMaxLength(Member.NameMaxLength);
        b.Property(x => x.Mobile).HasMaxLength(11);
        b.Property(x => x.Role).HasMaxLength(50);
        b.HasIndex(x => x.Mobile);
        b.HasIndex(x => x.MemberId);
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
    }
}
