using FinCore.Runtime.Hosting;
using FinCore.Runtime.Membership;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FinCore.Tests.Infrastructure;

/// <summary>A cluster as a user runs it: silo processes on loopback over a database of their own, and a cluster
/// client in the test process (what the gateway is) calling grains over the real transport.</summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly ServiceProvider _clientServices;

    private TestCluster(string postgres, string clusterId, string secret, ServiceProvider clientServices)
    {
        Postgres = postgres;
        ClusterId = clusterId;
        Secret = secret;
        _clientServices = clientServices;
        Client = clientServices.GetRequiredService<ClusterClient>();
    }

    public string Postgres { get; }

    public string ClusterId { get; }

    public string Secret { get; }

    public ClusterClient Client { get; }

    public List<SiloProcess> Silos { get; } = [];

    /// <summary>Environment every silo of this cluster starts with.</summary>
    public IReadOnlyDictionary<string, string>? SiloEnvironment { get; private set; }

    public static async Task<TestCluster> StartAsync(PostgresServer server, int silos, string? postgres = null, string? clusterId = null,
        IReadOnlyDictionary<string, string>? env = null)
    {
        postgres ??= await server.CreateDatabaseAsync();
        clusterId ??= "test-" + Guid.NewGuid().ToString("N")[..8];
        var secret = "secret-" + Guid.NewGuid().ToString("N");
        var services = CreateClientServices(postgres, clusterId, secret);
        var cluster = new TestCluster(postgres, clusterId, secret, services) { SiloEnvironment = env };
        // The first silo creates the schema; the rest start together.
        await cluster.AddSilosAsync(1);
        if (silos > 1)
        {
            await cluster.AddSilosAsync(silos - 1);
        }

        await cluster.Client.StartAsync(CancellationToken.None);
        return cluster;
    }

    internal static ServiceProvider CreateClientServices(string postgres, string clusterId, string secret)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FINCORE_POSTGRES"] = postgres,
            ["FINCORE_CLUSTER_ID"] = clusterId,
            ["FINCORE_CLUSTER_SECRET"] = secret,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddFinCoreClusterClient(config);
        return services.BuildServiceProvider();
    }

    /// <summary>Starts silos and waits until each is Active (and, unless <paramref name="waitForViews"/> is false, until
    /// every silo's view has caught up).</summary>
    public async Task<List<SiloProcess>> AddSilosAsync(int count, IReadOnlyDictionary<string, string>? env = null, bool waitForViews = true)
    {
        var started = Enumerable.Range(0, count).Select(_ => SiloProcess.Start(Postgres, ClusterId, Secret, env ?? SiloEnvironment)).ToList();
        Silos.AddRange(started);
        foreach (var silo in started)
        {
            await Poll.UntilAsync(async () =>
            {
                if (silo.HasExited)
                {
                    throw new InvalidOperationException($"Silo on port {silo.Port} exited with {silo.ExitCode}:\n{silo.Log}");
                }

                var view = await Client.RefreshAsync(CancellationToken.None);
                return Find(view, silo)?.Status == SiloStatus.Active;
            }, TimeSpan.FromSeconds(60), $"silo on port {silo.Port} to become Active");
        }

        if (waitForViews)
        {
            await WaitForViewsAsync();
        }

        return started;
    }

    /// <summary>Waits until every running silo's own view of the cluster (<c>fincore_membership_version</c> on its
    /// /metrics) has caught up with the membership table, so a test starts on a cluster that agrees on who owns what
    /// (the hand-over that makes the catching-up safe has its own test, which does not wait).</summary>
    private async Task WaitForViewsAsync()
    {
        var version = (await Client.RefreshAsync(CancellationToken.None)).Version;
        foreach (var silo in Silos.Where(s => !s.HasExited))
        {
            await Poll.UntilAsync(async () =>
            {
                if (silo.HasExited)
                {
                    return true;
                }

                try
                {
                    return await silo.MetricAsync("fincore_membership_version") >= version;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false; // not serving /metrics yet, or too busy to answer in time
                }
            }, TimeSpan.FromSeconds(30), $"silo on port {silo.Port} to see membership version {version}");
        }
    }

    public static SiloInfo? Find(MembershipView view, SiloProcess silo) =>
        view.Silos.Where(s => s.Port == silo.Port).OrderByDescending(s => s.StartedAt).FirstOrDefault();

    public SiloProcess SiloById(string siloId) => Silos.Single(s => siloId.StartsWith($"127.0.0.1:{s.Port}@", StringComparison.Ordinal));

    public async Task<MembershipView> ViewAsync() => await Client.RefreshAsync(CancellationToken.None);

    public string Logs() => string.Join("\n\n", Silos.Select(s => $"--- silo :{s.Port} (pid {s.Pid}) ---\n{s.Log}"));

    public async ValueTask DisposeAsync()
    {
        await _clientServices.DisposeAsync();
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
    }
}
