using System.Text.Json;
using FinCore.Persistence;

namespace FinCore.Grains.Storage;

/// <summary>Statements the payment grains commit together with their state (all guarded: a stale activation writes
/// none of them).</summary>
internal static class PaymentsSql
{
    public static StorageCommand UpsertCharge(string tenantId, Charge c) => new("""
        INSERT INTO charges (tenant_id, id, amount, currency, status, payment_method, description, customer, metadata,
                             attempts, psp_reference, failure_code, failure_message, risk_score, risk_decision, created_at, updated_at,
                             amount_refunded)
        SELECT $1::text, $2::text, $3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text, $9::json,
               $10::integer, $11::text, $12::text, $13::text, $14::integer, $15::text, $16::timestamptz, $17::timestamptz,
               $18::bigint
        WHERE /*guard*/
        ON CONFLICT (id) DO UPDATE SET
            status = EXCLUDED.status, attempts = EXCLUDED.attempts, psp_reference = EXCLUDED.psp_reference,
            failure_code = EXCLUDED.failure_code, failure_message = EXCLUDED.failure_message, updated_at = EXCLUDED.updated_at,
            amount_refunded = EXCLUDED.amount_refunded
        WHERE charges.tenant_id = EXCLUDED.tenant_id
        """, tenantId, c.Id, c.Amount, c.Currency, c.Status, c.PaymentMethod, c.Description, c.Customer,
        JsonSerializer.Serialize(c.Metadata), c.Attempts, c.PspReference, c.FailureCode, c.FailureMessage,
        c.Risk.Score, c.Risk.Decision, c.CreatedAt, c.UpdatedAt, c.AmountRefunded);

    /// <summary>A status change of a charge whose row exists (written with its creation): a plain UPDATE, cheaper for
    /// PostgreSQL than the upsert's speculative insert.</summary>
    public static StorageCommand UpdateCharge(string tenantId, Charge c) => new("""
        UPDATE charges SET status = $3::text, attempts = $4::integer, psp_reference = $5::text, failure_code = $6::text,
                           failure_message = $7::text, updated_at = $8::timestamptz, amount_refunded = $9::bigint
        WHERE tenant_id = $1::text AND id = $2::text AND /*guard*/
        """, tenantId, c.Id, c.Status, c.Attempts, c.PspReference, c.FailureCode, c.FailureMessage, c.UpdatedAt, c.AmountRefunded);

    /// <summary>A charge's events, in order, each queued for the tenant's audit chain in the same statement.</summary>
    public static StorageCommand InsertEvents(string tenantId, string chargeId, DateTime at, string[] types, string[] payloads)
    {
        var ids = new string[types.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = Ids.New("evt_");
        }

        return new("""
            WITH e AS (
                INSERT INTO events (event_id, tenant_id, charge_id, type, created_at, payload)
                SELECT u.event_id, $1::text, $2::text, u.type, $3::timestamptz, u.payload::json
                FROM unnest($4::text[], $5::text[], $6::text[]) AS u(event_id, type, payload) WHERE /*guard*/
                RETURNING tenant_id, id)
            INSERT INTO audit_pending (tenant_id, event_pk) SELECT tenant_id, id FROM e
            """, tenantId, chargeId, at, ids, types, payloads);
    }

    public static StorageCommand InsertTenant(string id, string name, string currency, TenantLimits l, DateTime at) => new("""
        INSERT INTO tenants (id, name, currency, max_amount, requests_per_second, velocity_customer, velocity_payment_method, created_at)
        SELECT $1::text, $2::text, $3::text, $4::bigint, $5::integer, $6::integer, $7::integer, $8::timestamptz WHERE /*guard*/
        ON CONFLICT (id) DO NOTHING
        """, id, name, currency, l.MaxAmount, l.RequestsPerSecond, l.VelocityPerCustomer, l.VelocityPerPaymentMethod, at);

