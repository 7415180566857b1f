using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Patron.Domain.Cards;
using Patron.Domain.Members;
using Patron.Domain.Organisation;
using Patron.Domain.StoredValue;

namespace Patron.Data.Configurations;

internal sealed class CardEventConfiguration : IEntityTypeConfiguration<CardEvent>
{
    public void Configure(EntityTypeBuilder<CardEvent> b)
    {
        b.ToTable("card_events");
        b.Property(x => x.Note).HasMaxLength(CardEvent.NoteMaxLength);
        b.HasIndex(x => new { x.CardId, x.At });
        b.HasIndex(x => new { x.MemberId, x.At });
        b.HasIndex(x => new { x.ProgramId, x.At });
        b.HasOne<Card>().WithMany().HasForeignKey(x => x.CardId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class StoredValueLotConfiguration : IEntityTypeConfiguration<StoredValueLot>
{
    public void Configure(EntityTypeBuilder<StoredValueLot> b)
    {
        b.ToTable("stored_value_lots");
        b.Property(x => x.BonusForfeited).HasDefaultValue(0L);
        b.HasIndex(x => x.MemberId);
        b.HasIndex(x => new { x.ProgramId, x.StoreId, x.IssuedAt });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.StoreId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class StoredValueEntryConfiguration : IEntityTypeConfiguration<StoredValueEntry>
{
    public void Configure(EntityTypeBuilder<StoredValueEntry> b)
    {
        b.ToTable("stored_value_entries");
        b.Property(x => x.Reference).HasMaxLength(200);
        b.HasIndex(x => new { x.MemberId, x.At });
        b.HasIndex(x => x.LotId);
        b.HasIndex(x => x.SaleId);
        b.HasOne(x => x.Lot).WithMany().HasForeignKey(x => x.LotId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class TopUpConfiguration : IEntityTypeConfiguration<TopUp>
{
    public void Configure(EntityTypeBuilder<TopUp> b)
    {
        b.ToTable("top_ups");
        b.Property(x => x.OrderNumber).HasMaxLength(64);
        b.Property(x => x.Gifts).HasMaxLength(TopUp.GiftsMaxLength);
        b.Property(x => x.RequestHash).HasMaxLength(64);
        b.Property(x => x.TierBefore).HasMaxLength(32);
        b.Property(x => x.TierAfter).HasMaxLength(32);
        b.Ignore(x => x.GiftList);
        b.Ignore(x => x.HasReceipt);
        b.HasIndex(x => new { x.StoreId, x.OrderNumber }).IsUnique();
        b.HasIndex(x => new { x.MemberId, x.At });
        b.HasOne<Member>().WithMany().HasForeignKey(x => x.MemberId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Store>().WithMany().HasForeignKey(x => x.StoreId).OnDelete(DeleteBehavior.Restrict);
    }
}
