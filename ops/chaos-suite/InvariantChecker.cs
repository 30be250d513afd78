using System.Net.Http.Headers;
using System.Text.Json;
using FinCore.Grains;
using Npgsql;

namespace FinCore.Chaos;

/// <summary>
/// Checks DESIGN.md's invariants once a scenario has settled, against PostgreSQL, the API and the PSP sandbox's
/// ledger: nothing acknowledged is lost or stuck, nothing is captured twice, the ledger and the charges agree, no
/// status moved backwards (by the events, in order), the audit chain of every tenant verifies.
/// </summary>
internal static class InvariantChecker
{
    private static readonly string[] Unfinished = ["created", "processing"];

    /// <summary>Waits until every acknowledged charge is terminal or dead-lettered, or the deadline passes.</summary>
    public static async Task<double> SettleAsync(LocalCluster cluster, IReadOnlyCollection<(string Tenant, string Id)> acknowledged, DateTime lastFaultEnded, DateTime deadline)
    {
        var ids = acknowledged.Select(a => a.Id).Where(id => id.StartsWith("ch_", StringComparison.Ordinal)).ToArray();
        var tenants = acknowledged.Select(a => a.Tenant).Distinct().ToArray();
        while (true)
        {
            long unfinished;
            try
            {
                await using var conn = new NpgsqlConnection(cluster.Postgres);
                await conn.OpenAsync();
                // Charges acknowledged and not settled, and the tenants' transfers and refunds still pending.
                await using var cmd = new NpgsqlCommand("""
                    SELECT (SELECT count(*) FROM charges WHERE id = ANY(@ids) AND status = ANY(@open))
                         + (SELECT count(*) FROM transfers WHERE tenant_id = ANY(@tenants) AND status = 'pending')
                         + (SELECT count(*) FROM refunds WHERE tenant_id = ANY(@tenants) AND status = 'pending')
                    """, conn);
                cmd.Parameters.AddWithValue("ids", ids);
                cmd.Parameters.AddWithValue("tenants", tenants);
                cmd.Parameters.AddWithValue("open", Unfinished);
                unfinished = (long)(await cmd.ExecuteScalarAsync())!;
            }
            catch (NpgsqlException)
            {
                unfinished = -1;
            }

            if (unfinished == 0 || DateTime.UtcNow > deadline)
            {
                return Math.Max(0, (DateTime.UtcNow - lastFaultEnded).TotalSeconds);
            }

            await Task.Delay(500);
        }
    }

    public static async Task<CheckResult> CheckAsync(LocalCluster cluster, CheckResult result, IReadOnlyCollection<(string Tenant, string Id)> acknowledged, IEnumerable<string> tenants)
    {
        // LoadGen records acknowledged transfers and refunds beside the charges: each must exist, settled.
        var others = acknowledged.Where(a => !a.Id.StartsWith("ch_", StringComparison.Ordinal)).ToList();
        acknowledged = acknowledged.Where(a => a.Id.StartsWith("ch_", StringComparison.Ordinal)).ToList();
        var ids = acknowledged.Select(a => a.Id).Distinct().ToArray();
        var status = new Dictionary<string, string>(StringComparer.Ordinal);
        var events = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var conn = new NpgsqlConnection(cluster.Postgres))
        {
            await conn.OpenAsync();
            await using (var cmd = new NpgsqlCommand("SELECT id, status FROM charges WHERE id = ANY(@ids)", conn))
            {
                cmd.Parameters.AddWithValue("ids", ids);
                await using var r = await cmd.ExecuteReaderAsync();
                while (await r.ReadAsync())
                {
                    status[r.GetString(0)] = r.GetString(1);
                }
            }

            await using (var cmd = new NpgsqlCommand("SELECT charge_id, type FROM events WHERE charge_id = ANY(@ids) ORDER BY id", conn))
            {
                cmd.Parameters.AddWithValue("ids", ids);
                await using var r = await cmd.ExecuteReaderAsync();
                while (await r.ReadAsync())
                {
                    var id = r.GetString(0);
                    if (!events.TryGetValue(id, out var list))
                    {
                        events[id] = list = [];
                    }

                    list.Add(r.GetString(1));
                }
            }
        }

