using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FinCore.Persistence;
using Microsoft.Extensions.Configuration;

namespace FinCore.Privacy;

/// <summary>A customer's personal data: what is encrypted at rest and erased on request.</summary>
public sealed record PersonalData(string Name, string Email, string Document, string? Phone);

/// <summary>
/// The master keys (<c>FINCORE_MASTER_KEY</c>: base64 of 32 random bytes, or a random string of at least 43 characters,
/// hashed to 32 bytes with SHA-256; in ECS a secret the CDK app generates, encrypted under a KMS key). Tenants' keys are
/// wrapped by the current one. During a rotation, <c>FINCORE_MASTER_KEY_PREVIOUS</c> holds the keys being retired
/// (comma-separated); every silo rewraps what they wrapped when it starts, and they can be dropped once that is done.
/// </summary>
public sealed class MasterKeys
{
    private readonly Dictionary<string, byte[]> _byId;

    public MasterKeys(byte[] current, IEnumerable<byte[]> previous)
    {
        Current = current;
        CurrentId = IdOf(current);
        _byId = previous.Append(current).ToDictionary(IdOf, k => k);
    }

    public byte[] Current { get; }

    /// <summary>A key's id: the first 8 bytes of its SHA-256, in hex (never the key).</summary>
    public string CurrentId { get; }

    public byte[]? ById(string id) => _byId.GetValueOrDefault(id);

