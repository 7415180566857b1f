using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Patron.Data;
using Patron.Domain.Common;
using Patron.Server.Features.Audit;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Data;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Features.Import;

public sealed record ImportErrorCount(string Code, int Count);

/// <summary>An uploaded member file and its run, as the API and the console show it.</summary>
public sealed record ImportView(
    long Id,
    long ProgramId,
    string ProgramCode,
    string ProgramName,
    string? Store,
    string FileName,
    long FileSize,
    bool CheckOnly,
    ImportUploadStatus Status,
    int Rows,
    int Imported,
    int Rejected,
    double Percent,
    double RowsPerSecond,
    DateTime QueuedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    long? ImportJobId,
    long? CheckedUploadId,
    long? ImportedAsId,
    bool CanImport,
    string? ErrorCode,
    string? Message,
    IReadOnlyList<ImportErrorCount>? ErrorsByCode,
    string? ErrorReport)
{
    public bool IsActive => Status is ImportUploadStatus.Queued or ImportUploadStatus.Running;
}

public sealed record ImportPage(IReadOnlyList<ImportView> Items, int Page, int PageSize, int Total);

/// <summary>The fields of an upload as they were sent, kept so that a form shown again keeps them.</summary>
public sealed class ImportUploadForm
{
    public long? ProgramId { get; set; }

    public string? ProgramCode { get; set; }

    public string? Store { get; set; }

    public bool CheckOnly { get; set; }

    public string? FileName { get; set; }
}

/// <summary>
/// Member files uploaded for import: receiving one (streamed to the upload folder with its
/// SHA-256, size-limited, checked to be a member CSV with a readable header before anything is
/// saved), queueing its run, listing runs newest first, one run's state with its refused rows
/// counted by code, the error report as CSV, and importing the rows of a finished check.
/// </summary>
public sealed partial class ImportUploads(PatronDb db, ImportOptions options, ImportSignal signal, AuditLog audit, TimeProvider clock, ILogger<ImportUploads> log)
{
    public const int MaxPageSize = 100;

    private const long FieldSlack = 1024 * 1024;

    /// <summary>Receives a multipart upload (fields program/programId/programCode, store, checkOnly, and the file) and queues its run.</summary>
    public async Task<ImportView> UploadAsync(HttpContext http, ImportUploadForm form, CallerScope caller, CancellationToken ct)
    {
        EnsureHeadOffice(caller);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxUploadBytes + FieldSlack;
        }

        if (http.Request.ContentLength > options.MaxUploadBytes + FieldSlack)
        {
            throw TooLarge();
        }

