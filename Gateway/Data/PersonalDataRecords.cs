using System.Text.Json.Nodes;
using FinCore.Persistence;

namespace FinCore.Gateway.Data;

/// <summary>
/// What FinCore stores about a person, for the export LGPD gives them a right to (<c>GET /v1/customers/{id}/export</c>),
/// and the log of who read their personal data outside the tenant's own API (<c>personal_data_access</c>): every operator
/// read and every export is written there before the data is answered.
/// </summary>
internal sealed class PersonalDataRecords(Database database)
{
    /// <summary>One section of the export per query: each answers a JSON array, oldest first.</summary>
    private static readonly (string Name, string Sql)[] Sections =
    [
        ("ledger_entries", """
            SELECT coalesce(json_agg(json_build_object('id', 'le_' || e.id, 'amount', e.amount, 'balance_after', e.balance_after, 'type', e.type,
                'source', e.source, 'created_at', e.created_at) ORDER BY e.id), '[]')
            FROM ledger_entries e WHERE e.tenant_id = $1 AND e.account_id = $3
            """),
        ("transfers", """
            SELECT coalesce(json_agg(json_build_object('id', t.id, 'from', t.from_account, 'to', t.to_account, 'amount', t.amount, 'currency', trim(t.currency),
                'description', t.description, 'status', t.status, 'failure_code', t.failure_code, 'created_at', t.created_at) ORDER BY t.created_at, t.id), '[]')
            FROM transfers t WHERE t.tenant_id = $1 AND (t.from_account = $3 OR t.to_account = $3)
            """),
        ("charges", """
            SELECT coalesce(json_agg(json_build_object('id', c.id, 'amount', c.amount, 'currency', trim(c.currency), 'status', c.status,
                'description', c.description, 'payment_method', c.payment_method, 'metadata', c.metadata, 'created_at', c.created_at) ORDER BY c.created_at, c.id), '[]')
            FROM charges c WHERE c.tenant_id = $1 AND c.customer = $2
            """),
        ("refunds", """
            SELECT coalesce(json_agg(json_build_object('id', r.id, 'charge', r.charge_id, 'amount', r.amount, 'currency', trim(r.currency), 'status', r.status,
                'created_at', r.created_at) ORDER BY r.created_at, r.id), '[]')
            FROM refunds r WHERE r.tenant_id = $1 AND (r.account = $3 OR r.charge_id IN (SELECT id FROM charges WHERE tenant_id = $1 AND customer = $2))
            """),
        ("notifications", """
            SELECT coalesce(json_agg(json_build_object('id', n.id, 'channel', n.channel, 'kind', n.kind, 'source', n.source, 'amount', n.amount,
                'currency', trim(n.currency), 'status', n.status, 'attempts', n.attempts, 'occurred_at', n.occurred_at, 'created_at', n.created_at,
                'sent_at', n.sent_at) ORDER BY n.created_at, n.id), '[]')
            FROM notifications n WHERE n.tenant_id = $1 AND n.customer_id = $2
            """),
        ("session_tokens", """
            SELECT coalesce(json_agg(json_build_object('id', s.id, 'created_at', s.created_at, 'expires_at', s.expires_at, 'revoked_at', s.revoked_at)
                ORDER BY s.created_at, s.id), '[]')
            FROM customer_session_tokens s WHERE s.tenant_id = $1 AND s.customer_id = $2
            """),
        ("personal_data_access", """
            SELECT coalesce(json_agg(json_build_object('actor', a.actor, 'action', a.action, 'reason', a.reason, 'request_id', a.request_id, 'at', a.at)
                ORDER BY a.id), '[]')
            FROM personal_data_access a WHERE a.tenant_id = $1 AND a.customer_id = $2
            """),
    ];

    /// <summary>Writes who read the customer's personal data, and why, before it is answered.</summary>
    public async Task RecordAsync(string tenant, string customer, string actor, string action, string? reason, string requestId, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand("""
            INSERT INTO personal_data_access (tenant_id, customer_id, actor, action, reason, request_id, at) VALUES ($1, $2, $3, $4, $5, $6, now())
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(customer);
        cmd.Parameters.AddWithValue(actor);
        cmd.Parameters.AddWithValue(action);
        cmd.Parameters.AddWithValue((object?)reason ?? DBNull.Value);
        cmd.Parameters.AddWithValue(requestId);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The records that name the customer or their account, section by section.</summary>
    public async Task<JsonObject> ExportAsync(string tenant, string customer, string account, CancellationToken ct)
    {
        var export = new JsonObject();
        await using var batch = database.DataSource.CreateBatch();
        foreach (var (_, sql) in Sections)
        {
            batch.BatchCommands.Add(Database.Statement(sql, tenant, customer, account));
        }

        await using var r = await batch.ExecuteReaderAsync(ct);
        foreach (var (name, _) in Sections)
        {
            await r.ReadAsync(ct);
            export[name] = JsonNode.Parse(r.GetString(0));
            await r.NextResultAsync(ct);
        }

        return export;
    }

    /// <summary>The access log, newest first: of one tenant, or of one of its customers.</summary>
    public async Task<List<object>> AccessesAsync(string tenant, string? customer, int limit, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand(customer is null
            ? "SELECT customer_id, actor, action, reason, request_id, at FROM personal_data_access WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
            : "SELECT customer_id, actor, action, reason, request_id, at FROM personal_data_access WHERE tenant_id = $1 AND customer_id = $3 ORDER BY id DESC LIMIT $2");
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(limit);
        if (customer is not null)
        {
            cmd.Parameters.AddWithValue(customer);
        }

        var rows = new List<object>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new
            {
                @object = "personal_data_access",
                tenant,
                customer = r.GetString(0),
                actor = r.GetString(1),
                action = r.GetString(2),
                reason = r.IsDBNull(3) ? null : r.GetString(3),
                request_id = r.GetString(4),
                at = r.GetDateTime(5),
            });
        }

        return rows;
    }
}
