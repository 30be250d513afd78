using System.Text.Json;
using FinCore.Persistence;

namespace FinCore.Grains.Ledger;

/// <summary>The ledger's statements. Each one that moves money is a single statement (data-modifying CTEs): the
/// balance, its entries and the transfer's row change together or not at all, also inside a batch of many, and the
/// entries' balance_after is the balance PostgreSQL computed under the row's lock.</summary>
internal static class LedgerSql
{
    /// <summary>A customer's row and its account's, written with the customer grain's state. The personal data is only
    /// in <paramref name="sealedData"/> (encrypted) and the email's keyed hash.</summary>
    public static StorageCommand InsertCustomer(string tenantId, Customer c, string currency, byte[] sealedData, byte[] emailHash) => new("""
        WITH c AS (
            INSERT INTO customers (tenant_id, id, kind, metadata, account_id, created_at, updated_at, sealed, email_hash, sealed_version)
            SELECT $1::text, $2::text, $3::text, $4::json, $5::text, $6::timestamptz, $6::timestamptz, $8::bytea, $9::bytea, $10::integer
            WHERE /*guard*/
            ON CONFLICT DO NOTHING RETURNING account_id)
        INSERT INTO accounts (tenant_id, id, customer_id, currency, balance, created_at, updated_at)
        SELECT $1::text, account_id, $2::text, $7::text, 0, $6::timestamptz, $6::timestamptz FROM c
        ON CONFLICT DO NOTHING
        """, tenantId, c.Id, c.Kind, JsonSerializer.Serialize(c.Metadata), c.Account, c.CreatedAt, currency, sealedData, emailHash,
        Privacy.PersonalDataProtector.KeyVersion(sealedData));

    /// <summary>A customer's changed row: the sealed personal data replaces whatever was stored (also plaintext from
    /// before encryption, which it empties).</summary>
    public static StorageCommand UpdateCustomer(string tenantId, Customer c, byte[] sealedData, byte[] emailHash) => new("""
        UPDATE customers SET metadata = $3::json, updated_at = $4::timestamptz, sealed = $5::bytea, email_hash = $6::bytea,
            sealed_version = $7::integer, name = NULL, email = NULL, document = NULL, phone = NULL
        WHERE tenant_id = $1::text AND id = $2::text AND /*guard*/
        """, tenantId, c.Id, JsonSerializer.Serialize(c.Metadata), c.UpdatedAt, sealedData, emailHash, Privacy.PersonalDataProtector.KeyVersion(sealedData));

    /// <summary>An erased customer's row: its personal data and metadata gone, notified of nothing; the row stays for
    /// the account's ledger history, pseudonymous.</summary>
    public static StorageCommand EraseCustomer(string tenantId, string customerId, DateTime at) => new("""
        UPDATE customers SET sealed = NULL, email_hash = NULL, sealed_version = NULL, name = NULL, email = NULL, document = NULL, phone = NULL,
            metadata = '{}'::json, notify_email = false, notify_push = false, erased_at = $3::timestamptz, updated_at = $3::timestamptz
        WHERE tenant_id = $1::text AND id = $2::text AND /*guard*/
        """, tenantId, customerId, at);

    /// <summary>Revokes every session of the customer (erasure).</summary>
    public static StorageCommand RevokeSessions(string tenantId, string customerId, DateTime at) => new("""
        UPDATE customer_session_tokens SET revoked_at = $3::timestamptz
        WHERE tenant_id = $1::text AND customer_id = $2::text AND revoked_at IS NULL AND /*guard*/
        """, tenantId, customerId, at);

    public static StorageCommand UpdatePreferences(string tenantId, string customerId, NotificationPreferences p) => new("""
        UPDATE customers SET notify_email = $3::boolean, notify_push = $4::boolean
        WHERE tenant_id = $1::text AND id = $2::text AND /*guard*/
        """, tenantId, customerId, p.Email, p.Push);

    /// <summary>A succeeded charge's credit to the account it funds, from the PSP's system account, written with the
    /// charge's settlement (guarded by it) and at most once per charge.</summary>
    public static StorageCommand Fund(string tenantId, string chargeId, string accountId, long amount, DateTime at) => new("""
        WITH a AS (
            UPDATE accounts SET balance = balance + $3::bigint, updated_at = $5::timestamptz
            WHERE tenant_id = $1::text AND id = $4::text AND /*guard*/
              AND NOT EXISTS (SELECT 1 FROM ledger_entries WHERE tenant_id = $1::text AND txn_id = $2::text AND account_id = $4::text)
            RETURNING balance)
        INSERT INTO ledger_entries (tenant_id, txn_id, account_id, amount, balance_after, type, source, created_at)
        SELECT $1::text, $2::text, 'psp', -$3::bigint, NULL, 'charge', $2::text, $5::timestamptz FROM a
        UNION ALL
        SELECT $1::text, $2::text, $4::text, $3::bigint, a.balance, 'charge', $2::text, $5::timestamptz FROM a
        """, tenantId, chargeId, amount, accountId, at);

    public const string AccountInfo = "SELECT customer_id, currency, created_at FROM accounts WHERE tenant_id = $1 AND id = $2";