    public static StorageCommand InsertApiKey(string tenantId, string keyId, byte[] hash, DateTime at) => new("""
        INSERT INTO api_keys (key_hash, key_id, tenant_id, created_at)
        SELECT $1::bytea, $2::text, $3::text, $4::timestamptz WHERE /*guard*/
        ON CONFLICT (key_hash) DO NOTHING
        """, hash, keyId, tenantId, at);

    public static StorageCommand RevokeApiKey(string tenantId, string keyId, DateTime at) => new("""
        UPDATE api_keys SET revoked_at = $3::timestamptz
        WHERE tenant_id = $1::text AND key_id = $2::text AND revoked_at IS NULL AND /*guard*/
        """, tenantId, keyId, at);

    /// <summary>A security event of the tenant (<c>security.*</c>), queued for its audit chain; its notifier alerts the
    /// tenant's contact. Webhooks do not carry these. <paramref name="subject"/> is what it is about (a key id, "webhook").</summary>
    public static StorageCommand SecurityEvent(string tenantId, string subject, string type, string payload, DateTime at) => new("""
        WITH e AS (
            INSERT INTO events (event_id, tenant_id, charge_id, type, created_at, payload)
            SELECT $1::text, $2::text, $3::text, $4::text, $5::timestamptz, $6::json WHERE /*guard*/
            RETURNING tenant_id, id)
        INSERT INTO audit_pending (tenant_id, event_pk) SELECT tenant_id, id FROM e
        """, Ids.New("evt_"), tenantId, subject, type, at, payload);

    public static StorageCommand SetContact(string tenantId, byte[]? contactSealed) => new("""
        UPDATE tenants SET contact_sealed = $2::bytea WHERE id = $1::text AND /*guard*/
        """, tenantId, contactSealed);

    public static StorageCommand SetWebhook(string tenantId, string url, string secret) => new("""
        UPDATE tenants SET webhook_url = $2::text, webhook_secret = $3::text, webhook_since = now(),
            webhook_from_seq = (SELECT coalesce(max(seq), 0) FROM audit_chain WHERE tenant_id = $1::text)
        WHERE id = $1::text AND /*guard*/
        """, tenantId, url, secret);

    private const string WebhookColumns = """
        SELECT c.seq, e.event_id, e.charge_id, e.type, e.created_at, e.payload::text, t.webhook_url, t.webhook_secret
        FROM tenants t JOIN audit_chain c ON c.tenant_id = t.id JOIN events e ON e.id = c.event_pk
        WHERE t.id = $1 AND t.webhook_url IS NOT NULL AND e.created_at >= t.webhook_since AND e.type NOT LIKE 'security.%'
          AND e.type IN ('charge.processing', 'charge.succeeded', 'charge.failed', 'charge.canceled', 'charge.dead_lettered', 'transfer.succeeded',
                         'refund.succeeded', 'refund.failed')
        """;

    /// <summary>Sealed events a tenant's webhook carries, in chain order, after sequence <c>$2</c>. The bound is a value,
    /// not an expression over the tenant's row: with one PostgreSQL knows how few entries follow it and walks the chain
    /// in order (0.6 ms); with <c>greatest($2, t.webhook_from_seq)</c> it guessed a third of the chain and read every
    /// event (11 ms at 14,000 events).</summary>
    public const string WebhookEvents = WebhookColumns + " AND c.seq > $2::bigint ORDER BY c.seq LIMIT $3";

    /// <summary>The head of the tenant's chain when its endpoint was set: its webhook never walks the entries before.</summary>
    public const string WebhookFromSeq = "SELECT webhook_from_seq FROM tenants WHERE id = $1";

    /// <summary>The events held for another attempt, by sequence number.</summary>
    public const string WebhookEventsBySeq = WebhookColumns + " AND c.seq = ANY($2::bigint[]) ORDER BY c.seq";