        var notes = new List<string>(result.Notes);
        var lost = ids.Where(id => !status.ContainsKey(id)).ToList();
        notes.AddRange(lost.Take(5).Select(id => $"lost: {id}"));
        var stuck = status.Where(kv => Unfinished.Contains(kv.Value)).Select(kv => kv.Key).ToList();
        foreach (var id in stuck.Take(5))
        {
            notes.Add($"stuck: {id} ({status[id]}); {await DescribeRetryAsync(cluster, id)}");
        }

        // Status changes, in the order their events were written, must each be allowed by the status machine.
        var backwards = 0;
        foreach (var (id, types) in events)
        {
            ChargeStatus? previous = null;
            foreach (var type in types)
            {
                if (!type.StartsWith("charge.", StringComparison.Ordinal) || !ChargeStatusMachine.TryParseApi(type["charge.".Length..], out var next))
                {
                    continue;
                }

                if (previous is { } p && !ChargeStatusMachine.CanMove(p, next))
                {
                    backwards++;
                    notes.Add($"{id}: {p.ToApi()} → {next.ToApi()}");
                }

                previous = next;
            }
        }

        // The PSP's ledger against the charges.
        using var ledgerDoc = JsonDocument.Parse(await cluster.Http.GetStringAsync(cluster.PspUrl + "/admin/ledger"));
        var captured = new HashSet<string>(StringComparer.Ordinal);
        var doubles = 0;
        foreach (var c in ledgerDoc.RootElement.GetProperty("captures").EnumerateArray())
        {
            var key = c.GetProperty("idempotency_key").GetString()!;
            if (!captured.Add(key) || (c.TryGetProperty("captures", out var n) && n.GetInt32() > 1))
            {
                doubles++;
                notes.Add($"captured twice: {key}");
            }
        }

        var mismatches = 0;
        foreach (var (id, s) in status)
        {
            var wasCaptured = captured.Contains(id);
            if ((s == "succeeded" && !wasCaptured) || (s is "failed" or "canceled" && wasCaptured))
            {
                mismatches++;
                notes.Add($"{id} is {s} but the PSP {(wasCaptured ? "captured it" : "has no capture")}");
            }
        }

        var breaks = 0;
        foreach (var tenant in tenants.Distinct())
        {
            // A verify the overloaded cluster answers 503 (a long chain read past the database's timeout) is asked again
            // for up to 30 s: only a chain that verifies counts as whole.
            var (code, body) = await VerifyAsync(cluster, tenant);
            for (var deadline = DateTime.UtcNow.AddSeconds(30); code == 503 && DateTime.UtcNow < deadline; (code, body) = await VerifyAsync(cluster, tenant))
            {
                await Task.Delay(1000);
            }

            if (code is < 200 or >= 300 || !JsonDocument.Parse(body).RootElement.GetProperty("ok").GetBoolean())
            {
                breaks++;
                notes.Add($"audit chain of {tenant}: {body}");
            }
        }

