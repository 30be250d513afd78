using Microsoft.Extensions.Logging;
using Npgsql;

namespace FinCore.Persistence;

/// <summary>The PostgreSQL data source shared by every subsystem of a process, and the migration runner.</summary>
public sealed partial class Database : IAsyncDisposable
{
    private readonly ILogger<Database> _logger;
    private readonly IEnumerable<IMigrationSource> _sources;

    public Database(string connectionString, IEnumerable<IMigrationSource> sources, ILogger<Database> logger)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("FINCORE_POSTGRES is not set: give the PostgreSQL connection string, e.g. Host=127.0.0.1;Port=5432;Username=fincore;Database=fincore.");
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Fail fast when the database is down rather than stall callers for the 15 s default.
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.Timeout = 5;
        }

        // Statements repeat endlessly (state writes, heartbeats, reminder loads): let PostgreSQL keep their plans.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        // Connections go back to the pool after every batch; resetting session state each time costs four round
        // trips of statements and FinCore never changes session state.
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        // Many small commands from many grains at once: multiplexing writes them to a few connections together
        // (fewer syscalls and wake-ups on both sides). Each command or batch keeps its own implicit transaction;
        // explicit transactions (membership, migrations) still bind a connection. Measured ~15% less CPU per charge
        // end to end (README, "What limits POST"). "Multiplexing=false" in the connection string turns it off.
        if (!connectionString.Contains("Multiplexing", StringComparison.OrdinalIgnoreCase))
        {
            builder.Multiplexing = true;
        }

        if (builder.MaxPoolSize == 100)
        {
            builder.MaxPoolSize = 32;
        }

        DataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        _dedicated = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, Multiplexing = false, KeepAlive = 15 }.ConnectionString;
        _sources = sources;
        _logger = logger;
    }

    private readonly string _dedicated;

    /// <summary>The pooled data source.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>One statement of a batch, its positional parameters (<c>$1</c>…) bound in order; null binds SQL NULL.</summary>
    public static NpgsqlBatchCommand Statement(string sql, params object?[] values)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        Bind(cmd.Parameters, values);
        return cmd;
    }

    /// <summary>Binds <paramref name="values"/> as positional parameters, in order; null binds SQL NULL.</summary>
    public static void Bind(NpgsqlParameterCollection parameters, IEnumerable<object?> values)
    {
        foreach (var v in values)
        {
            parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
        }
    }

    /// <summary>A connection of its own, outside the pool and multiplexing, with TCP keepalives: for <c>LISTEN</c>,
    /// whose session state must not reach other users of the pool.</summary>
    public NpgsqlConnection CreateDedicatedConnection() => new(_dedicated);

    /// <summary>Applies every migration not yet applied, under an advisory lock so concurrent starts are safe.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var conn = await DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7263540119)", conn, tx))
        {
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS fc_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", conn, tx))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("SELECT id FROM fc_migrations", conn, tx))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }

        var pending = _sources.SelectMany(s => s.GetMigrations()).Where(m => !applied.Contains(m.Id))
            .OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        foreach (var migration in pending)
        {
            await using (var cmd = new NpgsqlCommand(migration.Sql, conn, tx))
            {
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var mark = new NpgsqlCommand("INSERT INTO fc_migrations (id) VALUES ($1)", conn, tx))
            {
                mark.Parameters.AddWithValue(migration.Id);
                await mark.ExecuteNonQueryAsync(cancellationToken);
            }

            MigrationApplied(_logger, migration.Id);
        }

        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>True when the database answers a trivial query within <paramref name="timeout"/> (health checks).</summary>
    public async Task<bool> PingAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            await using var cmd = DataSource.CreateCommand("SELECT 1");
            return await cmd.ExecuteScalarAsync(cts.Token) is not null;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Applied migration {Id}")]
    private static partial void MigrationApplied(ILogger logger, string id);
}