    /// <summary>One round's delivery attempts (<see cref="Webhooks.DeliveryLog"/>), written with the webhook grain's state.</summary>
    public static StorageCommand LogDeliveries(string tenantId, string url, Webhooks.DeliveryLog log) => new("""
        INSERT INTO webhook_deliveries (tenant_id, event_id, event_type, url, attempt, status_code, delivered, error)
        SELECT $1::text, u.event_id, u.type, $2::text, u.attempt, u.code, u.delivered, u.error
        FROM unnest($3::text[], $4::text[], $5::integer[], $6::integer[], $7::boolean[], $8::text[])
             AS u(event_id, type, attempt, code, delivered, error)
        WHERE /*guard*/
        """, tenantId, url, log.EventIds.ToArray(), log.Types.ToArray(), log.Attempts.ToArray(), log.Codes.ToArray(),
        log.Delivered.ToArray(), log.Errors.ToArray());

    /// <summary>Charges waiting for an operator (the partial index <c>charges_dead_lettered</c>).</summary>
    public const string CountDeadLetters = "SELECT count(*) FROM charges WHERE status = 'dead_lettered'";

    /// <summary>Tenants with events waiting for the chain, whether each has a webhook endpoint, and whether its events
    /// may notify anyone (it has customers, or a security contact).</summary>
    public const string TenantsWithPending = """
        SELECT t.id, t.webhook_url IS NOT NULL, t.contact_sealed IS NOT NULL OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = t.id)
        FROM (SELECT DISTINCT tenant_id FROM audit_pending) p JOIN tenants t ON t.id = p.tenant_id
        """;

    public const string PendingEvents = """
        SELECT e.id, e.event_id, e.charge_id, e.type, e.created_at, e.payload::text
        FROM audit_pending p JOIN events e ON e.id = p.event_pk
        WHERE p.tenant_id = $1 ORDER BY p.event_pk LIMIT $2
        """;

    /// <summary>Appends entries to a tenant's chain and takes their events off the queue.</summary>
    public static StorageCommand[] Seal(string tenantId, long[] eventPks, long[] seqs, byte[][] prev, byte[][] hashes) =>
    [
        new("""
            INSERT INTO audit_chain (tenant_id, seq, event_pk, prev_hash, hash)
            SELECT $1::text, u.seq, u.pk, u.prev, u.hash
            FROM unnest($2::bigint[], $3::bigint[], $4::bytea[], $5::bytea[]) AS u(pk, seq, prev, hash) WHERE /*guard*/
            """, tenantId, eventPks, seqs, prev, hashes),
        new("""
            DELETE FROM audit_pending WHERE tenant_id = $1::text AND event_pk = ANY($2::bigint[]) AND /*guard*/
            """, tenantId, eventPks),
    ];

    /// <summary>Charges still <c>created</c> or <c>processing</c>, unchanged for longer than <c>$1</c> (a created one: past
    /// its start delay <c>$4</c> too), whose retry grain
    /// has no Orleans reminder (the attempt schedule): nothing will move them unless someone hands them over again
    /// (the partial index <c>charges_unsettled</c>; the reminders' primary key). Oldest first, at most <c>$2</c>.</summary>
    public const string StrandedCharges = """
        SELECT c.tenant_id, c.id FROM charges c
        WHERE c.status IN ('created', 'processing')
          AND c.updated_at < now() - $1::interval - CASE WHEN c.status = 'created' THEN $4::interval ELSE interval '0' END
          AND NOT EXISTS (SELECT 1 FROM orleans_reminders r
                          WHERE r.service_id = $3 AND r.grain_id = 'psp-retry/' || c.tenant_id || '/' || c.id)
        ORDER BY c.updated_at LIMIT $2
        """;

    /// <summary>Reminders FinCore's own runtime kept before Orleans (table <c>fc_reminders</c>, gone from new databases):
    /// taken once, the grains they were for told directly (charges are found by the sweep anyway).</summary>
    public const string TakeLegacyReminders = """
        DELETE FROM fc_reminders WHERE ctid IN (SELECT ctid FROM fc_reminders LIMIT $1) RETURNING grain_type, grain_key
        """;
}
