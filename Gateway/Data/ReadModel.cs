using System.Text;
using System.Text.Json;
using FinCore.Grains;
using FinCore.Persistence;
using Npgsql;

namespace FinCore.Gateway.Data;

/// <summary>Queries over many charges go to PostgreSQL (the read model and the events table), never fan out to
/// grains. Every query is scoped by the tenant of the caller's key.</summary>
internal sealed class ReadModel(Database database)
{
    private const string ChargeColumns = """
        id, amount, currency, status, payment_method, description, customer, metadata::text, attempts, psp_reference,
        failure_code, failure_message, risk_score, risk_decision, created_at, updated_at, account, amount_refunded
        """;

    private NpgsqlDataSource Db => database.DataSource;

    public sealed record ListFilter(int Limit, string? StartingAfter, string? Status, DateTime? CreatedGte, DateTime? CreatedLt);

    /// <summary>Newest first; null when <c>starting_after</c> names no charge of this tenant.</summary>
    public async Task<(List<Charge> Data, bool HasMore)?> ListChargesAsync(string tenant, ListFilter f, CancellationToken ct)
    {
        var sql = new StringBuilder($"SELECT {ChargeColumns} FROM charges c WHERE tenant_id = $1");
        await using var cmd = Db.CreateCommand();
        cmd.Parameters.AddWithValue(tenant);
        if (f.StartingAfter is not null)
        {
            cmd.Parameters.AddWithValue(f.StartingAfter);
            var p = cmd.Parameters.Count;
            await using (var exists = Db.CreateCommand("SELECT 1 FROM charges WHERE tenant_id = $1 AND id = $2"))
            {
                exists.Parameters.AddWithValue(tenant);
                exists.Parameters.AddWithValue(f.StartingAfter);
                if (await exists.ExecuteScalarAsync(ct) is null)
                {
                    return null;
                }
            }

            sql.Append($" AND (created_at, id) < (SELECT created_at, id FROM charges WHERE tenant_id = $1 AND id = ${p})");
        }

        if (f.Status is not null)
        {
            cmd.Parameters.AddWithValue(f.Status);
            sql.Append($" AND status = ${cmd.Parameters.Count}");
        }

        if (f.CreatedGte is { } gte)
        {
            cmd.Parameters.AddWithValue(gte);
            sql.Append($" AND created_at >= ${cmd.Parameters.Count}");
        }

        if (f.CreatedLt is { } lt)
        {
            cmd.Parameters.AddWithValue(lt);
            sql.Append($" AND created_at < ${cmd.Parameters.Count}");
        }

        cmd.Parameters.AddWithValue(f.Limit + 1);
        sql.Append($" ORDER BY created_at DESC, id DESC LIMIT ${cmd.Parameters.Count}");
        cmd.CommandText = sql.ToString();
        var rows = new List<Charge>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(ReadCharge(r));
        }

