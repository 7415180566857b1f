using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Server.Infrastructure.Auth;
using Patron.Server.Infrastructure.Problems;

namespace Patron.Server.Infrastructure.Data;

/// <summary>
/// Runs a write under the caller's <c>Idempotency-Key</c>: the key and the answer are stored in
/// the write's own transaction (a unique key per caller), so a retry with the same key and body
/// answers with the first result and changes nothing, even when the two arrive at once; the same
/// key with a different body is <c>idempotency.key_reused</c> (409). Without a key the write
/// simply runs in one transaction.
/// </summary>
public sealed class Idempotency(PatronDb db, TimeProvider clock)
{
    public const string Header = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<(T Result, bool Replayed)> RunAsync<T>(CallerScope caller, string? key, object request, Func<CancellationToken, Task<T>> work, CancellationToken ct)
    {
        if (key is null)
        {
            return (await Transactions.RunAsync(db, work, ct), false);
        }

        key = key.Trim();
        if (key.Length is 0 or > IdempotencyRecord.KeyMaxLength || key.Any(char.IsControl))
        {
            throw Problem.Invalid("idempotency.key_invalid", $"An Idempotency-Key is 1–{IdempotencyRecord.KeyMaxLength} printable characters.", Header);
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, Json)));
        for (var attempt = 1; ; attempt++)
        {
            if (await FindAsync(caller, key, ct) is { } stored)
            {
                return (Replay<T>(stored, hash), true);
            }

            try
            {
                var result = await Transactions.RunAsync(db, async ct =>
                {
                    var answer = await work(ct);
                    db.IdempotencyKeys.Add(new IdempotencyRecord((int)caller.Kind, caller.ActorId, key, hash, JsonSerializer.Serialize(answer, Json), clock.GetUtcNow().UtcDateTime));
                    return answer;
                }, ct);
                return (result, false);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // The same key (or the same order number) was committed by a concurrent request:
                // look again, now that it is visible.
                db.ChangeTracker.Clear();
            }
        }
    }

    private Task<IdempotencyRecord?> FindAsync(CallerScope caller, string key, CancellationToken ct) =>
        db.IdempotencyKeys.AsNoTracking().FirstOrDefaultAsync(r => r.ActorKind == (int)caller.Kind && r.ActorId == caller.ActorId && r.Key == key, ct);

    private static T Replay<T>(IdempotencyRecord stored, string hash) =>
        stored.RequestHash == hash
            ? JsonSerializer.Deserialize<T>(stored.Response, Json)!
            : throw Problem.Conflict("idempotency.key_reused", "This Idempotency-Key was used for a different request.");
}
