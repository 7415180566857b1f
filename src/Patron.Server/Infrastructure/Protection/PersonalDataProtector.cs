using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Domain.Members;

namespace Patron.Server.Infrastructure.Protection;

/// <summary>
/// Encrypts ID numbers with Data Protection (the key ring lives in the database, shared by
/// every node) and computes the keyed hash used to find and de-duplicate them. The hash key
/// is a random secret created once and stored encrypted in <c>app_secrets</c>.
/// </summary>
public sealed class PersonalDataProtector(IDataProtectionProvider provider, IServiceScopeFactory scopes, TimeProvider clock)
{
    private const string LookupKeyName = "id-number-lookup-key";
    private readonly IDataProtector _idNumbers = provider.CreateProtector("Patron.Members.IdNumber.v1");
    private readonly IDataProtector _secrets = provider.CreateProtector("Patron.AppSecrets.v1");
    private readonly IDataProtector _health = provider.CreateProtector("Patron.Members.Health.v1");
    private readonly IDataProtector _addresses = provider.CreateProtector("Patron.Members.Address.v1");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private byte[]? _lookupKey;

    public async Task<ProtectedIdNumber> ProtectIdNumberAsync(string normalized, CancellationToken ct) =>
        new(await LookupHashAsync(normalized, ct), _idNumbers.Protect(normalized), normalized[^4..]);

    /// <summary>Encrypts an ID number whose lookup hash is already known (bulk imports encrypt on every core).</summary>
    public ProtectedIdNumber ProtectIdNumber(string normalized, string hash) => new(hash, _idNumbers.Protect(normalized), normalized[^4..]);

    public string UnprotectIdNumber(string cipher) => _idNumbers.Unprotect(cipher);

    /// <summary>A member's street address, encrypted at rest like the ID number.</summary>
    public string ProtectAddress(string address) => _addresses.Protect(address);

    public string UnprotectAddress(string cipher) => _addresses.Unprotect(cipher);

    /// <summary>A member's health profile, encrypted as one JSON document (its own purpose: ID number keys cannot open it).</summary>
    public string ProtectHealth(HealthProfile profile) => _health.Protect(System.Text.Json.JsonSerializer.Serialize(profile, HealthJson));

    public string ProtectReadings(Patron.Domain.Care.CareReadings readings) => _health.Protect(System.Text.Json.JsonSerializer.Serialize(readings, HealthJson));

    public Patron.Domain.Care.CareReadings UnprotectReadings(string cipher) => System.Text.Json.JsonSerializer.Deserialize<Patron.Domain.Care.CareReadings>(_health.Unprotect(cipher), HealthJson)!;

    public HealthProfile UnprotectHealth(string cipher) => System.Text.Json.JsonSerializer.Deserialize<HealthProfile>(_health.Unprotect(cipher), HealthJson)!;

    private static readonly System.Text.Json.JsonSerializerOptions HealthJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    public async Task<string> LookupHashAsync(string normalized, CancellationToken ct)
    {
        var key = _lookupKey ?? await LoadLookupKeyAsync(ct);
        return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(normalized)));
    }

    private async Task<byte[]> LoadLookupKeyAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_lookupKey is not null)
            {
                return _lookupKey;
            }

            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
            var stored = await db.AppSecrets.AsNoTracking().FirstOrDefaultAsync(s => s.Name == LookupKeyName, ct);
            if (stored is null)
            {
                var fresh = RandomNumberGenerator.GetBytes(32);
                db.AppSecrets.Add(new AppSecret(LookupKeyName, _secrets.Protect(Convert.ToBase64String(fresh)), clock.GetUtcNow().UtcDateTime));
                try
                {
                    await db.SaveChangesAsync(ct);
                    return _lookupKey = fresh;
                }
                catch (DbUpdateException)
                {
                    // Another node created it first: use theirs.
                    db.ChangeTracker.Clear();
                    stored = await db.AppSecrets.AsNoTracking().FirstAsync(s => s.Name == LookupKeyName, ct);
                }
            }

            return _lookupKey = Convert.FromBase64String(_secrets.Unprotect(stored.ProtectedValue));
        }
        finally
        {
            _gate.Release();
        }
    }
}
