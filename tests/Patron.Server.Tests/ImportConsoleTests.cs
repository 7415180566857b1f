using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Data;
using Patron.Domain.Members;
using Patron.Server.Features.Import;
using Patron.Server.Tests.Infrastructure;
using static Patron.Server.Tests.MembersApiTests;

namespace Patron.Server.Tests;

/// <summary>
/// Member import from the console and the API on each database: an upload is checked first
/// (nothing written, a masked error report), then its good rows are imported from the same
/// file; the console's panel is polled until the run is done and stops polling; whoever opens
/// the page later sees the run; bad input is refused beside its field with nothing saved; a
/// run queued (or abandoned) when a server stops is finished by the next one; only admins may
/// import; the command line shows a progress line with counts and rate, without personal data.
/// Each test runs its own host on the class's database, with its own upload folder.
/// </summary>
public abstract partial class ImportConsoleTests(PatronApp app) : IAsyncDisposable
{
    private const string Header = "name,mobile,id_number,points,store";
    private static int _idCounter = Random.Shared.Next(0, 1_000_000);

    private readonly bool _available = app.EnsureAvailable();
    private readonly string _uploads = Path.Combine(Path.GetTempPath(), $"patron-uploads-{Guid.NewGuid():N}");
    private readonly List<WebApplicationFactory<Program>> _hosts = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        if (Directory.Exists(_uploads))
        {
            Directory.Delete(_uploads, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task ApiUpload_CheckedFirst_WritesNothing_ThenImportsTheGoodRowsFromTheSameFile_WithAMaskedErrorReport()
    {
        var host = Host();
        var admin = await SignInAsync(host, "admin");
        var taken = PatronApp.NewPhone();
        using (var a1 = app.TerminalClient(app.Org.TerminalA1))
        {
            Assert.Equal(HttpStatusCode.Created, (await a1.PostJson("/api/members", new { name = "已有会员", mobile = taken })).StatusCode);
        }

        var file = BuildFile(60, taken);
        var members = await app.MemberCountAsync();
        var sent = await admin.Http.PostAsync("/api/imports", Multipart(file.Csv, checkOnly: true), Ct);
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        var queued = await sent.ReadJson();
        var checkId = queued.GetProperty("id").GetInt64();
        Assert.Equal($"/api/imports/{checkId}", sent.Headers.Location!.OriginalString);
        Assert.True(queued.GetProperty("checkOnly").GetBoolean());
        Assert.Contains(queued.GetProperty("status").GetString(), new[] { "queued", "running", "completed" });

        var check = await WaitAsync(admin.Http, checkId);
        Assert.Equal(("completed", 60, 57, 3, 100.0), (check.GetProperty("status").GetString(), check.GetProperty("rows").GetInt32(),
            check.GetProperty("imported").GetInt32(), check.GetProperty("rejected").GetInt32(), check.GetProperty("percent").GetDouble()));
        Assert.Equal(Codes(file.Bad), Codes(check));
        Assert.True(check.GetProperty("canImport").GetBoolean());
        Assert.NotNull(check.GetProperty("startedAt").GetString());
        Assert.NotNull(check.GetProperty("finishedAt").GetString());
        Assert.Equal(members, await app.MemberCountAsync()); // checking wrote no member
        Assert.Single(Directory.GetFiles(_uploads)); // kept for "import these rows"

        var report = await admin.Http.GetAsync(check.GetProperty("errorReport").GetString(), Ct);
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal("text/csv", report.Content.Headers.ContentType!.MediaType);
        var bytes = await report.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith("\uFEFFrow,column,code,message", text);
        foreach (var (code, row) in file.Bad)
        {
            Assert.Contains($"{row},", text);
            Assert.Contains(code, text);
        }

        Assert.Contains(Domain.Common.Masking.Phone(taken), text);
        Assert.DoesNotContain(taken, text);
        Assert.DoesNotContain(file.BadIdNumber, text);

        // Validation first, then "import these rows": a new run from the same file.
        var imported = await admin.Http.PostAsync($"/api/imports/{checkId}/import", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, imported.StatusCode);
        var runId = (await imported.ReadJson()).GetProperty("id").GetInt64();
        var run = await WaitAsync(admin.Http, runId);
        Assert.Equal(("completed", false, 60, 57, 3), (run.GetProperty("status").GetString(), run.GetProperty("checkOnly").GetBoolean(),
            run.GetProperty("rows").GetInt32(), run.GetProperty("imported").GetInt32(), run.GetProperty("rejected").GetInt32()));
        Assert.Equal(checkId, run.GetProperty("checkedUploadId").GetInt64());
        Assert.Equal(Codes(file.Bad), Codes(run));
        Assert.Equal(members + 57, await app.MemberCountAsync());
        var member = await app.WithDbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Mobile == file.Good[5]));
        Assert.Equal(app.Org.StoreA2, member.EnrolStoreId);

        // The run's report comes from its import job; the check can no longer be imported; no file is left.
        var runReport = await (await admin.Http.GetAsync($"/api/imports/{runId}/errors.csv", Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Contains("import.mobile_taken", runReport);
        var checkAfter = await (await admin.Http.GetAsync($"/api/imports/{checkId}", Ct)).ReadJson();
        Assert.Equal((runId, false), (checkAfter.GetProperty("importedAsId").GetInt64(), checkAfter.GetProperty("canImport").GetBoolean()));
        await AssertProblem(await admin.Http.PostAsync($"/api/imports/{checkId}/import", null, Ct), HttpStatusCode.Conflict, "import.not_importable");
        Assert.Empty(Directory.GetFiles(_uploads));

        // Newest first in the list; both runs audited with the file, its size and the counts.
        var list = await (await admin.Http.GetAsync("/api/imports?pageSize=2", Ct)).ReadJson();
        Assert.Equal([runId, checkId], list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToArray());
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.EntityType == "import_upload" && (a.EntityId == checkId || a.EntityId == runId)).ToListAsync());
        Assert.Equal(2, audit.Count(a => a.Action == "import.started"));
        var finished = audit.Where(a => a.Action == "import.finished").Select(a => JsonDocument.Parse(a.Detail!).RootElement).ToList();
        Assert.Equal(2, finished.Count);
        Assert.All(finished, d => Assert.Equal(("members.csv", (long)file.Csv.Length, 57, 3),
            (d.GetProperty("file").GetString(), d.GetProperty("size").GetInt64(), d.GetProperty("imported").GetInt32(), d.GetProperty("refused").GetInt32())));
    }