        Directory.CreateDirectory(options.UploadDirectory);
        var received = await ReceiveAsync(http.Request, form, ct);
        try
        {
            var (programId, store) = await CheckAsync(form, received, caller, ct);
            var storedName = ImportOptions.NewStoredName();
            File.Move(received!.Path, options.PathOf(storedName));
            received = received with { Path = options.PathOf(storedName) };
            var upload = new ImportUpload(programId, store, form.CheckOnly, received.FileName, received.Size, received.Hash, storedName, caller.StaffId, Now);
            await using (var tx = await db.Database.BeginTransactionAsync(ct))
            {
                db.ImportUploads.Add(upload);
                await db.SaveChangesAsync(ct);
                audit.Record(caller, "import.started", null, null, "import_upload", upload.Id,
                    new { file = upload.FileName, size = upload.FileSize, program = programId, store, checkOnly = upload.CheckOnly });
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }

            received = null; // the upload owns the file now
            signal.Queued();
            return await GetAsync(upload.Id, caller, ct);
        }
        finally
        {
            if (received is not null)
            {
                TryDelete(received.Path);
            }
        }
    }

    /// <summary>Queues the import of a finished check's rows, from the same file.</summary>
    public async Task<ImportView> ImportCheckedAsync(long id, CallerScope caller, CancellationToken ct)
    {
        EnsureHeadOffice(caller);
        var check = await db.ImportUploads.FirstOrDefaultAsync(u => u.Id == id, ct) ?? throw NotFound();
        if (!CanImport(check))
        {
            throw Problem.Conflict("import.not_importable", "Only a finished check whose file is still kept can be imported; upload the file again.");
        }

        await EnsureNotQueuedAsync(check.ProgramId, check.FileHash, ct);
        var run = new ImportUpload(check.ProgramId, check.StoreCode, false, check.FileName, check.FileSize, check.FileHash, check.StoredName!, caller.StaffId, Now, check.Id);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.ImportUploads.Add(run);
        await db.SaveChangesAsync(ct);
        check.StoredName = null; // the import run owns the file now
        check.ImportedAsId = run.Id;
        audit.Record(caller, "import.started", null, null, "import_upload", run.Id,
            new { file = run.FileName, size = run.FileSize, program = run.ProgramId, store = run.StoreCode, checkOnly = false, @checked = check.Id });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        signal.Queued();
        return await GetAsync(run.Id, caller, ct);
    }

    public async Task<ImportPage> ListAsync(int page, int pageSize, CallerScope caller, CancellationToken ct)
    {
        EnsureHeadOffice(caller);
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        var total = await db.ImportUploads.CountAsync(ct);
        page = Paging.ClampPastTheEnd(page, total, pageSize);
        var rows = await db.ImportUploads.AsNoTracking()
            .OrderByDescending(u => u.Id)
            .Skip((page - 1) * pageSize)
            .Take(pageSize)
            .Join(db.Programs, u => u.ProgramId, p => p.Id, (u, p) => new { u, p.Code, p.Name })
            .ToListAsync(ct);
        return new ImportPage([.. rows.OrderByDescending(r => r.u.Id).Select(r => View(r.u, r.Code, r.Name, null))], page, pageSize, total);
    }

    public async Task<ImportView> GetAsync(long id, CallerScope caller, CancellationToken ct)
    {
        EnsureHeadOffice(caller);
        var row = await db.ImportUploads.AsNoTracking().Where(u => u.Id == id)
            .Join(db.Programs, u => u.ProgramId, p => p.Id, (u, p) => new { u, p.Code, p.Name })
            .FirstOrDefaultAsync(ct) ?? throw NotFound();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in await db.ImportUploadErrors.Where(e => e.UploadId == id).GroupBy(e => e.Code).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct))
        {
            counts[c.Key] = c.Count;
        }

        if (row.u.ImportJobId is { } job)
        {
            foreach (var c in await db.ImportErrors.Where(e => e.JobId == job).GroupBy(e => e.Code).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct))
            {
                counts[c.Key] = counts.GetValueOrDefault(c.Key) + c.Count;
            }
        }

        return View(row.u, row.Code, row.Name, [.. counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => new ImportErrorCount(c.Key, c.Value))]);
    }

    /// <summary>
    /// Writes the run's refused rows as the importer's error report (UTF-8 with BOM; row, column,
    /// code, message; never a full phone or ID number): a refused header first, then the rows.
    /// </summary>
    public async Task WriteErrorsAsync(long id, Stream output, CallerScope caller, CancellationToken ct)
    {
        var upload = await ErrorSourceAsync(id, caller, ct);
        var head = MemberImporter.ErrorCsv([]);
        await output.WriteAsync(head, ct);
        var batch = new List<RowError>(5_000);
        async Task FlushAsync()
        {
            if (batch.Count > 0)
            {
                await output.WriteAsync(MemberImporter.ErrorCsv(batch).AsMemory(head.Length), ct);
                batch.Clear();
            }
        }

        var own = db.ImportUploadErrors.AsNoTracking().Where(e => e.UploadId == upload.Id).OrderBy(e => e.Row).ThenBy(e => e.Id)
            .Select(e => new RowError(e.Row, e.Column, e.Code, e.Message));
        await foreach (var e in own.AsAsyncEnumerable().WithCancellation(ct))
        {
            batch.Add(e);
            if (batch.Count == batch.Capacity)
            {
                await FlushAsync();
            }
        }

        if (upload.ImportJobId is { } job)
        {
            var rows = db.ImportErrors.AsNoTracking().Where(e => e.JobId == job).OrderBy(e => e.Row).ThenBy(e => e.Id)
                .Select(e => new RowError(e.Row, e.Column, e.Code, e.Message));
            await foreach (var e in rows.AsAsyncEnumerable().WithCancellation(ct))
            {
                batch.Add(e);
                if (batch.Count == batch.Capacity)
                {
                    await FlushAsync();
                }
            }
        }

        await FlushAsync();
    }

    /// <summary>The upload whose errors are asked for (refusing before the answer starts).</summary>
    public async Task<ImportUpload> ErrorSourceAsync(long id, CallerScope caller, CancellationToken ct)
    {
        EnsureHeadOffice(caller);
        return await db.ImportUploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct) ?? throw NotFound();
    }

    public static bool CanImport(ImportUpload u) => u is { CheckOnly: true, Status: ImportUploadStatus.Completed, ImportedAsId: null, StoredName: not null, Rows: > 0 } && u.Imported > 0;

    private ImportView View(ImportUpload u, string programCode, string programName, IReadOnlyList<ImportErrorCount>? errors)
    {
        var done = u.Status == ImportUploadStatus.Completed;
        var anyErrors = u.Rejected > 0 || errors?.Count > 0 || (u.Status == ImportUploadStatus.Failed && u.ErrorCode == HeaderInvalid);
        return new ImportView(u.Id, u.ProgramId, programCode, programName, u.StoreCode, u.FileName, u.FileSize, u.CheckOnly, u.Status,
            u.Rows, u.Imported, u.Rejected, done ? 100 : Math.Round(Math.Clamp(u.Fraction, 0, 1) * 100, 1), Math.Round(u.RowsPerSecond, 1),
            u.QueuedAt, u.StartedAt, u.FinishedAt, u.ImportJobId, u.CheckedUploadId, u.ImportedAsId, CanImport(u) && File.Exists(options.PathOf(u.StoredName!)),
            u.ErrorCode, u.Message, errors, anyErrors ? $"/api/imports/{u.Id}/errors.csv" : null);
    }

    private sealed record Received(string Path, string FileName, long Size, string Hash);

    /// <summary>Streams the request's fields into <paramref name="form"/> and its file into the upload folder (as a .part file).</summary>
    private async Task<Received?> ReceiveAsync(HttpRequest request, ImportUploadForm form, CancellationToken ct)
    {
        // A form already read (a plain form post, whose antiforgery token was looked for in the form).
        if (request.HttpContext.Features.Get<IFormFeature>()?.Form is { } read)
        {
            Fields(form, name => read.TryGetValue(name, out var v) ? v.ToString() : null);
            var file = read.Files.GetFile("file");
            if (file is null)
            {
                return null;
            }

            await using var stream = file.OpenReadStream();
            return await SaveAsync(stream, file.FileName, ct);
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            throw Problem.Invalid("import.file_required", "Send the file as multipart/form-data, in a field named file.", "file");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        Received? received = null;
        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (disposition.IsFileDisposition())
                {
                    if (name.Equals("file", StringComparison.OrdinalIgnoreCase) && received is null)
                    {
                        var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value is { Length: > 0 } star ? star : HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "";
                        received = await SaveAsync(section.Body, fileName, ct);
                    }
                    else
                    {
                        await section.Body.CopyToAsync(Stream.Null, ct);
                    }
                }
                else if (disposition.IsFormDisposition() && values.Count < 20)
                {
                    values[name] = await ReadFieldAsync(section.Body, ct);
                }
            }
        }
        catch when (received is not null)
        {
            // The request broke off or was malformed after the file: keep nothing.
            TryDelete(received.Path);
            throw;
        }

        Fields(form, name => values.GetValueOrDefault(name));
        return received;
    }

    private static void Fields(ImportUploadForm form, Func<string, string?> value)
    {
        var program = value("programId") ?? value("program");
        if (long.TryParse(program, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            form.ProgramId = id;
        }
        else if (!string.IsNullOrWhiteSpace(program))
        {
            form.ProgramCode = program.Trim();
        }

        if (value("programCode") is { } code && !string.IsNullOrWhiteSpace(code))
        {
            form.ProgramCode = code.Trim();
        }

        form.Store = value("store") is { } store && !string.IsNullOrWhiteSpace(store) ? store.Trim() : null;
        form.CheckOnly = value("checkOnly")?.Trim().ToLowerInvariant() is "true" or "on" or "1" or "yes";
    }

    private static async Task<string> ReadFieldAsync(Stream body, CancellationToken ct)
    {
        using var reader = new StreamReader(body, Encoding.UTF8, leaveOpen: true);
        var buffer = new char[1_000];
        var n = await reader.ReadBlockAsync(buffer, ct);
        await body.CopyToAsync(Stream.Null, ct);
        return new string(buffer, 0, n);
    }

    private async Task<Received> SaveAsync(Stream input, string fileName, CancellationToken ct)
    {
        var path = Path.Combine(options.UploadDirectory, ImportOptions.NewStoredName() + ".part");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        long size = 0;
        try
        {
            await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                int n;
                while ((n = await input.ReadAsync(buffer.AsMemory(), ct)) > 0)
                {
                    size += n;
                    if (size > options.MaxUploadBytes)
                    {
                        throw TooLarge();
                    }

                    hash.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }

            var name = Path.GetFileName(fileName.Replace('\\', '/'));
            return new Received(path, name.Length > 200 ? name[^200..] : name, size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            TryDelete(path);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private const string HeaderInvalid = "import.header_invalid";

    /// <summary>All the form's faults at once (field errors, 400); nothing is saved when there is one.</summary>
    private async Task<(long ProgramId, string? Store)> CheckAsync(ImportUploadForm form, Received? file, CallerScope caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var program = form.ProgramId is { } id
            ? await db.Programs.AsNoTracking().Where(p => p.Id == id).Select(p => new { p.Id, p.Code }).FirstOrDefaultAsync(ct)
            : form.ProgramCode is { } code
                ? await db.Programs.AsNoTracking().Where(p => p.Code == code).Select(p => new { p.Id, p.Code }).FirstOrDefaultAsync(ct)
                : null;
        if (form.ProgramId is null && form.ProgramCode is null)
        {
            errors.Add("program", "import.program_required", "Choose the program the members join.");
        }
        else if (program is null || !caller.CanSeeProgram(program.Id))
        {
            errors.Add("program", "import.program_unknown", "There is no such program.");
        }

        string? store = null;
        if (program is not null && !errors.Has("program"))
        {
            var stores = await db.Stores.AsNoTracking().Where(s => s.ProgramId == program.Id).Select(s => s.Code).ToListAsync(ct);
            if (stores.Count == 0)
            {
                errors.Add("store", "import.no_store", "The program has no store to enrol members at.");
            }
            else if (form.Store is { } named)
            {
                store = stores.FirstOrDefault(s => s.Equals(named, StringComparison.OrdinalIgnoreCase));
                if (store is null)
                {
                    errors.Add("store", "import.store_unknown", "The program has no store with this code.");
                }
            }
        }

        if (file is null)
        {
            errors.Add("file", "import.file_required", "Choose the CSV file of members.");
        }
        else
        {
            form.FileName = file.FileName;
            if (file.Size == 0)
            {
                errors.Add("file", "import.empty", "The file is empty.");
            }
            else if (!file.FileName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && !file.FileName.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add("file", "import.not_csv", "The file must be CSV (.csv): in Excel, save as \"CSV UTF-8\".");
            }
            else if (await HeaderFaultAsync(file.Path, ct) is { } fault)
            {
                errors.Add("file", fault.Code, fault.Message);
            }
        }

        errors.ThrowIfAny();
        if (!form.CheckOnly)
        {
            await EnsureNotQueuedAsync(program!.Id, file!.Hash, ct);
        }

        return (program!.Id, store);
    }

    /// <summary>Why the file is not a member CSV, read from its first line: binary content, no header, or columns the importer refuses.</summary>
    private static async Task<(string Code, string Message)?> HeaderFaultAsync(string path, CancellationToken ct)
    {
        var bytes = new byte[64 * 1024];
        int n;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true))
        {
            n = await file.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, ct);
        }

        if (Array.IndexOf(bytes, (byte)0, 0, n) >= 0 || (n >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4))
        {
            return ("import.not_csv", "The file is not CSV text (an Excel workbook?): in Excel, save as \"CSV UTF-8\".");
        }

        // Whole lines only, so that the encoding is judged on complete characters.
        if (n == bytes.Length && Array.LastIndexOf(bytes, (byte)'\n', n - 1) is > 0 and var end)
        {
            n = end + 1;
        }

        using var head = new MemoryStream(bytes, 0, n);
        var encoding = CsvReader.Detect(head);
        using var reader = new StreamReader(head, encoding, detectEncodingFromByteOrderMarks: false);
        try
        {
            using var records = CsvReader.Read(reader).GetEnumerator();
            if (!records.MoveNext() || records.Current.Fields is [""] or [])
            {
                return ("import.empty", "The file has no header line.");
            }

            var (columns, errors) = MemberRows.FromHeader(records.Current.Fields);
            if (columns is not null)
            {
                return null;
            }

            var parts = new List<string>();
            var unknown = errors.Where(e => e.Code == "import.column_unknown").Select(e => Scrub(e.Column ?? "")).ToList();
            if (unknown.Count > 0)
            {
                parts.Add("unknown columns " + string.Join(", ", unknown.Take(5).Select(u => "\"" + (u.Length > 20 ? u[..20] + "…" : u) + "\"")) + (unknown.Count > 5 ? ", …" : ""));
            }

            var repeated = errors.Where(e => e.Code == "import.column_repeated").Select(e => e.Column).ToList();
            if (repeated.Count > 0)
            {
                parts.Add("repeated " + string.Join(", ", repeated.Select(c => Scrub(c ?? ""))));
            }

            var missing = errors.Where(e => e.Code == "import.column_missing").Select(e => e.Column).ToList();
            if (missing.Count > 0)
            {
                parts.Add("missing " + string.Join(", ", missing));
            }

            return (HeaderInvalid, "The first line must name the columns (" + string.Join(", ", MemberRows.Columns.Select(c => c.Column)) + "): " + string.Join("; ", parts) + ".");
        }
        catch (FormatException)
        {
            return ("import.csv_malformed", "The header line has a quote that is never closed.");
        }
    }

    /// <summary>Masks long digit runs (a phone or ID number where a column name was expected) in text taken from a file.</summary>
    public static string Scrub(string text) => LongNumber().Replace(text, m => Masking.Tail(m.Value));

    [GeneratedRegex(@"\d{7,}[\dXx]?")]
    private static partial Regex LongNumber();

    private async Task EnsureNotQueuedAsync(long programId, string hash, CancellationToken ct)
    {
        if (await db.ImportUploads.AnyAsync(u => u.ProgramId == programId && u.FileHash == hash && !u.CheckOnly
                && (u.Status == ImportUploadStatus.Queued || u.Status == ImportUploadStatus.Running), ct))
        {
            throw Problem.Conflict("import.already_queued", "This file is already being imported into the program.", "file");
        }
    }

    private static void EnsureHeadOffice(CallerScope caller)
    {
        if (!caller.AllStores || caller.StaffId is null)
        {
            throw Problem.Forbidden("import.forbidden", "Only head office imports members.");
        }
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private ProblemException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "import.file_too_large", "The file is too large.",
            [new DomainError("import.file_too_large", string.Create(CultureInfo.InvariantCulture, $"The file is larger than {options.MaxUploadBytes / (1024.0 * 1024):0.#} MB; split it into several files."), "file")]);

    private static ProblemException NotFound() => Problem.NotFound("import.not_found", "There is no such import.");

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException e)
        {
            log.LogWarning(e, "Could not delete a refused upload");
        }
    }
}
