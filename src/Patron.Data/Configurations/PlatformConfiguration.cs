using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Patron.Data.Configurations;

internal sealed class AppSecretConfiguration : IEntityTypeConfiguration<AppSecret>
{
    public void Configure(EntityTypeBuilder<AppSecret> b)
    {
        b.ToTable("app_secrets");
        b.HasKey(x => x.Name);
        b.Property(x => x.Name).HasMaxLength(64);
        b.Property(x => x.ProtectedValue).HasMaxLength(2000);
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> b)
    {
        b.ToTable("data_protection_keys");
    }
}

internal sealed class ImportJobConfiguration : IEntityTypeConfiguration<ImportJob>
{
    public void Configure(EntityTypeBuilder<ImportJob> b)
    {
        b.ToTable("import_jobs");
        b.Property(x => x.FileName).HasMaxLength(200);
        b.Property(x => x.FileHash).HasMaxLength(64);
        b.Property(x => x.Message).HasMaxLength(500);
        b.HasIndex(x => new { x.ProgramId, x.FileHash });
    }
}

internal sealed class ImportErrorConfiguration : IEntityTypeConfiguration<ImportError>
{
    public void Configure(EntityTypeBuilder<ImportError> b)
    {
        b.ToTable("import_errors");
        b.Property(x => x.Column).HasMaxLength(40);
        b.Property(x => x.Code).HasMaxLength(60);
        b.Property(x => x.Message).HasMaxLength(300);
        b.HasIndex(x => new { x.JobId, x.Row });
        b.HasOne<ImportJob>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ImportUploadConfiguration : IEntityTypeConfiguration<ImportUpload>
{
    public void Configure(EntityTypeBuilder<ImportUpload> b)
    {
        b.ToTable("import_uploads");
        b.Property(x => x.StoreCode).HasMaxLength(32);
        b.Property(x => x.FileName).HasMaxLength(200);
        b.Property(x => x.FileHash).HasMaxLength(64);
        b.Property(x => x.StoredName).HasMaxLength(64);
        b.Property(x => x.ErrorCode).HasMaxLength(60);
        b.Property(x => x.Message).HasMaxLength(500);
        b.HasIndex(x => new { x.Status, x.Id });
        b.HasIndex(x => new { x.ProgramId, x.FileHash });
    }
}

internal sealed class ImportUploadErrorConfiguration : IEntityTypeConfiguration<ImportUploadError>
{
    public void Configure(EntityTypeBuilder<ImportUploadError> b)
    {
        b.ToTable("import_upload_errors");
        b.Property(x => x.Column).HasMaxLength(40);
        b.Property(x => x.Code).HasMaxLength(60);
        b.Property(x => x.Message).HasMaxLength(300);
        b.HasIndex(x => new { x.UploadId, x.Row });
        b.HasOne<ImportUpload>().WithMany().HasForeignKey(x => x.UploadId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ConsoleJobConfiguration : IEntityTypeConfiguration<ConsoleJob>
{
    public void Configure(EntityTypeBuilder<ConsoleJob> b)
    {
        b.ToTable("console_jobs");
        b.Property(x => x.ErrorCode).HasMaxLength(60);
        b.Property(x => x.ErrorMessage).HasMaxLength(500);
        b.Property(x => x.FileName).HasMaxLength(100);
        b.HasIndex(x => new { x.Status, x.Id });
        b.HasIndex(x => new { x.StaffId, x.Id });
    }
}

internal sealed class ConsoleJobFileConfiguration : IEntityTypeConfiguration<ConsoleJobFile>
{
    public void Configure(EntityTypeBuilder<ConsoleJobFile> b)
    {
        b.ToTable("console_job_files");
        b.HasKey(x => x.JobId);
        b.Property(x => x.JobId).ValueGeneratedNever();
        b.Property(x => x.ContentType).HasMaxLength(100);
        b.HasOne<ConsoleJob>().WithOne().HasForeignKey<ConsoleJobFile>(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
