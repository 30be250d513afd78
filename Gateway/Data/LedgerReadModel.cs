using System.Globalization;
using System.Text;
using FinCore.Grains;
using FinCore.Persistence;
using Npgsql;

namespace FinCore.Gateway.Data;

/// <summary>Reads of customers, accounts, entries, transfers, refunds and notifications: SQL on the rows their grains write, every query scoped by
/// the caller's tenant (another tenant's id finds nothing).</summary>
internal sealed class LedgerReadModel(Database database, FinCore.Privacy.PersonalDataProtector personalData)
{
    private const string CustomerColumns = "id, kind, name, email, document, phone, metadata::text, account_id, created_at, updated_at, sealed";
    private const string TransferColumns = "id, from_account, to_account, amount, currency, description, status, failure_code, created_at";

    private const string RefundColumns = "id, charge_id, amount, currency, account, status, failure_code, psp_reference, created_at, updated_at";

    private NpgsqlDataSource Db => database.DataSource;

    public sealed record Page<T>(List<T> Data, bool HasMore);

    /// <summary>Newest first; null when <paramref name="startingAfter"/> names no customer of this tenant.</summary>
    public async Task<Page<Customer>?> CustomersAsync(string tenant, int limit, string? startingAfter, string? email, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand();
        var sql = new StringBuilder($"SELECT {CustomerColumns} FROM customers WHERE tenant_id = $1 AND erased_at IS NULL");
        cmd.Parameters.AddWithValue(tenant);
        if (email is not null)
        {
            // By the email's keyed hash; a row stored before encryption (until resealed) by its plaintext.
            cmd.Parameters.AddWithValue(await personalData.EmailHashAsync(tenant, email, ct));
            cmd.Parameters.AddWithValue(email);
            sql.Append(" AND (email_hash = $2 OR (sealed IS NULL AND lower(email) = lower($3)))");
        }

        if (startingAfter is not null)
        {
            if (!await ExistsAsync("SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2", tenant, startingAfter, ct))
            {
                return null;
            }

            cmd.Parameters.AddWithValue(startingAfter);
            var p = cmd.Parameters.Count;
            sql.Append($" AND (created_at, id) < (SELECT created_at, id FROM customers WHERE tenant_id = $1 AND id = ${p})");
        }

        cmd.Parameters.AddWithValue(limit + 1);
        sql.Append($" ORDER BY created_at DESC, id DESC LIMIT ${cmd.Parameters.Count}");
        cmd.CommandText = sql.ToString();
        var page = await PageAsync(cmd, limit, ReadCustomer, ct);
        var opened = new List<Customer>(page.Data.Count);
        foreach (var (c, sealedData) in page.Data)
        {
            opened.Add(sealedData is null ? c : await OpenAsync(tenant, c, sealedData, ct));
        }

        return new Page<Customer>(opened, page.HasMore);
    }

    private async Task<Customer> OpenAsync(string tenant, Customer c, byte[] sealedData, CancellationToken ct)
    {
        var p = await personalData.OpenAsync(tenant, c.Id, sealedData, ct);
        return c with { Name = p.Name, Email = p.Email, Document = p.Document, Phone = p.Phone };
    }

    public sealed record AccountView(string Id, string Object, string Customer, string Currency, long Balance, DateTime CreatedAt);

    public async Task<AccountView?> AccountAsync(string tenant, string id, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("SELECT id, customer_id, currency, balance, created_at FROM accounts WHERE tenant_id = $1 AND id = $2");
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new AccountView(r.GetString(0), "account", r.GetString(1), r.GetString(2).Trim(), r.GetInt64(3), r.GetDateTime(4)) : null;
    }

    public sealed record EntryView(string Id, string Object, long Amount, long BalanceAfter, string Type, string Source, DateTime CreatedAt);

    /// <summary>An entry's id: its position in the ledger.</summary>
    public static string EntryId(long pk) => "le_" + pk.ToString(CultureInfo.InvariantCulture);

    public static long? EntryPk(string? id) =>
        id is not null && id.StartsWith("le_", StringComparison.Ordinal) && long.TryParse(id.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var pk) ? pk : null;