    [Fact]
    public async Task ConsoleForm_QueuesTheImport_ThePanelIsPolledUntilDone_AndAFreshVisitSeesTheRun()
    {
        // This server only queues (its runner is off): the run is done by another one, and the page follows it in the database.
        var host = Host(("Patron:Import:Runner", "false"));
        var admin = await SignInAsync(host, "admin");
        var page = await admin.GetPageAsync("/import");
        Assert.Contains("会员导入", page);
        Assert.Contains("data-testid=\"upload-form\"", page);
        var file = BuildFile(120, PatronApp.NewPhone(), bad: false);
        var members = await app.MemberCountAsync();

        var posted = await PostUploadAsync(admin, page, Multipart(file.Csv, program: app.Org.ProgramA.ToString(System.Globalization.CultureInfo.InvariantCulture), store: "A1"));
        Assert.Equal(HttpStatusCode.NoContent, posted.StatusCode);
        var location = posted.Headers.GetValues("HX-Redirect").Single();
        var id = long.Parse(JobInUrl().Match(location).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        // Queued: the panel says so and polls itself every second.
        var queued = await admin.GetPageAsync($"/import?handler=Job&id={id}");
        Assert.Contains("data-status=\"queued\"", queued);
        Assert.Contains("hx-trigger=\"every 1s\"", queued);
        Assert.Contains("排队中", queued);
        Assert.Contains($"data-job=\"{id}\"", await admin.GetPageAsync("/import"));

        _ = Host().Services; // a server with a runner starts
        HttpResponseMessage response;
        string panel;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            response = await admin.GetAsync($"/import?handler=Job&id={id}");
            panel = await response.ReadText();
            if (!panel.Contains("hx-trigger", StringComparison.Ordinal))
            {
                break;
            }

            Assert.Matches("data-status=\"(queued|running)\"", panel);
            Assert.True(DateTime.UtcNow < deadline, "the import did not finish");
            await Task.Delay(100, Ct);
        }

        // Done: no more polling, the list is told to refresh, the counts are final.
        Assert.Contains("data-status=\"completed\"", panel);
        Assert.Equal("import-finished", response.Headers.GetValues("HX-Trigger").Single());
        Assert.Contains("已完成", panel);
        Assert.Contains("data-testid=\"job-rows\">120<", panel);
        Assert.Contains("data-testid=\"job-imported\">120<", panel);
        Assert.Contains("data-testid=\"job-refused\">0<", panel);
        Assert.Contains("width: 100%", panel);
        Assert.Equal(members + 120, await app.MemberCountAsync());
        Assert.Equal(120, await app.WithDbAsync(db => db.Members.CountAsync(m => file.Good.Contains(m.Mobile) && m.EnrolStoreId == app.Org.StoreA2)));

        // Leave and come back: a new sign-in (another browser) sees the run and its counts.
        var again = await SignInAsync(host, "admin");
        var back = await again.GetPageAsync("/import");
        Assert.Contains($"data-job=\"{id}\"", back);
        Assert.Contains($"#{id} · members.csv", back);
        Assert.Contains("data-testid=\"job-imported\">120<", back);
    }

