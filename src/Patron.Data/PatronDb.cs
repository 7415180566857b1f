using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Patron.Domain.Audit;
using Patron.Domain.Cards;
using Patron.Domain.Coupons;
using Patron.Domain.Members;
using Patron.Domain.Organisation;
using Patron.Domain.Points;
using Patron.Domain.Programs;
using Patron.Domain.Rewards;
using Patron.Domain.Sales;
using Patron.Domain.StoredValue;
using Patron.Domain.Tiers;

namespace Patron.Data;

/// <summary>
/// The one database context. Tables and columns are snake_case on both providers so that SQL
/// written by hand (reports, pgbench comparisons, operators) reads naturally.
/// </summary>
public sealed class PatronDb(DbContextOptions<PatronDb> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<LoyaltyProgram> Programs => Set<LoyaltyProgram>();

    public DbSet<Region> Regions => Set<Region>();

    public DbSet<Store> Stores => Set<Store>();

    public DbSet<Staff> Staff => Set<Staff>();

    public DbSet<StaffStore> StaffStores => Set<StaffStore>();

    public DbSet<Terminal> Terminals => Set<Terminal>();

    public DbSet<Member> Members => Set<Member>();

    public DbSet<Card> Cards => Set<Card>();

    public DbSet<ProgramVersion> ProgramVersions => Set<ProgramVersion>();

    public DbSet<MemberAccount> MemberAccounts => Set<MemberAccount>();

    public DbSet<PointsLot> PointsLots => Set<PointsLot>();

    public DbSet<PointsEntry> PointsEntries => Set<PointsEntry>();

    public DbSet<Sale> Sales => Set<Sale>();

    public DbSet<SaleLine> SaleLines => Set<SaleLine>();

    public DbSet<Coupon> Coupons => Set<Coupon>();

    public DbSet<CouponUse> CouponUses => Set<CouponUse>();

    public DbSet<GiftStock> GiftStocks => Set<GiftStock>();

    public DbSet<Redemption> Redemptions => Set<Redemption>();

    public DbSet<Entitlement> Entitlements => Set<Entitlement>();

    public DbSet<MilestoneProgress> MilestoneProgress => Set<MilestoneProgress>();

    public DbSet<TierChange> TierChanges => Set<TierChange>();

    public DbSet<PointsAdjustment> PointsAdjustments => Set<PointsAdjustment>();

    public DbSet<JobRun> JobRuns => Set<JobRun>();

    public DbSet<ImportJob> ImportJobs => Set<ImportJob>();

    public DbSet<MemberHealth> MemberHealth => Set<MemberHealth>();

    public DbSet<MemberConsent> MemberConsents => Set<MemberConsent>();

    public DbSet<MemberProfile> MemberProfiles => Set<MemberProfile>();

    public DbSet<MemberPurchaser> MemberPurchasers => Set<MemberPurchaser>();

    public DbSet<Patron.Domain.Care.CareTask> CareTasks => Set<Patron.Domain.Care.CareTask>();

    public DbSet<ImportError> ImportErrors => Set<ImportError>();

    public DbSet<ImportUpload> ImportUploads => Set<ImportUpload>();

    public DbSet<ImportUploadError> ImportUploadErrors => Set<ImportUploadError>();

    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();

    public DbSet<CardEvent> CardEvents => Set<CardEvent>();

    public DbSet<StoredValueLot> StoredValueLots => Set<StoredValueLot>();

    public DbSet<StoredValueEntry> StoredValueEntries => Set<StoredValueEntry>();

    public DbSet<TopUp> TopUps => Set<TopUp>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<AppSecret> AppSecrets => Set<AppSecret>();

    public DbSet<ConsoleJob> ConsoleJobs => Set<ConsoleJob>();

    public DbSet<ConsoleJobFile> ConsoleJobFiles => Set<ConsoleJobFile>();

    /// <summary>The Data Protection key ring, shared by every node (cookies, encrypted fields).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public bool IsPostgres => Database.ProviderName == "Npgsql.EntityFrameworkCore.PostgreSQL";

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PatronDb).Assembly);
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(NameStyle.SnakeCase(property.Name));
            }
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Instants are UTC DateTime on both providers: timestamptz on PostgreSQL, ISO text on
        // SQLite (which orders and compares correctly). SQLite hands back Kind=Unspecified.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<string>().AreUnicode();
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : DateTime.SpecifyKind(v, DateTimeKind.Utc),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
