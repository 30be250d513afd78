using Npgsql;

namespace FinCore.Tests.Infrastructure;

/// <summary>A private PostgreSQL instance for a test collection, started through <c>ops/pg</c> (initdb in a
/// temporary directory, a free port) and removed afterwards. No system service is assumed.</summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fincore-test-pg-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private int _databases;

    public string ConnectionString { get; private set; } = "";

    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_dir, (UnixFileMode)0x1ED); // 0755: the postgres user must reach it when tests run as root
        }
        Port = FreePort.Next();
        ConnectionString = await Shell.RunAsync(Repo.Ops("pg"), "start", Path.Combine(_dir, "pg"), Port.ToString());
    }

    /// <summary>A fresh, empty database on this server: one per cluster, so clusters never see each other's state.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..20];
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
        await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Everything in the database of <paramref name="connectionString"/> as <c>pg_dump</c> writes it (plain SQL).</summary>
    public static Task<string> DumpAsync(string connectionString)
    {
        var c = new NpgsqlConnectionStringBuilder(connectionString);
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "pg_dump")).Where(File.Exists)
            .OrderBy(p => p, StringComparer.Ordinal).Last();
        return Shell.RunAsync(bin, "--host", c.Host!, "--port", c.Port.ToString(), "--username", c.Username!, "--dbname", c.Database!, "--no-owner");
    }

    /// <summary>Stops the server abruptly (as a crash or an outage would).</summary>
    public Task StopAsync() => Shell.RunAsync(Repo.Ops("pg"), "stop", Path.Combine(_dir, "pg"), "immediate");

    public Task StartAsync() => Shell.RunAsync(Repo.Ops("pg"), "start", Path.Combine(_dir, "pg"), Port.ToString());

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await Shell.RunAsync(Repo.Ops("pg"), "stop", Path.Combine(_dir, "pg"), "immediate");
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