    [Fact]
    public async Task BadUploads_AreRefusedBesideTheirField_InChinese_AndNothingIsSaved()
    {
        var host = Host();
        var admin = await SignInAsync(host, "admin");
        var page = await admin.GetPageAsync("/import");
        var uploads = await app.WithDbAsync(db => db.ImportUploads.CountAsync());
        var phone = PatronApp.NewPhone();
        var good = Encoding.UTF8.GetBytes($"{Header}\r\n张三,{phone},,10,A1\r\n");

        async Task<string> RefusedAsync(MultipartFormDataContent form, HttpStatusCode status = HttpStatusCode.BadRequest, ConsoleClient? client = null)
        {
            var response = await PostUploadAsync(client ?? admin, client is null ? page : await client.GetPageAsync("/import"), form);
            Assert.Equal(status, response.StatusCode);
            return await response.ReadText();
        }

        string FileError(string html) => WebUtility.HtmlDecode(FileFeedback().Match(html).Groups[1].Value);

        Assert.Contains("请选择会员 CSV 文件", FileError(await RefusedAsync(Multipart(null))));
        Assert.Contains("文件是空的", FileError(await RefusedAsync(Multipart([]))));
        Assert.Contains("文件必须是 CSV 格式", FileError(await RefusedAsync(Multipart([(byte)'P', (byte)'K', 3, 4, 20, 0, 6, 0], fileName: "members.xlsx"))));
        Assert.Contains("文件必须是 CSV 格式", FileError(await RefusedAsync(Multipart(good, fileName: "members.pdf"))));
        var headless = await RefusedAsync(Multipart(Encoding.UTF8.GetBytes($"张三,{phone},,10,A1\r\n")));
        Assert.Contains("表头无法识别", FileError(headless));
        Assert.DoesNotContain(phone, headless);

        var unknownProgram = await RefusedAsync(Multipart(good, program: "NO-SUCH"));
        Assert.Contains("没有这个会员方案", unknownProgram);
        Assert.Contains("is-invalid\" id=\"program\"", unknownProgram);
        var unknownStore = await RefusedAsync(Multipart(good, store: "ZZ9"));
        Assert.Contains("方案中没有这个门店", unknownStore);
        Assert.Contains("value=\"ZZ9\"", unknownStore); // the form keeps what was typed

        // Over the limit (a host with a 1 KB limit): 413, beside the file field.
        var small = Host(("Patron:Import:MaxUploadBytes", "1024"));
        var smallAdmin = await SignInAsync(small, "admin");
        var big = Encoding.UTF8.GetBytes(Header + "\r\n" + string.Concat(Enumerable.Range(0, 40).Select(_ => $"张三,{PatronApp.NewPhone()},,10,A1\r\n")));
        Assert.Contains("文件超过上传上限", FileError(await RefusedAsync(Multipart(big), HttpStatusCode.RequestEntityTooLarge, smallAdmin)));

        // The API answers with problem details naming the field.
        await AssertProblem(await admin.Http.PostAsync("/api/imports", Multipart(null), Ct), HttpStatusCode.BadRequest, "validation.failed", ("file", "import.file_required"));
        await AssertProblem(await admin.Http.PostAsync("/api/imports", Multipart(good, program: null), Ct), HttpStatusCode.BadRequest, "validation.failed", ("program", "import.program_required"));
        await AssertProblem(await smallAdmin.Http.PostAsync("/api/imports", Multipart(big), Ct), HttpStatusCode.RequestEntityTooLarge, "import.file_too_large", ("file", "import.file_too_large"));
        await AssertProblem(await admin.Http.PostAsync("/api/imports", new StringContent("{}", Encoding.UTF8, "application/json"), Ct), HttpStatusCode.BadRequest, "validation.failed", ("file", "import.file_required"));

        Assert.Equal(uploads, await app.WithDbAsync(db => db.ImportUploads.CountAsync()));
        Assert.Empty(Directory.Exists(_uploads) ? Directory.GetFiles(_uploads) : []);
        Assert.False(await app.WithDbAsync(db => db.Members.AnyAsync(m => m.Mobile == phone)));
    }

