using System.Text;
using FinCore.Runtime.Invocation;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Persistence;
using FinCore.Runtime.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Runtime.Hosting;

/// <summary>The gateway's way into the cluster: reads membership from PostgreSQL, computes the owner of each grain
/// on the same ring as the silos, and sends the call there over a multiplexed connection (one hop).</summary>
public sealed class ClusterClient : IClusterClient, IHostedService, IAsyncDisposable
{
    private readonly ClientMembership _membership;
    private readonly ConnectionManager _connections;
    private readonly IGrainFactory _factory;

    public ClusterClient(Database database, IOptions<ClusterOptions> cluster, IOptions<MembershipOptions> membership,
        IOptions<MessagingOptions> messaging, GrainInterfaceRegistry interfaces, ILoggerFactory loggers)
    {
        var settings = new TransportSettings(cluster.Value.ClusterId, Encoding.UTF8.GetBytes(cluster.Value.ClusterSecret),
            $"client:{Environment.MachineName}:{Environment.ProcessId}", messaging.Value.MaxInFlightPerConnection, messaging.Value.ConnectTimeout);
        _connections = new ConnectionManager(settings);
        _membership = new ClientMembership(new MembershipTable(database.DataSource, cluster.Value.ClusterId), membership.Value,
            loggers.CreateLogger("FinCore.Runtime.Membership"));
        _membership.ViewChanged += _connections.Prune;
        var remote = new RemoteCaller(_membership, _connections, messaging.Value, localSiloId: null);
        _factory = new GrainFactory(interfaces, new Invoker(remote));
    }

    public MembershipView View => _membership.View;

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey =>
        _factory.GetGrain<TGrainInterface>(primaryKey);

    public Task<MembershipView> RefreshAsync(CancellationToken cancellationToken) => _membership.RefreshAsync(cancellationToken);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _membership.RefreshAsync(cancellationToken);
        }
        catch (Npgsql.NpgsqlException)
        {
            // The database may be down at start; the loop keeps trying and calls answer 503 until then.
        }

        _membership.StartLoop();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _membership.DisposeAsync();
        await _connections.DisposeAsync();
    }

    private sealed class Invoker(RemoteCaller remote) : IGrainCallInvoker
    {
        public ValueTask<object?> InvokeAsync(GrainId grainId, MethodDescriptor method, object?[] args) =>
            remote.InvokeAsync(grainId, method, args, runLocal: null);
    }
}
