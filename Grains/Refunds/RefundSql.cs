using FinCore.Persistence;
using Npgsql;

namespace FinCore.Grains.Refunds;

/// <summary>The refunds' statements. A charge grain writes them with its own state (guarded by its row): a refund's
/// row, the charge's amount_refunded and, for a charge that funded an account, the refund's ledger transactions change
/// in one transaction.</summary>
internal static class RefundSql
{
    public static StorageCommand Insert(string tenantId, Refund r, string fingerprint) => new("""
        INSERT INTO refunds (tenant_id, id, charge_id, amount, currency, account, status, failure_code, psp_reference, fingerprint, created_at, updated_at)
        SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, $7::text, NULL, NULL, $8::text, $9::timestamptz, $9::timestamptz
        WHERE /*guard*/
        """, tenantId, r.Id, r.Charge, r.Amount, r.Currency, r.Account, r.Status, fingerprint, r.CreatedAt);

    /// <summary>A pending refund's final status (a settled refund is never changed again).</summary>
    public static StorageCommand Settle(string tenantId, Refund r) => new("""
        UPDATE refunds SET status = $3::text, failure_code = $4::text, psp_reference = $5::text, updated_at = $6::timestamptz
        WHERE tenant_id = $1::text AND id = $2::text AND status = 'pending' AND /*guard*/
        """, tenantId, r.Id, r.Status, r.FailureCode, r.PspReference, r.UpdatedAt);

    /// <summary>A new refund's debit of the account its charge funded: from the account to transit (the account's CHECK
    /// refuses a balance below zero, and the whole write with it), at most once per refund.</summary>
    public static StorageCommand Debit(string tenantId, Refund r) => new("""
        WITH a AS (
            UPDATE accounts SET balance = balance - $4::bigint, updated_at = $5::timestamptz
            WHERE tenant_id = $1::text AND id = $3::text AND /*guard*/
            RETURNING balance)
        INSERT INTO ledger_entries (tenant_id, txn_id, account_id, amount, balance_after, type, source, created_at)
        SELECT $1::text, $2::text || ':debit', $3::text, -$4::bigint, a.balance, 'refund', $2::text, $5::timestamptz FROM a
        UNION ALL
        SELECT $1::text, $2::text || ':debit', 'transit', $4::bigint, NULL, 'refund', $2::text, $5::timestamptz FROM a
        """, tenantId, r.Id, r.Account, r.Amount, r.UpdatedAt);

    /// <summary>A settled refund's second ledger transaction: the PSP refunded it, transit to the PSP; it failed, transit
    /// back to the account.</summary>
    public static StorageCommand Release(string tenantId, Refund r) => r.Status == "succeeded"
        ? new("""
            INSERT INTO ledger_entries (tenant_id, txn_id, account_id, amount, balance_after, type, source, created_at)
            SELECT $1::text, $2::text || ':settle', 'transit', -$3::bigint, NULL::bigint, 'refund', $2::text, $4::timestamptz WHERE /*guard*/
            UNION ALL
            SELECT $1::text, $2::text || ':settle', 'psp', $3::bigint, NULL::bigint, 'refund', $2::text, $4::timestamptz WHERE /*guard*/
            """, tenantId, r.Id, r.Amount, r.UpdatedAt)
        : new("""
            WITH a AS (
                UPDATE accounts SET balance = balance + $4::bigint, updated_at = $5::timestamptz
                WHERE tenant_id = $1::text AND id = $3::text AND /*guard*/
                RETURNING balance)
            INSERT INTO ledger_entries (tenant_id, txn_id, account_id, amount, balance_after, type, source, created_at)
            SELECT $1::text, $2::text || ':reverse', 'transit', -$4::bigint, NULL, 'refund', $2::text, $5::timestamptz FROM a
            UNION ALL
            SELECT $1::text, $2::text || ':reverse', $3::text, $4::bigint, a.balance, 'refund', $2::text, $5::timestamptz FROM a
            """, tenantId, r.Id, r.Account, r.Amount, r.UpdatedAt);

    private const string Columns = "id, charge_id, amount, currency, account, status, failure_code, psp_reference, created_at, updated_at";

    /// <summary>A charge's refunds, oldest first, each with its fingerprint (the last column).</summary>
    public const string ByCharge = $"SELECT {Columns}, fingerprint FROM refunds WHERE tenant_id = $1 AND charge_id = $2 ORDER BY created_at, id";

    /// <summary>One refund with its fingerprint (the last column).</summary>
    public const string ById = $"SELECT {Columns}, fingerprint FROM refunds WHERE tenant_id = $1 AND id = $2";

    /// <summary>Refunds pending longer than <c>$1</c>, oldest first, at most <c>$2</c> (the partial index
    /// <c>refunds_pending</c>), with their tenant (the column after the fingerprint).</summary>
    public const string Pending = $"""
        SELECT {Columns}, fingerprint, tenant_id FROM refunds
        WHERE status = 'pending' AND updated_at < now() - $1::interval ORDER BY updated_at LIMIT $2
        """;

    /// <summary>A refund row, its columns as <see cref="Columns"/> lists them.</summary>
    public static Refund Read(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        Charge = r.GetString(1),
        Amount = r.GetInt64(2),
        Currency = r.GetString(3).TrimEnd(),
        Account = r.IsDBNull(4) ? null : r.GetString(4),
        Status = r.GetString(5),
        FailureCode = r.IsDBNull(6) ? null : r.GetString(6),
        PspReference = r.IsDBNull(7) ? null : r.GetString(7),
        CreatedAt = r.GetDateTime(8),
        UpdatedAt = r.GetDateTime(9),
    };
}