    [Fact]
    public async Task ARunQueuedWhenTheServerStops_IsFinishedByTheNextStart_AndARunWhoseRunnerDied_ResumesWhereItStopped()
    {
        var members = await app.MemberCountAsync();
        var queuedFile = BuildFile(40, PatronApp.NewPhone(), bad: false);
        long queuedId;
        var paused = Host(("Patron:Import:Runner", "false"));
        {
            var admin = await SignInAsync(paused, "admin");
            var sent = await admin.Http.PostAsync("/api/imports", Multipart(queuedFile.Csv), Ct);
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
            queuedId = (await sent.ReadJson()).GetProperty("id").GetInt64();
            await Task.Delay(300, Ct);
            Assert.Equal("queued", (await (await admin.Http.GetAsync($"/api/imports/{queuedId}", Ct)).ReadJson()).GetProperty("status").GetString());
        }

        await paused.DisposeAsync();

        // A run whose server died after 2 of its 4 chunks: the job committed 50 rows, the run's heartbeat is old.
        var diedFile = BuildFile(100, PatronApp.NewPhone(), bad: false);
        var chunks = 0;
        using (var scope = app.Services.CreateScope())
        {
            using var stream = new MemoryStream(diedFile.Csv);
            var caller = Server.Infrastructure.Auth.CallerScope.From(new System.Security.Claims.ClaimsPrincipal(Server.Infrastructure.Auth.PatronClaims.ForStaff(
                await app.WithDbAsync(db => db.Staff.AsNoTracking().SingleAsync(s => s.Login == "admin")), [], [], "test")));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scope.ServiceProvider.GetRequiredService<MemberImporter>().RunAsync(stream, "died.csv", app.Org.ProgramA, null, false, caller,
                _ =>
                {
                    if (++chunks == 2)
                    {
                        throw new OperationCanceledException("the server dies");
                    }
                }, Ct, 25));
        }

