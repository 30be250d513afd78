using FinCore.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FinCore.Tests.Infrastructure;

/// <summary>An Orleans cluster as a user runs it: silo processes (FinCore.Silo, with the test grains beside the payment
/// grains) on loopback over a database of their own, trusting one cluster certificate, and an Orleans client in the test
/// process calling grains over TLS (what the gateway is).</summary>
public sealed class TestCluster : IAsyncDisposable
{
    private IHost? _client;

    private TestCluster(string postgres, string clusterId, IReadOnlyDictionary<string, string>? env)
    {
        SiloEnvironment = env;
        Postgres = postgres;
        ClusterId = clusterId;
    }

    public string Postgres { get; }

    public string ClusterId { get; }

    public List<SiloProcess> Silos { get; } = [];

    /// <summary>Environment every silo of this cluster starts with.</summary>
    public IReadOnlyDictionary<string, string>? SiloEnvironment { get; }

    public IClusterClient Client => _client?.Services.GetRequiredService<IClusterClient>() ?? throw new InvalidOperationException("no client");

    /// <summary>The cluster certificate every member presents (a file path).</summary>
    public string Certificate => ClusterCertificate.Path;

    public static async Task<TestCluster> StartAsync(PostgresServer server, int silos, IReadOnlyDictionary<string, string>? env = null)
    {
        var cluster = new TestCluster(await server.CreateDatabaseAsync(), "test-" + Guid.NewGuid().ToString("N")[..8], env);
        // The first silo creates the schema; the rest start together.
        await cluster.AddSilosAsync(1);
        if (silos > 1)
        {
            await cluster.AddSilosAsync(silos - 1);
        }

        cluster._client = await cluster.StartClientAsync(ClusterCertificate.Path);
        return cluster;
    }

    /// <summary>Starts silos and waits until each is Active in the membership table and every running silo sees the
    /// same membership version.</summary>
    public async Task<List<SiloProcess>> AddSilosAsync(int count, IReadOnlyDictionary<string, string>? env = null)
    {
        var started = Enumerable.Range(0, count).Select(_ => SiloProcess.Start(Postgres, ClusterId, ClusterCertificate.Path, env ?? SiloEnvironment)).ToList();
        Silos.AddRange(started);
        foreach (var silo in started)
        {
            await Poll.UntilAsync(async () =>
            {
                if (silo.HasExited)
                {
                    throw new InvalidOperationException($"Silo on port {silo.Port} exited with {silo.ExitCode}:\n{silo.Log}");
                }

                return await StatusAsync(silo) == 3;
            }, TimeSpan.FromSeconds(60), $"silo on port {silo.Port} to become Active");
        }

        await WaitForViewsAsync();
        return started;
    }

    /// <summary>An Orleans client of this cluster presenting the certificate at <paramref name="certificate"/>.</summary>
    public async Task<IHost> StartClientAsync(string certificate, CancellationToken cancellationToken = default)
    {
        var settings = ClusterSettings.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FINCORE_POSTGRES"] = Postgres,
            ["FINCORE_CLUSTER_ID"] = ClusterId,
            ["FINCORE_CLUSTER_CERT"] = certificate,
        }).Build());
        var host = new HostBuilder()
            .UseOrleansClient(c => c.UseFinCoreCluster(settings))
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    /// <summary>The silo's status in the membership table (Orleans' SiloStatus: 3 Active, 6 Dead), null if absent.</summary>
    public async Task<int?> StatusAsync(SiloProcess silo)
    {
        await using var conn = new NpgsqlConnection(Postgres);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT status FROM orleans_membership WHERE deployment_id = $1 AND port = $2 ORDER BY generation DESC LIMIT 1
            """, conn);
        cmd.Parameters.AddWithValue(ClusterId);
        cmd.Parameters.AddWithValue(silo.Port);
        try
        {
            return await cmd.ExecuteScalarAsync() as int?;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null; // the first silo has not created the schema yet
        }
    }

    /// <summary>The silo process that holds <paramref name="grain"/>'s activation (activating it if needed).</summary>
    public async Task<SiloProcess> HostOfAsync(IAddressable grain)
    {
        var address = await Client.GetGrain<IManagementGrain>(0).GetActivationAddress(grain)
            ?? throw new InvalidOperationException($"{grain} has no activation");
        return Silos.Single(s => !s.HasExited && s.Port == address.Endpoint.Port);
    }

    /// <summary>Activations of the grain type <paramref name="grainType"/> (as in <c>[GrainType]</c>) across the cluster.</summary>
    public async Task<int> ActivationsAsync(string grainType) =>
        (await Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics()).Where(s => s.GrainType == grainType).Sum(s => s.ActivationCount);

    /// <summary>The address Orleans names this silo by (<c>RuntimeIdentity</c> of its grains starts with it).</summary>
    public static string AddressOf(SiloProcess silo) => $"S127.0.0.1:{silo.Port}:";

    /// <summary>Waits until every running silo's /health/ready reports the membership table's version.</summary>
    private async Task WaitForViewsAsync()
    {
        long version;
        await using (var conn = new NpgsqlConnection(Postgres))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT version FROM orleans_membership_version WHERE deployment_id = $1", conn);
            cmd.Parameters.AddWithValue(ClusterId);
            version = Convert.ToInt64(await cmd.ExecuteScalarAsync());
        }

        foreach (var silo in Silos.Where(s => !s.HasExited))
        {
            await Poll.UntilAsync(async () =>
            {
                using var response = await Http.GetAsync($"http://127.0.0.1:{silo.HttpPort}/health/ready");
                using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return body.RootElement.GetProperty("membership_version").GetInt64() >= version;
            }, TimeSpan.FromSeconds(30), $"silo on port {silo.Port} to see membership version {version}");
        }
    }

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public string Logs() => string.Join("\n\n", Silos.Select(s => $"--- silo :{s.Port} (pid {s.Pid}) ---\n{s.Log}"));

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException)
            {
                // the cluster may be gone already
            }

            _client.Dispose();
        }

        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
    }
}