    /// <summary>An account's entries, newest first, before entry <paramref name="beforePk"/> when given.</summary>
    public async Task<Page<EntryView>> EntriesAsync(string tenant, string account, int limit, long? beforePk, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("""
            SELECT id, amount, balance_after, type, source, created_at FROM ledger_entries
            WHERE tenant_id = $1 AND account_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4
            """);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(account);
        cmd.Parameters.AddWithValue(beforePk ?? long.MaxValue);
        cmd.Parameters.AddWithValue(limit + 1);
        return await PageAsync(cmd, limit, r => new EntryView(EntryId(r.GetInt64(0)), "ledger_entry", r.GetInt64(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetDateTime(5)), ct);
    }

    /// <summary>The account's statement for [from, to): the balance before the first entry, one line per entry, oldest
    /// first, and the balance after the last.</summary>
    public async Task WriteStatementAsync(string tenant, string account, DateTime from, DateTime to, Stream output, CancellationToken ct)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 16 * 1024, leaveOpen: true);
        long opening = 0;
        await using (var before = Db.CreateCommand("""
            SELECT balance_after FROM ledger_entries WHERE tenant_id = $1 AND account_id = $2 AND created_at < $3 ORDER BY id DESC LIMIT 1
            """))
        {
            before.Parameters.AddWithValue(tenant);
            before.Parameters.AddWithValue(account);
            before.Parameters.AddWithValue(from);
            opening = await before.ExecuteScalarAsync(ct) is long b ? b : 0;
        }

        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        await writer.WriteAsync("id,created_at,type,source,amount,balance_after\n");
        await writer.WriteAsync($"opening_balance,{ApiJson.Time(from)},,,,{N(opening)}\n");
        var closing = opening;
        await using (var cmd = Db.CreateCommand("""
            SELECT id, created_at, type, source, amount, balance_after FROM ledger_entries
            WHERE tenant_id = $1 AND account_id = $2 AND created_at >= $3 AND created_at < $4 ORDER BY id
            """))
        {
            cmd.Parameters.AddWithValue(tenant);
            cmd.Parameters.AddWithValue(account);
            cmd.Parameters.AddWithValue(from);
            cmd.Parameters.AddWithValue(to);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                closing = r.GetInt64(5);
                await writer.WriteAsync($"{EntryId(r.GetInt64(0))},{ApiJson.Time(r.GetDateTime(1))},{r.GetString(2)},{r.GetString(3)},{N(r.GetInt64(4))},{N(closing)}\n");
            }
        }

        await writer.WriteAsync($"closing_balance,{ApiJson.Time(to)},,,,{N(closing)}\n");
    }

    public async Task<Transfer?> TransferAsync(string tenant, string id, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand($"SELECT {TransferColumns} FROM transfers WHERE tenant_id = $1 AND id = $2");
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadTransfer(r) : null;
    }

    /// <summary>Newest first, to or from <paramref name="account"/> when given; null when <paramref name="startingAfter"/>
    /// names no transfer of this tenant.</summary>
    public async Task<Page<Transfer>?> TransfersAsync(string tenant, string? account, int limit, string? startingAfter, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand();
        cmd.Parameters.AddWithValue(tenant);
        var after = "";
        if (startingAfter is not null)
        {
            if (!await ExistsAsync("SELECT 1 FROM transfers WHERE tenant_id = $1 AND id = $2", tenant, startingAfter, ct))
            {
                return null;
            }

            cmd.Parameters.AddWithValue(startingAfter);
            after = " AND (created_at, id) < (SELECT created_at, id FROM transfers WHERE tenant_id = $1 AND id = $2)";
        }

        cmd.Parameters.AddWithValue(limit + 1);
        var lim = "$" + cmd.Parameters.Count.ToString(CultureInfo.InvariantCulture);
        if (account is null)
        {
            cmd.CommandText = $"SELECT {TransferColumns} FROM transfers WHERE tenant_id = $1{after} ORDER BY created_at DESC, id DESC LIMIT {lim}";
        }
        else
        {
            // Each side walks its own index; the union keeps the newest of both.
            cmd.Parameters.AddWithValue(account);
            var acct = "$" + cmd.Parameters.Count.ToString(CultureInfo.InvariantCulture);
            cmd.CommandText = $"""
                SELECT * FROM (
                    (SELECT {TransferColumns} FROM transfers WHERE tenant_id = $1 AND from_account = {acct}{after} ORDER BY created_at DESC, id DESC LIMIT {lim})
                    UNION ALL
                    (SELECT {TransferColumns} FROM transfers WHERE tenant_id = $1 AND to_account = {acct}{after} ORDER BY created_at DESC, id DESC LIMIT {lim})
                ) t ORDER BY created_at DESC, id DESC LIMIT {lim}
                """;
        }

        return await PageAsync(cmd, limit, ReadTransfer, ct);
    }

    public async Task<Refund?> RefundAsync(string tenant, string id, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand($"SELECT {RefundColumns} FROM refunds WHERE tenant_id = $1 AND id = $2");
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadRefund(r) : null;
    }

    /// <summary>Newest first, all of the tenant's or one charge's; null when <paramref name="startingAfter"/> names no
    /// refund of this tenant.</summary>
    public async Task<Page<Refund>?> RefundsAsync(string tenant, string? charge, int limit, string? startingAfter, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand();
        var sql = new StringBuilder($"SELECT {RefundColumns} FROM refunds WHERE tenant_id = $1");
        cmd.Parameters.AddWithValue(tenant);
        if (charge is not null)
        {
            cmd.Parameters.AddWithValue(charge);
            sql.Append(" AND charge_id = $2");
        }

        if (startingAfter is not null)
        {
            if (!await ExistsAsync("SELECT 1 FROM refunds WHERE tenant_id = $1 AND id = $2", tenant, startingAfter, ct))
            {
                return null;
            }

            cmd.Parameters.AddWithValue(startingAfter);
            var p = cmd.Parameters.Count.ToString(CultureInfo.InvariantCulture);
            sql.Append($" AND (created_at, id) < (SELECT created_at, id FROM refunds WHERE tenant_id = $1 AND id = ${p})");
        }

        cmd.Parameters.AddWithValue(limit + 1);
        sql.Append(" ORDER BY created_at DESC, id DESC LIMIT $").Append(cmd.Parameters.Count.ToString(CultureInfo.InvariantCulture));
        cmd.CommandText = sql.ToString();
        return await PageAsync(cmd, limit, ReadRefund, ct);
    }

    private static Refund ReadRefund(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        Charge = r.GetString(1),
        Amount = r.GetInt64(2),
        Currency = r.GetString(3).Trim(),
        Account = r.IsDBNull(4) ? null : r.GetString(4),
        Status = r.GetString(5),
        FailureCode = r.IsDBNull(6) ? null : r.GetString(6),
        PspReference = r.IsDBNull(7) ? null : r.GetString(7),
        CreatedAt = r.GetDateTime(8),
        UpdatedAt = r.GetDateTime(9),
    };

    private static Transfer ReadTransfer(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        From = r.GetString(1),
        To = r.GetString(2),
        Amount = r.GetInt64(3),
        Currency = r.GetString(4).Trim(),
        Description = r.IsDBNull(5) ? null : r.GetString(5),
        Status = r.GetString(6),
        FailureCode = r.IsDBNull(7) ? null : r.GetString(7),
        CreatedAt = r.GetDateTime(8),
    };

    /// <summary>A customer row: the customer (its personal data from the plaintext columns of a row stored before
    /// encryption, else empty) and its sealed personal data.</summary>
    private static (Customer Customer, byte[]? Sealed) ReadCustomer(NpgsqlDataReader r) => (new()
    {
        Id = r.GetString(0),
        Kind = r.GetString(1),
        Name = r.IsDBNull(2) ? "" : r.GetString(2),
        Email = r.IsDBNull(3) ? "" : r.GetString(3),
        Document = r.IsDBNull(4) ? "" : r.GetString(4),
        Phone = r.IsDBNull(5) ? null : r.GetString(5),
        Metadata = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(6)) ?? [],
        Account = r.GetString(7),
        CreatedAt = r.GetDateTime(8),
        UpdatedAt = r.GetDateTime(9),
    }, r.IsDBNull(10) ? null : r.GetFieldValue<byte[]>(10));

    public sealed record AttemptView(int Attempt, DateTime At, bool Ok, string? Error);

    public sealed record NotificationView(string Id, string Object, string Customer, string Channel, string Kind, string Event, string Source,
        long Amount, string Currency, string Status, int Attempts, string? LastError, DateTime? OccurredAt, DateTime CreatedAt, DateTime? SentAt,
        List<AttemptView> DeliveryLog);

    /// <summary>The tenant's notifications (of one customer, when given), newest first, each with its delivery log;
    /// null when <paramref name="startingAfter"/> names no notification of this tenant.</summary>
    public async Task<Page<NotificationView>?> NotificationsAsync(string tenant, string? customer, string? channel, int limit, string? startingAfter,
        CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand();
        var sql = new StringBuilder("""
            SELECT n.id, n.customer_id, n.channel, n.kind, n.event_id, n.source, n.amount, n.currency, n.status, n.attempts, n.last_error,
                   n.created_at, n.sent_at, log.attempt, log.at, log.ok, log.error, n.occurred_at
            FROM notifications n
            CROSS JOIN LATERAL (
                SELECT coalesce(array_agg(a.attempt ORDER BY a.attempt), '{}') AS attempt, coalesce(array_agg(a.at ORDER BY a.attempt), '{}') AS at,
                       coalesce(array_agg(a.ok ORDER BY a.attempt), '{}') AS ok, coalesce(array_agg(a.error ORDER BY a.attempt), '{}') AS error
                FROM notification_attempts a WHERE a.tenant_id = n.tenant_id AND a.notification_id = n.id) log
            WHERE n.tenant_id = $1
            """);
        cmd.Parameters.AddWithValue(tenant);
        if (customer is not null)
        {
            cmd.Parameters.AddWithValue(customer);
            sql.Append($" AND n.customer_id = ${cmd.Parameters.Count}");
        }

        if (channel is not null)
        {
            cmd.Parameters.AddWithValue(channel);
            sql.Append($" AND n.channel = ${cmd.Parameters.Count}");
        }

        if (startingAfter is not null)
        {
            if (!await ExistsAsync("SELECT 1 FROM notifications WHERE tenant_id = $1 AND id = $2", tenant, startingAfter, ct))
            {
                return null;
            }

            cmd.Parameters.AddWithValue(startingAfter);
            sql.Append($" AND (n.created_at, n.id) < (SELECT created_at, id FROM notifications WHERE tenant_id = $1 AND id = ${cmd.Parameters.Count})");
        }

        cmd.Parameters.AddWithValue(limit + 1);
        sql.Append($" ORDER BY n.created_at DESC, n.id DESC LIMIT ${cmd.Parameters.Count}");
        cmd.CommandText = sql.ToString();
        return await PageAsync(cmd, limit, ReadNotification, ct);
    }

    private static NotificationView ReadNotification(NpgsqlDataReader r)
    {
        var attempts = r.GetFieldValue<int[]>(13);
        var at = r.GetFieldValue<DateTime[]>(14);
        var ok = r.GetFieldValue<bool[]>(15);
        var errors = r.GetFieldValue<string?[]>(16);
        var log = new List<AttemptView>(attempts.Length);
        for (var i = 0; i < attempts.Length; i++)
        {
            log.Add(new AttemptView(attempts[i], at[i], ok[i], errors[i]));
        }

        return new NotificationView(r.GetString(0), "notification", r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
            r.GetInt64(6), r.GetString(7).Trim(), r.GetString(8), r.GetInt32(9), r.IsDBNull(10) ? null : r.GetString(10),
            r.IsDBNull(17) ? null : r.GetDateTime(17), r.GetDateTime(11),
            r.IsDBNull(12) ? null : r.GetDateTime(12), log);
    }

    private async Task<bool> ExistsAsync(string sql, string tenant, string id, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand(sql);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(id);
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    private static async Task<Page<T>> PageAsync<T>(NpgsqlCommand cmd, int limit, Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        var rows = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(read(r));
        }

        var more = rows.Count > limit;
        return new Page<T>(more ? rows[..limit] : rows, more);
    }
}
