namespace FinCore.Grains.Notifications;

/// <summary>The notifier's statements (<see cref="NotificationGrain"/>).</summary>
internal static class NotificationSql
{
    /// <summary>The recipient id of a tenant's security contact (<see cref="Tenants.TenantGrain.ContactSubject"/>).</summary>
    private const string Contact = Tenants.TenantGrain.ContactSubject;

    public const string Cursor = "SELECT seq FROM notification_cursors WHERE tenant_id = $1";

    public const string TenantCurrency = "SELECT currency FROM tenants WHERE id = $1";

    /// <summary>
    /// The tenant's sealed events after <c>$2</c>, at most <c>$3</c>, in chain order, each with the recipients it
    /// notifies (none: a row with nulls): a transfer its payer's and payee's customers, a refund the customer of the
    /// account it debits or of its charge, a charge the customer it names, a security event the tenant's contact
    /// (<c>@contact</c>, when it has one; by email only). Columns: seq, event id, kind, source, amount,
    /// currency, customer id, whether the customer takes email, whether they take push, when the event happened.
    /// </summary>
    public const string EventsAfter = $"""
        WITH ev AS (
            SELECT c.seq, e.event_id, e.type, e.payload, e.created_at FROM audit_chain c JOIN events e ON e.id = c.event_pk
            WHERE c.tenant_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3)
        SELECT ev.seq, ev.event_id, r.kind, ev.payload->>'id', coalesce((ev.payload->>'amount')::bigint, 0), coalesce(ev.payload->>'currency', t.currency),
               coalesce(c.id, CASE WHEN r.customer = '{Contact}' AND t.contact_sealed IS NOT NULL THEN r.customer END),
               coalesce(c.notify_email, true), coalesce(c.notify_push AND r.customer IS DISTINCT FROM '{Contact}', false), ev.created_at
        FROM ev
        JOIN tenants t ON t.id = $1
        LEFT JOIN LATERAL (
            SELECT 'transfer.sent' AS kind, ev.payload->>'from' AS account, NULL::text AS customer WHERE ev.type = 'transfer.succeeded'
            UNION ALL
            SELECT 'transfer.received', ev.payload->>'to', NULL WHERE ev.type = 'transfer.succeeded'
            UNION ALL
            SELECT 'refund.succeeded', ev.payload->>'account',
                   (SELECT ch.customer FROM charges ch WHERE ch.tenant_id = $1 AND ch.id = ev.payload->>'charge')
            WHERE ev.type = 'refund.succeeded'
            UNION ALL
            SELECT ev.type, NULL, ev.payload->>'customer' WHERE ev.type IN ('charge.succeeded', 'charge.failed')
            UNION ALL
            SELECT ev.type, NULL, '{Contact}' WHERE ev.type LIKE 'security.%'
        ) r ON true
        LEFT JOIN customers c ON c.tenant_id = $1
            AND c.id = COALESCE((SELECT a.customer_id FROM accounts a WHERE a.tenant_id = $1 AND a.id = r.account), r.customer)
        ORDER BY ev.seq
        """;

    /// <summary>One notification, made once (its id is derived from its event, kind and channel). Parameters: tenant, id,
    /// customer, channel, kind, event id, source, amount, currency, status, time, the event's seq in the chain, when the event happened.</summary>
    public const string Insert = """
        INSERT INTO notifications (tenant_id, id, customer_id, channel, kind, event_id, source, amount, currency, status, next_at, created_at, updated_at, seq, occurred_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11, $12, $13)
        ON CONFLICT DO NOTHING
        """;

    /// <summary>Tells the gateways of a queued push notification (<see cref="PushNotifications.Channel"/>), when it commits.</summary>
    public const string NotifyPush = "SELECT pg_notify('" + PushNotifications.Channel + "', $1)";

    public const string AdvanceCursor = """
        INSERT INTO notification_cursors (tenant_id, seq) VALUES ($1, $2)
        ON CONFLICT (tenant_id) DO UPDATE SET seq = GREATEST(notification_cursors.seq, EXCLUDED.seq)
        """;

    /// <summary>Pending notifications due now, with their customer's personal data as it is now (sealed; plaintext if
    /// stored before encryption). An erased customer, or one who turned email off since, is skipped: see <see cref="Skip"/>.</summary>
    public const string Due = $"""
        SELECT n.id, n.kind, n.source, n.amount, n.currency, n.attempts, n.created_at, c.email, c.name,
               coalesce(c.notify_email, t.contact_sealed IS NOT NULL), coalesce(c.id, CASE WHEN t.contact_sealed IS NOT NULL THEN n.customer_id END),
               coalesce(c.sealed, t.contact_sealed), n.occurred_at
        FROM notifications n
        LEFT JOIN customers c ON c.tenant_id = n.tenant_id AND c.id = n.customer_id AND c.erased_at IS NULL
        LEFT JOIN tenants t ON n.customer_id = '{Contact}' AND t.id = n.tenant_id
        WHERE n.tenant_id = $1 AND n.status = 'pending' AND n.channel = 'email' AND n.next_at <= now()
        ORDER BY n.next_at LIMIT $2
        """;

    /// <summary>When the next pending notification is due (null: none is pending).</summary>
    public const string NextDue = "SELECT min(next_at) FROM notifications WHERE tenant_id = $1 AND status = 'pending' AND channel = 'email'";

    /// <summary>An attempt's outcome: the row, and the attempt in the delivery log. Parameters: tenant, id, status,
    /// next attempt, error, sent at, ok, time.</summary>
    public const string Attempted = """
        WITH n AS (
            UPDATE notifications SET status = $3, attempts = attempts + 1, next_at = $4, last_error = $5, sent_at = $6, updated_at = $8
            WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
            RETURNING attempts)
        INSERT INTO notification_attempts (tenant_id, notification_id, attempt, at, ok, error)
        SELECT $1, $2, attempts, $8, $7, $5 FROM n
        """;

    /// <summary>A pending notification that is not to be sent any more (no such customer, or email turned off).</summary>
    public const string Skip = """
        UPDATE notifications SET status = 'skipped', last_error = $3, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
        """;
}