    /// <summary>
    /// A transfer's first half, on the payer's account: when the transfer is new and the balance covers it, the
    /// amount goes from the account to transit (two entries, one ledger transaction) and the transfer is recorded
    /// <c>pending</c>; when the balance does not cover it, the transfer is recorded <c>failed</c> (insufficient_funds)
    /// and nothing moves. Answers the status recorded and the balance after, or no status when the transfer existed
    /// already (nothing written). Two debits of one transfer racing in two transactions: the second's insert waits for
    /// the first and fails on the key, and its whole transaction with it.
    /// Parameters: tenant, transfer, from, to, amount, currency, description, fingerprint, time.
    /// </summary>
    public const string Debit = """
        WITH a AS (
            UPDATE accounts SET balance = balance - $5::bigint, updated_at = $9::timestamptz
            WHERE tenant_id = $1::text AND id = $3::text AND balance >= $5::bigint
              AND NOT EXISTS (SELECT 1 FROM transfers WHERE tenant_id = $1::text AND id = $2::text)
            RETURNING balance),
        t AS (
            INSERT INTO transfers (tenant_id, id, from_account, to_account, amount, currency, description, status, failure_code,
                                   fingerprint, created_at, updated_at)
            SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::text, $7::text,
                   CASE WHEN EXISTS (SELECT 1 FROM a) THEN 'pending' ELSE 'failed' END,
                   CASE WHEN EXISTS (SELECT 1 FROM a) THEN NULL ELSE 'insufficient_funds' END,
                   $8::text, $9::timestamptz, $9::timestamptz
            WHERE NOT EXISTS (SELECT 1 FROM transfers WHERE tenant_id = $1::text AND id = $2::text)
            RETURNING status),
        e AS (
            INSERT INTO ledger_entries (tenant_id, txn_id, account_id, amount, balance_after, type, source, created_at)
            SELECT $1::text, $2::text || ':debit', $3::text, -$5::bigint, a.balance, 'transfer', $2::text, $9::timestamptz FROM a
            UNION ALL
            SELECT $1::text, $2::text || ':debit', 'transit', $5::bigint, NULL, 'transfer', $2::text, $9::timestamptz FROM a)
        SELECT (SELECT status FROM t), (SELECT balance FROM a)
        """;

    /// <summary>
    /// A transfer's second half, on the payee's account: only while the transfer is <c>pending</c> to this account with
    /// this amount, the amount goes from transit to the account (one ledger transaction), the transfer becomes
    /// <c>succeeded</c> and its event is written (queued for the audit chain). Answers the balance after, or nothing
    /// when there was nothing to credit (done before). Parameters: tenant, transfer, to, amount, time, event id, payload.
    /// </summary>
    public const string Credit = """
        WITH t AS (
            UPDATE transfers SET status = 'succeeded', updated_at = $5::timestamptz
            WHERE tenant_id = $1::text AND id = $2::text AND to_account = $3::text AND amount = $4::bigint AND status = 'pending'
              AND EXISTS (SELECT 1 FROM accounts WHERE tenant_id = $1::text AND id = $3::text)
            RETURNING id),
        a AS (
            UPDATE accounts SET balance = balance + $4::bigint, updated_at = $5::timestamptz
            WHERE tenant_id = $1::text AND id = $3::text AND EXISTS (SELECT 1 FROM t)
            RETURNING balance),
        e AS (
            INSERT INTO ledger_entries (tenant_id, txn_id, account_id, amount, balance_after, type, source, created_at)
            SELECT $1::text, $2::text || ':credit', 'transit', -$4::bigint, NULL, 'transfer', $2::text, $5::timestamptz FROM a
            UNION ALL
            SELECT $1::text, $2::text || ':credit', $3::text, $4::bigint, a.balance, 'transfer', $2::text, $5::timestamptz FROM a),
        ev AS (
            INSERT INTO events (event_id, tenant_id, charge_id, type, created_at, payload)
            SELECT $6::text, $1::text, $2::text, 'transfer.succeeded', $5::timestamptz, $7::json FROM a
            RETURNING tenant_id, id),
        q AS (
            INSERT INTO audit_pending (tenant_id, event_pk) SELECT tenant_id, id FROM ev)
        SELECT balance FROM a
        """;

    private const string TransferColumns = "id, from_account, to_account, amount, currency, description, status, failure_code, created_at";

    /// <summary>One transfer with its fingerprint (the last column).</summary>
    public const string TransferById = $"SELECT {TransferColumns}, fingerprint FROM transfers WHERE tenant_id = $1 AND id = $2";

    /// <summary>Transfers pending longer than <c>$1</c>, oldest first, at most <c>$2</c> (the partial index
    /// <c>transfers_pending</c>), with their tenant (the last column).</summary>
    public const string PendingTransfers = $"""
        SELECT {TransferColumns}, tenant_id FROM transfers
        WHERE status = 'pending' AND updated_at < now() - $1::interval ORDER BY updated_at LIMIT $2
        """;

    /// <summary>A transfer row, its columns as <see cref="TransferColumns"/> lists them, from <paramref name="first"/>.</summary>
    public static Transfer ReadTransfer(Npgsql.NpgsqlDataReader r, int first = 0) => new()
    {
        Id = r.GetString(first),
        From = r.GetString(first + 1),
        To = r.GetString(first + 2),
        Amount = r.GetInt64(first + 3),
        Currency = r.GetString(first + 4),
        Description = r.IsDBNull(first + 5) ? null : r.GetString(first + 5),
        Status = r.GetString(first + 6),
        FailureCode = r.IsDBNull(first + 7) ? null : r.GetString(first + 7),
        CreatedAt = r.GetDateTime(first + 8),
    };
}