    public static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));

    public static MasterKeys From(IConfiguration config)
    {
        var current = config["FINCORE_MASTER_KEY"];
        if (string.IsNullOrWhiteSpace(current))
        {
            throw new InvalidOperationException(
                "FINCORE_MASTER_KEY is not set: give the master key that wraps the tenants' personal-data keys, base64 of 32 random bytes " +
                "(`head -c 32 /dev/urandom | base64`; ops/up makes one in .fincore/secrets.env).");
        }

        return new MasterKeys(Parse(current, "FINCORE_MASTER_KEY"),
            (config["FINCORE_MASTER_KEY_PREVIOUS"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(k => Parse(k, "FINCORE_MASTER_KEY_PREVIOUS")));
    }

    private static byte[] Parse(string base64, string name)
    {
        var text = base64.Trim();
        try
        {
            var key = Convert.FromBase64String(text);
            if (key.Length == 32)
            {
                return key;
            }
        }
        catch (FormatException)
        {
            // not base64: a passphrase, if long enough
        }

        return text.Length >= 43
            ? SHA256.HashData(Encoding.UTF8.GetBytes(text))
            : throw new InvalidOperationException($"{name} must be base64 of 32 random bytes, or a random string of at least 43 characters.");
    }
}

/// <summary>
/// Encrypts customers' personal data at rest: AES-256-GCM under the tenant's data key, bound to the tenant and the
/// customer (associated data), so a ciphertext cannot be moved to another row. Each tenant has versioned data keys and
/// one search key, all random, stored in <c>tenant_keys</c> only wrapped (AES-GCM) by the master key; the search key
/// makes the keyed hash (HMAC-SHA-256) that finds a customer by email without storing the email. Rotating a tenant's
/// data key adds a version: new writes use it, old ciphertexts still open, and resealing moves them over.
/// </summary>
public sealed class PersonalDataProtector(Database database, MasterKeys master, TimeSpan? keyCache = null)
{
    public const string DataPurpose = "data";
    public const string SearchPurpose = "search";
    private const byte Format = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>How long a process keeps a tenant's keys (so a rotation reaches it within this); default 30 s
    /// (<c>PersonalData__KeyCache</c>).</summary>
    private readonly TimeSpan _cacheFor = keyCache ?? TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, TenantKeys> _tenants = new(StringComparer.Ordinal);

    private sealed record TenantKeys(int Current, Dictionary<int, byte[]> Data, byte[] Search, long Expires);

    /// <summary>Encrypts <paramref name="data"/> for the tenant's customer under the tenant's current data key.</summary>
    public async ValueTask<byte[]> SealAsync(string tenant, string customer, PersonalData data, CancellationToken ct = default)
    {
        var keys = await KeysAsync(tenant, null, ct);
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(data);
        var sealedBytes = new byte[1 + 4 + NonceSize + TagSize + plaintext.Length];
        sealedBytes[0] = Format;
        BinaryPrimitives.WriteInt32BigEndian(sealedBytes.AsSpan(1, 4), keys.Current);
        var nonce = sealedBytes.AsSpan(5, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(keys.Data[keys.Current], TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(5 + NonceSize + TagSize), sealedBytes.AsSpan(5 + NonceSize, TagSize), Aad(tenant, customer));
        CryptographicOperations.ZeroMemory(plaintext);
        return sealedBytes;
    }

    /// <summary>Decrypts what <see cref="SealAsync"/> made for this tenant's customer (throws if it was made for another
    /// row, altered, or its key is gone).</summary>
    public async ValueTask<PersonalData> OpenAsync(string tenant, string customer, byte[] sealedBytes, CancellationToken ct = default)
    {
        if (sealedBytes.Length < 1 + 4 + NonceSize + TagSize || sealedBytes[0] != Format)
        {
            throw new CryptographicException("Not a sealed personal-data record.");
        }

        var version = KeyVersion(sealedBytes);
        var keys = await KeysAsync(tenant, version, ct);
        if (!keys.Data.TryGetValue(version, out var key))
        {
            throw new CryptographicException($"Tenant {tenant} has no data key version {version}.");
        }

        var plaintext = new byte[sealedBytes.Length - (1 + 4 + NonceSize + TagSize)];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(5, NonceSize), sealedBytes.AsSpan(5 + NonceSize + TagSize), sealedBytes.AsSpan(5 + NonceSize, TagSize), plaintext,
            Aad(tenant, customer));
        return JsonSerializer.Deserialize<PersonalData>(plaintext)!;
    }

    /// <summary>The data key version a sealed record was made with.</summary>
    public static int KeyVersion(byte[] sealedBytes) => BinaryPrimitives.ReadInt32BigEndian(sealedBytes.AsSpan(1, 4));

    /// <summary>The keyed hash an email is found by (case and surrounding spaces do not count).</summary>
    public async ValueTask<byte[]> EmailHashAsync(string tenant, string email, CancellationToken ct = default)
    {
        var keys = await KeysAsync(tenant, null, ct);
        return HMACSHA256.HashData(keys.Search, Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant()));
    }

    /// <summary>The tenant's current data key version (made on first use).</summary>
    public async ValueTask<int> CurrentVersionAsync(string tenant, CancellationToken ct = default) => (await KeysAsync(tenant, null, ct)).Current;

    /// <summary>Adds a data key version for the tenant and makes it the current one; answers it. Every process uses it
    /// within <see cref="_cacheFor"/>.</summary>
    public async Task<int> RotateAsync(string tenant, CancellationToken ct = default)
    {
        await KeysAsync(tenant, null, ct); // the first version and the search key exist
        for (var attempt = 0; ; attempt++)
        {
            await using var cmd = database.DataSource.CreateCommand(
                "SELECT coalesce(max(version), 0) + 1 FROM tenant_keys WHERE tenant_id = $1 AND purpose = $2");
            cmd.Parameters.AddWithValue(tenant);
            cmd.Parameters.AddWithValue(DataPurpose);
            var next = (int)(await cmd.ExecuteScalarAsync(ct))!;
            if (await InsertKeyAsync(tenant, DataPurpose, next, ct) || attempt >= 5)
            {
                _tenants.TryRemove(tenant, out _);
                return next;
            }
        }
    }

    /// <summary>Rewraps every tenant key wrapped by a previous master key with the current one; answers how many.</summary>
    public async Task<int> RewrapAsync(CancellationToken ct = default)
    {
        var rows = new List<(string Tenant, string Purpose, int Version, string MasterId, byte[] Wrapped)>();
        await using (var cmd = database.DataSource.CreateCommand("SELECT tenant_id, purpose, version, master_id, wrapped FROM tenant_keys WHERE master_id <> $1"))
        {
            cmd.Parameters.AddWithValue(master.CurrentId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                rows.Add((r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), r.GetFieldValue<byte[]>(4)));
            }
        }

        var done = 0;
        foreach (var row in rows)
        {
            var old = master.ById(row.MasterId);
            if (old is null)
            {
                continue; // wrapped by a key this process was not given: another one may have it
            }

            var key = Unwrap(old, row.Tenant, row.Purpose, row.Version, row.Wrapped);
            await using var cmd = database.DataSource.CreateCommand(
                "UPDATE tenant_keys SET master_id = $5, wrapped = $6 WHERE tenant_id = $1 AND purpose = $2 AND version = $3 AND master_id = $4");
            cmd.Parameters.AddWithValue(row.Tenant);
            cmd.Parameters.AddWithValue(row.Purpose);
            cmd.Parameters.AddWithValue(row.Version);
            cmd.Parameters.AddWithValue(row.MasterId);
            cmd.Parameters.AddWithValue(master.CurrentId);
            cmd.Parameters.AddWithValue(Wrap(master.Current, row.Tenant, row.Purpose, row.Version, key));
            done += await cmd.ExecuteNonQueryAsync(ct);
            CryptographicOperations.ZeroMemory(key);
        }

        return done;
    }

    private static byte[] Aad(string tenant, string customer) => Encoding.UTF8.GetBytes($"fincore/customer/{tenant}/{customer}");

    private static byte[] KeyAad(string tenant, string purpose, int version) => Encoding.UTF8.GetBytes($"fincore/tenant-key/{tenant}/{purpose}/{version}");

    private static byte[] Wrap(byte[] masterKey, string tenant, string purpose, int version, byte[] key)
    {
        var wrapped = new byte[NonceSize + TagSize + key.Length];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, NonceSize));
        using var aes = new AesGcm(masterKey, TagSize);
        aes.Encrypt(wrapped.AsSpan(0, NonceSize), key, wrapped.AsSpan(NonceSize + TagSize), wrapped.AsSpan(NonceSize, TagSize), KeyAad(tenant, purpose, version));
        return wrapped;
    }

    private static byte[] Unwrap(byte[] masterKey, string tenant, string purpose, int version, byte[] wrapped)
    {
        var key = new byte[wrapped.Length - NonceSize - TagSize];
        using var aes = new AesGcm(masterKey, TagSize);
        aes.Decrypt(wrapped.AsSpan(0, NonceSize), wrapped.AsSpan(NonceSize + TagSize), wrapped.AsSpan(NonceSize, TagSize), key, KeyAad(tenant, purpose, version));
        return key;
    }

    /// <summary>A new random key of <paramref name="purpose"/>, unless that version exists (true: this one was made).</summary>
    private async Task<bool> InsertKeyAsync(string tenant, string purpose, int version, CancellationToken ct)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        await using var cmd = database.DataSource.CreateCommand("""
            INSERT INTO tenant_keys (tenant_id, purpose, version, master_id, wrapped, created_at) VALUES ($1, $2, $3, $4, $5, now())
            ON CONFLICT DO NOTHING
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(purpose);
        cmd.Parameters.AddWithValue(version);
        cmd.Parameters.AddWithValue(master.CurrentId);
        cmd.Parameters.AddWithValue(Wrap(master.Current, tenant, purpose, version, key));
        CryptographicOperations.ZeroMemory(key);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The tenant's keys, cached for <see cref="_cacheFor"/>; made on first use. A version not in the cache
    /// (<paramref name="need"/>: another process rotated) reloads them.</summary>
    private async ValueTask<TenantKeys> KeysAsync(string tenant, int? need, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (_tenants.TryGetValue(tenant, out var cached) && cached.Expires > now && (need is null || cached.Data.ContainsKey(need.Value)))
        {
            return cached;
        }

        for (var attempt = 0; ; attempt++)
        {
            var data = new Dictionary<int, byte[]>();
            byte[]? search = null;
            await using (var cmd = database.DataSource.CreateCommand("SELECT purpose, version, master_id, wrapped FROM tenant_keys WHERE tenant_id = $1"))
            {
                cmd.Parameters.AddWithValue(tenant);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    var (purpose, version, masterId) = (r.GetString(0), r.GetInt32(1), r.GetString(2));
                    var masterKey = master.ById(masterId)
                        ?? throw new CryptographicException($"A key of tenant {tenant} is wrapped by master key {masterId}, which this process was not given.");
                    var key = Unwrap(masterKey, tenant, purpose, version, r.GetFieldValue<byte[]>(3));
                    if (purpose == DataPurpose)
                    {
                        data[version] = key;
                    }
                    else if (purpose == SearchPurpose)
                    {
                        search = key;
                    }
                }
            }

            if (data.Count > 0 && search is not null)
            {
                var keys = new TenantKeys(data.Keys.Max(), data, search, now + (long)_cacheFor.TotalMilliseconds);
                _tenants[tenant] = keys;
                return keys;
            }

            if (attempt >= 3)
            {
                throw new CryptographicException($"Could not make the keys of tenant {tenant}.");
            }

            // The tenant's first use: make its first data key and its search key (another process may race: one wins).
            if (data.Count == 0)
            {
                await InsertKeyAsync(tenant, DataPurpose, 1, ct);
            }

            if (search is null)
            {
                await InsertKeyAsync(tenant, SearchPurpose, 1, ct);
            }
        }
    }
}