        var (transfers, money) = await CheckMoneyAsync(cluster, tenants.Distinct().ToArray(), notes);
        var (refunds, refundViolations) = await CheckRefundsAsync(cluster, tenants.Distinct().ToArray(), ledgerDoc.RootElement, notes);
        money += refundViolations + await CheckAcknowledgedAsync(cluster, others, notes);
        return result with
        {
            Transfers = transfers,
            Refunds = refunds,
            MoneyViolations = money,
            Acknowledged = ids.Length,
            Succeeded = status.Values.Count(s => s == "succeeded"),
            Failed = status.Values.Count(s => s == "failed"),
            Canceled = status.Values.Count(s => s == "canceled"),
            DeadLettered = status.Values.Count(s => s == "dead_lettered"),
            Stuck = stuck.Count,
            Lost = lost.Count,
            DoubleCaptured = doubles,
            LedgerMismatches = mismatches,
            BackwardsTransitions = backwards,
            AuditChainBreaks = breaks,
            Notes = notes,
        };
    }

    /// <summary>Money conservation per tenant, from the ledger's tables: (1) every ledger transaction sums to zero;
    /// (2) no balance is below zero and each is the sum of its account's entries; (3) the tenant's balances add up to
    /// what funding charges brought in less what their refunds gave back and what is in transit (pending transfers and
    /// refunds), by the charges' and refunds' own rows, and the <c>psp</c> account's entries say the same; (4) no
    /// transfer is still pending (the sweeper finishes what its caller left) and each has the entries its status says:
    /// four if it succeeded, none if it failed. Returns the transfers that succeeded and the violations.</summary>
    private static async Task<(long Transfers, long Violations)> CheckMoneyAsync(LocalCluster cluster, string[] tenants, List<string> notes)
    {
        long violations = 0;
        long transfers = 0;
        await using var conn = new NpgsqlConnection(cluster.Postgres);
        await conn.OpenAsync();
        async Task CountAsync(string what, string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            cmd.Parameters.AddWithValue("tenants", tenants);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                violations++;
                if (violations <= 10)
                {
                    notes.Add($"money: {what}: {string.Join(", ", Enumerable.Range(0, r.FieldCount).Select(i => r.GetValue(i)))}");
                }
            }
        }

        await CountAsync("ledger transaction not balanced (tenant, txn, sum)", """
            SELECT tenant_id, txn_id, sum(amount) FROM ledger_entries WHERE tenant_id = ANY(@tenants)
            GROUP BY tenant_id, txn_id HAVING sum(amount) <> 0
            """);
        await CountAsync("balance below zero or not its entries (tenant, account, balance, entries)", """
            SELECT a.tenant_id, a.id, a.balance, coalesce(e.total, 0) FROM accounts a
            LEFT JOIN (SELECT tenant_id, account_id, sum(amount) AS total FROM ledger_entries WHERE tenant_id = ANY(@tenants)
                       GROUP BY tenant_id, account_id) e ON e.tenant_id = a.tenant_id AND e.account_id = a.id
            WHERE a.tenant_id = ANY(@tenants) AND (a.balance < 0 OR a.balance <> coalesce(e.total, 0))
            """);
        await CountAsync("balances not funded less refunded less transit (tenant, balances, funded, refunded, in transit, psp entries)", """
            SELECT t.tenant, coalesce(b.total, 0), coalesce(f.funded, 0), coalesce(r.refunded, 0), coalesce(x.transit, 0), coalesce(p.psp, 0)
            FROM unnest(@tenants::text[]) AS t(tenant)
            LEFT JOIN (SELECT tenant_id, sum(balance) AS total FROM accounts GROUP BY tenant_id) b ON b.tenant_id = t.tenant
            LEFT JOIN (SELECT tenant_id, sum(amount) AS funded FROM charges WHERE account IS NOT NULL AND status = 'succeeded' GROUP BY tenant_id) f ON f.tenant_id = t.tenant
            LEFT JOIN (SELECT tenant_id, sum(amount) AS refunded FROM refunds WHERE account IS NOT NULL AND status = 'succeeded' GROUP BY tenant_id) r ON r.tenant_id = t.tenant
            LEFT JOIN (SELECT tenant_id, sum(amount) AS transit FROM ledger_entries WHERE account_id = 'transit' GROUP BY tenant_id) x ON x.tenant_id = t.tenant
            LEFT JOIN (SELECT tenant_id, sum(amount) AS psp FROM ledger_entries WHERE account_id = 'psp' GROUP BY tenant_id) p ON p.tenant_id = t.tenant
            WHERE coalesce(b.total, 0) <> coalesce(f.funded, 0) - coalesce(r.refunded, 0) - coalesce(x.transit, 0)
               OR coalesce(p.psp, 0) <> coalesce(r.refunded, 0) - coalesce(f.funded, 0)
            """);
        await CountAsync("transfer half-applied (tenant, transfer, status, entries)", """
            SELECT t.tenant_id, t.id, t.status, count(e.id) FROM transfers t
            LEFT JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.source = t.id
            WHERE t.tenant_id = ANY(@tenants) GROUP BY t.tenant_id, t.id, t.status
            HAVING t.status = 'pending' OR count(e.id) <> CASE t.status WHEN 'succeeded' THEN 4 ELSE 0 END
            """);
        await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM transfers WHERE tenant_id = ANY(@tenants) AND status = 'succeeded'", conn))
        {
            cmd.Parameters.AddWithValue("tenants", tenants);
            transfers = (long)(await cmd.ExecuteScalarAsync())!;
        }

        return (transfers, violations);
    }

    /// <summary>Refunds, against the charges and the PSP: (1) no refund is still pending; (2) each charge's
    /// <c>amount_refunded</c> is what its pending and succeeded refunds add up to, and never above the charge; (3) a
    /// refund of a funding charge has its four ledger entries (debit, then settle or reverse), any other none; (4) every
    /// refund FinCore says succeeded the PSP refunded, with its amount, and every refund the PSP made FinCore knows as
    /// succeeded; the PSP never refunded a payment by more than it captured. Returns the refunds that succeeded and
    /// the violations.</summary>
    private static async Task<(long Refunds, long Violations)> CheckRefundsAsync(LocalCluster cluster, string[] tenants, JsonElement pspLedger, List<string> notes)
    {
        long violations = 0;
        void Violation(string note)
        {
            violations++;
            if (violations <= 10)
            {
                notes.Add("refunds: " + note);
            }
        }

        await using var conn = new NpgsqlConnection(cluster.Postgres);
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.tenant_id, c.id, c.amount, c.amount_refunded, coalesce(sum(r.amount) FILTER (WHERE r.status IN ('pending', 'succeeded')), 0)
            FROM charges c LEFT JOIN refunds r ON r.tenant_id = c.tenant_id AND r.charge_id = c.id
            WHERE c.tenant_id = ANY(@tenants) GROUP BY c.tenant_id, c.id, c.amount, c.amount_refunded
            HAVING c.amount_refunded <> coalesce(sum(r.amount) FILTER (WHERE r.status IN ('pending', 'succeeded')), 0) OR c.amount_refunded > c.amount
            """, conn))
        {
            cmd.Parameters.AddWithValue("tenants", tenants);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                Violation($"charge {r.GetString(1)} of {r.GetInt64(2)} has amount_refunded {r.GetInt64(3)}, its refunds {r.GetInt64(4)}");
            }
        }

        var ours = new Dictionary<string, (string Status, long Amount)>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("""
            SELECT r.id, r.status, r.amount, r.account IS NOT NULL, count(e.id) FROM refunds r
            LEFT JOIN ledger_entries e ON e.tenant_id = r.tenant_id AND e.source = r.id
            WHERE r.tenant_id = ANY(@tenants) GROUP BY r.id, r.status, r.amount, r.account
            """, conn))
        {
            cmd.Parameters.AddWithValue("tenants", tenants);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var (id, status, funded, entries) = (r.GetString(0), r.GetString(1), r.GetBoolean(3), r.GetInt64(4));
                ours[id] = (status, r.GetInt64(2));
                if (status == "pending")
                {
                    Violation($"{id} is still pending");
                }
                else if (entries != (funded ? 4 : 0))
                {
                    Violation($"{id} ({status}) has {entries} ledger entries");
                }
            }
        }

        foreach (var p in pspLedger.GetProperty("refunds").EnumerateArray())
        {
            var key = p.GetProperty("idempotency_key").GetString()!;
            var refunded = p.GetProperty("status").GetString() == "refunded";
            if (ours.TryGetValue(key, out var mine) && (refunded != (mine.Status == "succeeded") || (refunded && mine.Amount != p.GetProperty("amount").GetInt64())))
            {
                Violation($"{key} is {mine.Status} ({mine.Amount}); the PSP says {p.GetProperty("status").GetString()} ({p.GetProperty("amount").GetInt64()})");
            }

            ours.Remove(key);
        }

        foreach (var id in ours.Where(o => o.Value.Status == "succeeded").Select(o => o.Key))
        {
            Violation($"{id} succeeded, and the PSP has no refund of it");
        }

        var over = pspLedger.GetProperty("totals").GetProperty("over_refunded").GetInt32();
        if (over > 0)
        {
            Violation($"the PSP refunded {over} payments by more than it captured");
        }

        return (await CountSucceededAsync(conn, tenants), violations);
    }

    /// <summary>Every transfer LoadGen got a 201 for is in the ledger, succeeded; every refund it got a 202 for exists
    /// and is settled. Returns how many are not.</summary>
    private static async Task<long> CheckAcknowledgedAsync(LocalCluster cluster, List<(string Tenant, string Id)> acknowledged, List<string> notes)
    {
        if (acknowledged.Count == 0)
        {
            return 0;
        }

        await using var conn = new NpgsqlConnection(cluster.Postgres);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT a.tenant, a.id, coalesce(t.status, r.status)
            FROM unnest(@tenants::text[], @ids::text[]) AS a(tenant, id)
            LEFT JOIN transfers t ON t.tenant_id = a.tenant AND t.id = a.id
            LEFT JOIN refunds r ON r.tenant_id = a.tenant AND r.id = a.id
            WHERE CASE WHEN a.id LIKE 'tr\_%' THEN t.status IS DISTINCT FROM 'succeeded' ELSE r.status IS NULL OR r.status = 'pending' END
            """, conn);
        cmd.Parameters.AddWithValue("tenants", acknowledged.Select(a => a.Tenant).ToArray());
        cmd.Parameters.AddWithValue("ids", acknowledged.Select(a => a.Id).ToArray());
        long missing = 0;
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            if (++missing <= 10)
            {
                notes.Add($"acknowledged {r.GetString(1)} of {r.GetString(0)} is {(r.IsDBNull(2) ? "missing" : r.GetString(2))}");
            }
        }

        return missing;
    }

    private static async Task<long> CountSucceededAsync(NpgsqlConnection conn, string[] tenants)
    {
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM refunds WHERE tenant_id = ANY(@tenants) AND status = 'succeeded'", conn);
        cmd.Parameters.AddWithValue("tenants", tenants);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Why a charge may still be open: its retry grain's stored state and its Orleans attempt reminder (a charge
    /// waiting out a backoff has a reminder; one with neither waits for the charge sweeper).</summary>
    private static async Task<string> DescribeRetryAsync(LocalCluster cluster, string chargeId)
    {
        try
        {
            await using var conn = new NpgsqlConnection(cluster.Postgres);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                WITH k AS (SELECT tenant_id || '/' || id AS grain_key FROM charges WHERE id = @id)
                SELECT (SELECT data::text FROM fc_grain_state, k WHERE grain_type = 'psp-retry' AND fc_grain_state.grain_key = k.grain_key),
                       (SELECT 'first due ' || to_char(start_time, 'HH24:MI:SS.MS') || ', next due ' || to_char(CASE WHEN start_time > now() THEN start_time
                               ELSE start_time + ceil(extract(epoch FROM now() - start_time) * 1000 / period_ms) * period_ms * interval '1 millisecond' END, 'HH24:MI:SS.MS')
                               || ', every ' || (period_ms / 1000) || ' s' FROM orleans_reminders, k
                         WHERE grain_id = 'psp-retry/' || k.grain_key AND reminder_name = 'attempt')
                """, conn);
            cmd.Parameters.AddWithValue("id", chargeId);
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            var stored = r.IsDBNull(0) ? "none" : r.GetString(0);
            var due = r.IsDBNull(1) ? "none" : r.GetString(1);
            return $"retry state: {stored}; attempt reminder: {due}";
        }
        catch (NpgsqlException e)
        {
            return "retry state unreadable: " + e.Message;
        }
    }

    private static async Task<(int Status, string Body)> VerifyAsync(LocalCluster cluster, string tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{cluster.GatewayUrl}/admin/v1/audit/verify?tenant={tenant}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cluster.AdminToken);
        using var response = await cluster.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