        var hasMore = rows.Count > f.Limit;
        return (hasMore ? rows[..f.Limit] : rows, hasMore);
    }

    public sealed record EventEntry(string Id, string Type, DateTime CreatedAt, long? Sequence, JsonElement Charge);

    /// <summary>The charge's audit trail, oldest first; empty when the charge is not this tenant's.</summary>
    public async Task<List<EventEntry>> ChargeEventsAsync(string tenant, string chargeId, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("""
            SELECT e.event_id, e.type, e.created_at, c.seq, e.payload::text
            FROM events e LEFT JOIN audit_chain c ON c.event_pk = e.id
            WHERE e.tenant_id = $1 AND e.charge_id = $2 ORDER BY e.id
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(chargeId);
        var list = new List<EventEntry>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new EventEntry(r.GetString(0), r.GetString(1), r.GetDateTime(2), r.IsDBNull(3) ? null : r.GetInt64(3),
                JsonDocument.Parse(r.GetString(4)).RootElement));
        }

        return list;
    }

    public sealed record SummaryRow(string Status, DateOnly Day, long Count, long Amount);

    public async Task<List<SummaryRow>> SummaryAsync(string tenant, DateTime from, DateTime to, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("""
            SELECT status, (created_at AT TIME ZONE 'UTC')::date AS day, count(*), coalesce(sum(amount), 0)::bigint
            FROM charges WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
            GROUP BY status, day ORDER BY day, status
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(from);
        cmd.Parameters.AddWithValue(to);
        var rows = new List<SummaryRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new SummaryRow(r.GetString(0), DateOnly.FromDateTime(r.GetDateTime(1)), r.GetInt64(2), r.GetInt64(3)));
        }

        return rows;
    }

    /// <summary>Transfers and refunds per kind, status and day (UTC), from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public async Task<List<(string Kind, SummaryRow Row)>> MoneyMovementAsync(string tenant, DateTime from, DateTime to, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("""
            SELECT 'transfers', status, (created_at AT TIME ZONE 'UTC')::date AS day, count(*), coalesce(sum(amount), 0)::bigint
            FROM transfers WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY status, day
            UNION ALL
            SELECT 'refunds', status, (created_at AT TIME ZONE 'UTC')::date AS day, count(*), coalesce(sum(amount), 0)::bigint
            FROM refunds WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY status, day
            ORDER BY 1, 3, 2
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(from);
        cmd.Parameters.AddWithValue(to);
        var rows = new List<(string, SummaryRow)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add((r.GetString(0), new SummaryRow(r.GetString(1), DateOnly.FromDateTime(r.GetDateTime(2)), r.GetInt64(3), r.GetInt64(4))));
        }

        return rows;
    }

    /// <summary>Streams one CSV line per charge, oldest first.</summary>
    public async Task WriteStatementAsync(string tenant, DateTime from, DateTime to, Stream output, CancellationToken ct)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 16 * 1024, leaveOpen: true);
        await writer.WriteAsync("id,created_at,amount,currency,status,customer,payment_method,description,failure_code,amount_refunded\n");
        await using var cmd = Db.CreateCommand($"""
            SELECT {ChargeColumns} FROM charges WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(from);
        cmd.Parameters.AddWithValue(to);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var c = ReadCharge(r);
            await writer.WriteAsync(string.Join(',', Csv(c.Id), Csv(ApiJson.Time(c.CreatedAt)),
                c.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), Csv(c.Currency), Csv(c.Status), Csv(c.Customer),
                Csv(c.PaymentMethod), Csv(c.Description), Csv(c.FailureCode),
                c.AmountRefunded.ToString(System.Globalization.CultureInfo.InvariantCulture)) + "\n");
        }
    }

    public sealed record AuditVerdict(bool Ok, long Entries, long? BrokenAtSeq, string? BrokenEventId, long Pending);

    /// <summary>Recomputes the tenant's hash chain from the start; reports the first entry that does not fit.</summary>
    public async Task<AuditVerdict> VerifyAuditAsync(string tenant, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("""
            SELECT c.seq, e.event_id, e.charge_id, e.type, e.created_at, e.payload::text, c.prev_hash, c.hash, e.tenant_id
            FROM audit_chain c LEFT JOIN events e ON e.id = c.event_pk
            WHERE c.tenant_id = $1 ORDER BY c.seq
            """);
        cmd.Parameters.AddWithValue(tenant);
        var previous = AuditChain.Genesis;
        long entries = 0;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                // An entry whose event is gone or was moved to another tenant is broken like one whose content changed.
                var seq = r.GetInt64(0);
                var eventId = r.IsDBNull(1) ? null : r.GetString(1);
                if (eventId is null || r.GetString(8) != tenant || seq != entries + 1 || !r.GetFieldValue<byte[]>(6).AsSpan().SequenceEqual(previous))
                {
                    return new AuditVerdict(false, entries, seq, eventId, 0);
                }

                var expected = AuditChain.Next(previous, AuditChain.Canonical(seq, eventId, tenant, r.GetString(2), r.GetString(3), r.GetDateTime(4), r.GetString(5)));
                if (!r.GetFieldValue<byte[]>(7).AsSpan().SequenceEqual(expected))
                {
                    return new AuditVerdict(false, entries, seq, eventId, 0);
                }

                previous = expected;
                entries++;
            }
        }

        await using var pending = Db.CreateCommand("SELECT count(*) FROM audit_pending WHERE tenant_id = $1");
        pending.Parameters.AddWithValue(tenant);
        return new AuditVerdict(true, entries, null, null, (long)(await pending.ExecuteScalarAsync(ct))!);
    }

    public async Task<string?> TenantOfChargeAsync(string chargeId, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("SELECT tenant_id FROM charges WHERE id = $1 LIMIT 1");
        cmd.Parameters.AddWithValue(chargeId);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    public sealed record DeadLetterRow(string TenantId, string ChargeId, long Amount, string Currency, int Attempts, string? LastError, DateTime At);

    public async Task<List<DeadLetterRow>> DeadLettersAsync(int limit, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand(
            "SELECT tenant_id, id, amount, currency, attempts, failure_message, updated_at FROM charges WHERE status = 'dead_lettered' ORDER BY updated_at DESC LIMIT $1");
        cmd.Parameters.AddWithValue(limit);
        var rows = new List<DeadLetterRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new DeadLetterRow(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetInt32(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetDateTime(6)));
        }

        return rows;
    }

    public async Task<bool> TenantExistsAsync(string tenant, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("SELECT 1 FROM tenants WHERE id = $1");
        cmd.Parameters.AddWithValue(tenant);
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    private static Charge ReadCharge(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        Amount = r.GetInt64(1),
        Currency = r.GetString(2),
        Status = r.GetString(3),
        PaymentMethod = r.GetString(4),
        Description = r.IsDBNull(5) ? null : r.GetString(5),
        Customer = r.IsDBNull(6) ? null : r.GetString(6),
        Metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(7)) ?? [],
        Attempts = r.GetInt32(8),
        PspReference = r.IsDBNull(9) ? null : r.GetString(9),
        FailureCode = r.IsDBNull(10) ? null : r.GetString(10),
        FailureMessage = r.IsDBNull(11) ? null : r.GetString(11),
        Risk = new RiskAssessment(r.GetInt32(12), r.GetString(13)),
        CreatedAt = r.GetDateTime(14),
        UpdatedAt = r.GetDateTime(15),
        Account = r.IsDBNull(16) ? null : r.GetString(16),
        AmountRefunded = r.GetInt64(17),
    };

    private static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        // Quote when needed; a leading formula character is neutralised so spreadsheets do not execute it.
        var v = value[0] is '=' or '+' or '-' or '@' ? "'" + value : value;
        return v.IndexOfAny([',', '"', '\n', '\r']) >= 0 || v != value ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v;
    }
}