        Directory.CreateDirectory(_uploads);
        var storedName = ImportOptions.NewStoredName();
        await File.WriteAllBytesAsync(Path.Combine(_uploads, storedName), diedFile.Csv, Ct);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(diedFile.Csv));
        var adminId = await app.WithDbAsync(db => db.Staff.Where(s => s.Login == "admin").Select(s => s.Id).SingleAsync());
        var diedId = await app.WithDbAsync(async db =>
        {
            var upload = new ImportUpload(app.Org.ProgramA, null, false, "died.csv", diedFile.Csv.Length, hash, storedName, adminId, app.Clock.GetUtcNow().UtcDateTime.AddHours(-1))
            {
                Status = ImportUploadStatus.Running,
                Attempts = 1,
                HeartbeatAt = app.Clock.GetUtcNow().UtcDateTime.AddHours(-1),
            };
            db.ImportUploads.Add(upload);
            await db.SaveChangesAsync();
            return upload.Id;
        });
        Assert.Equal(members + 50, await app.MemberCountAsync());

        // The next start takes both up: the queued one from the beginning, the dead one after its 50 rows.
        var next = Host();
        var nextAdmin = await SignInAsync(next, "admin");
        var queued = await WaitAsync(nextAdmin.Http, queuedId);
        Assert.Equal(("completed", 40, 40), (queued.GetProperty("status").GetString(), queued.GetProperty("rows").GetInt32(), queued.GetProperty("imported").GetInt32()));
        var died = await WaitAsync(nextAdmin.Http, diedId);
        Assert.Equal(("completed", 100, 100, 0), (died.GetProperty("status").GetString(), died.GetProperty("rows").GetInt32(), died.GetProperty("imported").GetInt32(), died.GetProperty("rejected").GetInt32()));
        Assert.Equal(members + 140, await app.MemberCountAsync());
        Assert.Equal(100, await app.WithDbAsync(db => db.Members.CountAsync(m => diedFile.Good.Contains(m.Mobile))));
        var attempts = await app.WithDbAsync(db => db.ImportUploads.Where(u => u.Id == diedId).Select(u => u.Attempts).SingleAsync());
        Assert.Equal(2, attempts);
        Assert.Empty(Directory.GetFiles(_uploads));
    }

    [Theory]
    [InlineData("manager-a")]
    [InlineData("cashier-a1")]
    [InlineData("marketing")]
    [InlineData("auditor")]
    public async Task OnlyAdminsImport_OtherRolesAreRefusedOnThePageAndTheApi(string login)
    {
        var host = Host();
        var admin = await SignInAsync(host, "admin");
        Assert.Contains("href=\"/import\"", await admin.GetPageAsync("/"));
        var checkId = (await (await admin.Http.PostAsync("/api/imports", Multipart(BuildFile(3, PatronApp.NewPhone(), bad: false).Csv, checkOnly: true), Ct)).ReadJson()).GetProperty("id").GetInt64();

        var staff = await SignInAsync(host, login);
        var page = await staff.GetAsync("/import");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/denied", page.Headers.Location!.PathAndQuery);
        Assert.DoesNotContain("href=\"/import\"", await staff.GetPageAsync("/"));
        var uploads = await app.WithDbAsync(db => db.ImportUploads.CountAsync());
        await AssertProblem(await staff.Http.PostAsync("/api/imports", Multipart(BuildFile(3, PatronApp.NewPhone(), bad: false).Csv), Ct), HttpStatusCode.Forbidden, "auth.forbidden");
        await AssertProblem(await staff.Http.GetAsync("/api/imports", Ct), HttpStatusCode.Forbidden, "auth.forbidden");
        await AssertProblem(await staff.Http.GetAsync($"/api/imports/{checkId}", Ct), HttpStatusCode.Forbidden, "auth.forbidden");
        await AssertProblem(await staff.Http.GetAsync($"/api/imports/{checkId}/errors.csv", Ct), HttpStatusCode.Forbidden, "auth.forbidden");
        await AssertProblem(await staff.Http.PostAsync($"/api/imports/{checkId}/import", null, Ct), HttpStatusCode.Forbidden, "auth.forbidden");
        var job = await staff.Http.GetAsync($"/import?handler=Job&id={checkId}", Ct);
        Assert.Equal(HttpStatusCode.Redirect, job.StatusCode);

        using var terminal = host.CreateClient();
        terminal.DefaultRequestHeaders.Add("X-Api-Key", app.Org.TerminalA1);
        await AssertProblem(await terminal.PostAsync("/api/imports", Multipart(BuildFile(3, PatronApp.NewPhone(), bad: false).Csv), Ct), HttpStatusCode.Forbidden, "auth.forbidden");
        Assert.Equal(uploads, await app.WithDbAsync(db => db.ImportUploads.CountAsync()));
        await WaitAsync(admin.Http, checkId);
    }

    [Fact]
    public async Task CommandLine_ShowsAProgressLineOnStandardError_WithCountsAndRate_AndNoPersonalData()
    {
        var taken = PatronApp.NewPhone();
        using (var a1 = app.TerminalClient(app.Org.TerminalA1))
        {
            Assert.Equal(HttpStatusCode.Created, (await a1.PostJson("/api/members", new { name = "已有会员", mobile = taken })).StatusCode);
        }

        var file = BuildFile(300, taken);
        Directory.CreateDirectory(_uploads);
        var path = Path.Combine(_uploads, "cli-members.csv");
        await File.WriteAllBytesAsync(path, file.Csv, Ct);
        var args = new ImportCommand.Arguments(path, "CHAIN-A", "A1", false, Path.Combine(_uploads, "cli-errors.csv"), []);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ImportCommand.RunAsync(app.Services, args, output, error, Ct, interactive: false, every: TimeSpan.FromMilliseconds(20));

        Assert.Equal(0, code);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.Matches(@"^import: 100% · 300 checked · 300 written \(297 imported, 3 refused\) · [\d,]+ rows/s · \d+:\d\d\r?$", lines[^1]);
        Assert.All(lines, l => Assert.StartsWith("import: ", l));
        Assert.Contains("finished: 300 rows, 297 imported, 3 refused", output.ToString());
        foreach (var text in new[] { error.ToString(), output.ToString(), await File.ReadAllTextAsync(Path.Combine(_uploads, "cli-errors.csv"), Ct) })
        {
            Assert.All(file.Good.Append(file.BadIdNumber).Append(taken), personal => Assert.DoesNotContain(personal, text));
        }

        // On a terminal the line is rewritten in place.
        var check = new ImportCommand.Arguments(path, "CHAIN-A", null, true, Path.Combine(_uploads, "cli-check.csv"), []);
        using var terminal = new StringWriter();
        Assert.Equal(0, await ImportCommand.RunAsync(app.Services, check, TextWriter.Null, terminal, Ct, interactive: true, every: TimeSpan.FromMilliseconds(20)));
        Assert.StartsWith("\rimport: ", terminal.ToString());
        Assert.Contains("300 checked · 300 done (0 good, 300 refused)", terminal.ToString()); // all imported by now: every phone is taken
    }

    /// <summary>A host of its own on the class's database, with this test's upload folder (and small chunks, so runs report progress).</summary>
    private WebApplicationFactory<Program> Host(params (string Key, string Value)[] settings)
    {
        var host = app.WithWebHostBuilder(b =>
        {
            b.UseSetting("Patron:Import:UploadDir", _uploads);
            b.UseSetting("Patron:Import:Chunk", "25");
            b.UseSetting("Patron:Import:PollSeconds", "0.2");
            foreach (var (key, value) in settings)
            {
                b.UseSetting(key, value);
            }
        });
        _hosts.Add(host);
        return host;
    }

    private static async Task<ConsoleClient> SignInAsync(WebApplicationFactory<Program> host, string login)
    {
        var console = new ConsoleClient(host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));
        var response = await console.PostFormAsync("/login", new() { ["Login"] = login, ["Password"] = PatronApp.Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        console.ForgetToken();
        return console;
    }

    /// <summary>Posts the console's upload form as htmx does: multipart, the antiforgery token in a header.</summary>
    private static async Task<HttpResponseMessage> PostUploadAsync(ConsoleClient console, string page, MultipartFormDataContent form)
    {
        var token = TokenHeader().Match(page).Groups[1].Value;
        if (token.Length == 0)
        {
            token = TokenHeader().Match(await console.GetPageAsync("/import")).Groups[1].Value;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/import?handler=Upload") { Content = form };
        request.Headers.Add("HX-Request", "true");
        request.Headers.Add("RequestVerificationToken", token);
        return await console.Http.SendAsync(request, Ct);
    }

    private MultipartFormDataContent Multipart(byte[]? csv, string fileName = "members.csv", string? program = "CHAIN-A", string? store = null, bool checkOnly = false)
    {
        var form = new MultipartFormDataContent();
        if (program is not null)
        {
            form.Add(new StringContent(program), long.TryParse(program, out _) ? "programId" : "programCode");
        }

        if (store is not null)
        {
            form.Add(new StringContent(store), "store");
        }

        if (checkOnly)
        {
            form.Add(new StringContent("true"), "checkOnly");
        }

        if (csv is not null)
        {
            var content = new ByteArrayContent(csv);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            form.Add(content, "file", fileName);
        }

        return form;
    }

    private static async Task<JsonElement> WaitAsync(HttpClient http, long id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var view = await (await http.GetAsync($"/api/imports/{id}", Ct)).ReadJson();
            if (view.GetProperty("status").GetString() is "completed" or "failed")
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, $"import {id} did not finish: {view}");
            await Task.Delay(100, Ct);
        }
    }

    private static string[] Codes(JsonElement view) =>
        [.. view.GetProperty("errorsByCode").EnumerateArray().Select(e => e.GetProperty("code").GetString()!).Order(StringComparer.Ordinal)];

    private static string[] Codes(List<(string Code, int Row)> bad) => [.. bad.Select(b => b.Code).Distinct().Order(StringComparer.Ordinal)];

    private sealed record MemberFile(byte[] Csv, List<string> Good, List<(string Code, int Row)> Bad, string BadIdNumber);

    /// <summary><paramref name="rows"/> members at A2 with a phone, an ID number and points; with <paramref name="bad"/>, rows 3, 10 and 20 are refused (phone taken, ID number invalid, points negative).</summary>
    private static MemberFile BuildFile(int rows, string takenPhone, bool bad = true)
    {
        var sb = new StringBuilder(Header).Append("\r\n");
        var good = new List<string>();
        var refused = new List<(string, int)>();
        var badId = NewIdNumber()[..17] + "0";
        if (ChineseIdNumber.TryNormalize(badId, out _, out _))
        {
            badId = badId[..17] + "1";
        }

        for (var i = 0; i < rows; i++)
        {
            var row = i + 2;
            var phone = PatronApp.NewPhone();
            var (mobile, id, points) = (bad, row) switch
            {
                (true, 3) => (takenPhone, NewIdNumber(), "10"),
                (true, 10) => (phone, badId, "10"),
                (true, 20) => (phone, NewIdNumber(), "-5"),
                _ => (phone, NewIdNumber(), "100"),
            };
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"导入{i},{mobile},{id},{points},A2\r\n");
            if (bad && row is 3 or 10 or 20)
            {
                refused.Add((row switch { 3 => "import.mobile_taken", 10 => "import.id_number_invalid", _ => "import.points_invalid" }, row));
            }
            else
            {
                good.Add(mobile);
            }
        }

        return new MemberFile(Encoding.UTF8.GetBytes(sb.ToString()), good, refused, badId);
    }

    private static string NewIdNumber()
    {
        var n = Interlocked.Increment(ref _idCounter);
        var body = "110105" + new DateOnly(1950, 1, 1).AddDays(n % 18_000).ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture)
            + (n / 18_000 % 1000).ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
        return body + ChineseIdNumber.CheckCharacter(body);
    }

    [GeneratedRegex("\"RequestVerificationToken\": \"([^\"]+)\"")]
    private static partial Regex TokenHeader();

    [GeneratedRegex("data-testid=\"file-error\">([^<]*)<")]
    private static partial Regex FileFeedback();

    [GeneratedRegex(@"job=(\d+)")]
    private static partial Regex JobInUrl();
}

public sealed class ImportConsoleSqliteTests(SqliteApp app) : ImportConsoleTests(app), IClassFixture<SqliteApp>;

public sealed class ImportConsolePostgresTests(PostgresApp app) : ImportConsoleTests(app), IClassFixture<PostgresApp>;
