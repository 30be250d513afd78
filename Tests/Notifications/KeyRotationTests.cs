using System.Security.Cryptography;
using FinCore.Persistence;
using FinCore.Privacy;
using FinCore.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace FinCore.Tests.Notifications;

/// <summary>Rotating the master key without downtime, against a real PostgreSQL: processes given the new key and the
/// old one open what either wrapped, the rewrap moves every tenant key over, and then the old key can go.</summary>
public sealed class KeyRotationTests : IAsyncLifetime
{
    private readonly PostgresServer _postgres = new();
    private string _db = "";

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _db = await _postgres.CreateDatabaseAsync();
        await using var conn = new NpgsqlConnection(_db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            CREATE TABLE tenant_keys (tenant_id text NOT NULL, purpose text NOT NULL, version integer NOT NULL, master_id text NOT NULL,
                wrapped bytea NOT NULL, created_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, purpose, version))
            """, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    private PersonalDataProtector Protector(byte[] current, params byte[][] previous) =>
        new(new Database(_db, [], NullLogger<Database>.Instance), new MasterKeys(current, previous));

    [Fact]
    public async Task A_new_master_key_takes_over_from_the_old_one_with_every_record_still_readable()
    {
        var (oldKey, newKey) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var person = new PersonalData("Ana Souza", "ana@example.com", "52998224725", "+5511987654321");
        var before = Protector(oldKey);
        var sealedBefore = await before.SealAsync("ten_a", "cus_1", person);

        // A process given only another key cannot open it; one given the new key and the old opens it.
        await Assert.ThrowsAsync<CryptographicException>(async () => await Protector(newKey).OpenAsync("ten_a", "cus_1", sealedBefore));
        var during = Protector(newKey, oldKey);
        Assert.Equal(person, await during.OpenAsync("ten_a", "cus_1", sealedBefore));

        // The rewrap moves the tenant's keys (data and search) to the new master key; the old one can then go.
        Assert.Equal(2, await during.RewrapAsync());
        Assert.Equal(0, await during.RewrapAsync());
        var after = Protector(newKey);
        Assert.Equal(person, await after.OpenAsync("ten_a", "cus_1", sealedBefore));
        Assert.Equal(await before.EmailHashAsync("ten_a", "ANA@example.com "), await after.EmailHashAsync("ten_a", "ana@example.com"));

        // A rotated data key seals what comes next; what was sealed before still opens. A record moved to another
        // customer's or tenant's row does not open.
        Assert.Equal(2, await after.RotateAsync("ten_a"));
        var sealedAfter = await after.SealAsync("ten_a", "cus_1", person);
        Assert.Equal(2, PersonalDataProtector.KeyVersion(sealedAfter));
        Assert.Equal(1, PersonalDataProtector.KeyVersion(sealedBefore));
        Assert.Equal(person, await after.OpenAsync("ten_a", "cus_1", sealedBefore));
        await Assert.ThrowsAnyAsync<CryptographicException>(async () => await after.OpenAsync("ten_a", "cus_2", sealedAfter));
        await Assert.ThrowsAnyAsync<CryptographicException>(async () => await after.OpenAsync("ten_b", "cus_1", sealedAfter));
    }
}
