using System.Security.Cryptography;
using System.Text;
using FinCore.Grains;
using FinCore.Persistence;

namespace FinCore.Gateway.Push;

/// <summary>A customer's session: what a <c>cst_…</c> token lets its holder do (read that customer's notification
/// stream, nothing else) and until when.</summary>
internal sealed record CustomerSession(string Id, string TenantId, string CustomerId, DateTime ExpiresAt);

/// <summary>The session token as minted: shown once, stored only as its SHA-256.</summary>
internal sealed record MintedSession(string Id, string Customer, string Token, DateTime CreatedAt, DateTime ExpiresAt);

/// <summary>
/// Customer session tokens (<c>POST /v1/customers/{id}/session-tokens</c>): minted by the tenant's server for one of its
/// customers, 32 random bytes, stored as SHA-256 only, minutes long, revocable. Lookups are not cached: a stream looks its
/// token up when it opens and at each heartbeat, so a revocation holds at once on every gateway.
/// </summary>
internal sealed class SessionTokens(Database database)
{
    public const string Prefix = "cst_";
    public const string IdPrefix = "cses_";
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan MinLifetime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    public static bool LooksLikeToken(string? value) =>
        value is not null && value.Length is > 40 and < 100 && value.StartsWith(Prefix, StringComparison.Ordinal) &&
        value.AsSpan(Prefix.Length).IndexOfAnyExcept("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") < 0;

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Mints a token for the tenant's customer (null: no such customer). Expired tokens of that customer older
    /// than a day are dropped on the way.</summary>
    public async Task<MintedSession?> MintAsync(string tenant, string customer, TimeSpan lifetime, CancellationToken ct)
    {
        var token = Prefix + Ids.Base62(RandomNumberGenerator.GetBytes(32));
        var id = Ids.New(IdPrefix);
        await using var batch = database.DataSource.CreateBatch();
        batch.BatchCommands.Add(Database.Statement("""
            INSERT INTO customer_session_tokens (token_hash, id, tenant_id, customer_id, created_at, expires_at)
            SELECT $1, $2, $3, $4, now(), now() + $5 FROM customers WHERE tenant_id = $3 AND id = $4 AND erased_at IS NULL
            RETURNING created_at, expires_at
            """, Hash(token), id, tenant, customer, lifetime));
        batch.BatchCommands.Add(Database.Statement("""
            DELETE FROM customer_session_tokens WHERE tenant_id = $1 AND customer_id = $2 AND expires_at < now() - interval '1 day'
            """, tenant, customer));
        await using var r = await batch.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new MintedSession(id, customer, token, r.GetDateTime(0), r.GetDateTime(1)) : null;
    }

    /// <summary>The live session of a token (null: unknown, expired or revoked).</summary>
    public async Task<CustomerSession?> AuthenticateAsync(string token, CancellationToken ct)
    {
        if (!LooksLikeToken(token))
        {
            return null;
        }

        var hash = Hash(token);
        await using var cmd = database.DataSource.CreateCommand("""
            SELECT token_hash, id, tenant_id, customer_id, expires_at FROM customer_session_tokens
            WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
            """);
        cmd.Parameters.AddWithValue(hash);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) && CryptographicOperations.FixedTimeEquals(r.GetFieldValue<byte[]>(0), hash)
            ? new CustomerSession(r.GetString(1), r.GetString(2), r.GetString(3), r.GetDateTime(4))
            : null;
    }

    /// <summary>Whether the session is still live (not revoked; expiry its stream keeps itself).</summary>
    public async Task<bool> IsLiveAsync(CustomerSession session, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand(
            "SELECT 1 FROM customer_session_tokens WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()");
        cmd.Parameters.AddWithValue(session.Id);
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>The customer's live sessions, newest first (null: no such customer).</summary>
    public async Task<List<(string Id, DateTime CreatedAt, DateTime ExpiresAt)>?> LiveAsync(string tenant, string customer, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand("""
            SELECT s.id, s.created_at, s.expires_at FROM customers c
            LEFT JOIN customer_session_tokens s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id AND s.revoked_at IS NULL AND s.expires_at > now()
            WHERE c.tenant_id = $1 AND c.id = $2
            ORDER BY s.created_at DESC, s.id DESC
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(customer);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        List<(string, DateTime, DateTime)>? live = null;
        while (await r.ReadAsync(ct))
        {
            live ??= [];
            if (!r.IsDBNull(0))
            {
                live.Add((r.GetString(0), r.GetDateTime(1), r.GetDateTime(2)));
            }
        }

        return live;
    }

    /// <summary>Revokes one of the customer's sessions, or all of them (<paramref name="id"/> null). False: no such
    /// customer, or no such session of theirs. Revoking a revoked session again is a success.</summary>
    public async Task<bool> RevokeAsync(string tenant, string customer, string? id, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand(id is null
            ? """
              WITH revoked AS (
                  UPDATE customer_session_tokens SET revoked_at = now()
                  WHERE tenant_id = $1 AND customer_id = $2 AND revoked_at IS NULL AND expires_at > now())
              SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2
              """
            : """
              UPDATE customer_session_tokens SET revoked_at = coalesce(revoked_at, now())
              WHERE tenant_id = $1 AND customer_id = $2 AND id = $3
              RETURNING 1
              """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(customer);
        if (id is not null)
        {
            cmd.Parameters.AddWithValue(id);
        }

        return await cmd.ExecuteScalarAsync(ct) is not null;
    }
}
