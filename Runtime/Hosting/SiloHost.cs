using System.Reflection;
using System.Text;
using FinCore.Runtime.Activation;
using FinCore.Runtime.Invocation;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Persistence;
using FinCore.Runtime.Reminders;
using FinCore.Runtime.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Runtime.Hosting;

/// <summary>Runs a silo inside a host: joins the cluster on start (Joining, then Active once the silo port
/// listens), and on stop (SIGTERM) leaves gracefully: ShuttingDown, finish in-flight turns and deactivate,
/// keep forwarding for a grace period while every node sees it leave, then Dead.</summary>
public sealed class SiloHost : IHostedLifecycleService, IAsyncDisposable
{
    private static readonly TimeSpan HandoverTurnWait = TimeSpan.FromMilliseconds(500);

    private readonly Database _database;
    private readonly GrainStorage _storage;
    private readonly ConnectionManager _connections;
    private readonly MembershipOptions _membershipOptions;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<SiloHost> _logger;
    private readonly SiloRuntime _runtime;
    private readonly CancellationTokenSource _closeConnections = new();
    private int _stopping;

    public SiloHost(
        Database database,
        IOptions<ClusterOptions> cluster,
        IOptions<SiloOptions> silo,
        IOptions<MembershipOptions> membership,
        IOptions<ActivationOptions> activation,
        IOptions<MessagingOptions> messaging,
        IOptions<StorageOptions> storage,
        IOptions<ReminderOptions> reminders,
        GrainInterfaceRegistry interfaces,
        IEnumerable<GrainAssembly> grainAssemblies,
        IServiceProvider services,
        IHostApplicationLifetime lifetime,
        ILoggerFactory loggers)
    {
        _database = database;
        _membershipOptions = membership.Value;
        _lifetime = lifetime;
        _logger = loggers.CreateLogger<SiloHost>();
        var s = silo.Value;
        var generation = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var self = new SiloInfo($"{s.AdvertisedAddress}:{s.Port}@{generation}", s.AdvertisedAddress, s.Port,
            s.HttpPort > 0 ? $"http://{s.AdvertisedAddress}:{s.HttpPort}" : null, SiloStatus.Joining,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, TimeSpan.Zero, Level: RuntimeLevel.Current);
        Settings = new TransportSettings(cluster.Value.ClusterId, Encoding.UTF8.GetBytes(cluster.Value.ClusterSecret), self.SiloId,
            messaging.Value.MaxInFlightPerConnection, messaging.Value.ConnectTimeout);

        var assemblies = grainAssemblies.Select(g => g.Assembly)
            .Concat(s.GrainAssemblies.Select(p => Assembly.LoadFrom(Path.GetFullPath(p))));
        var classes = new GrainClassRegistry(assemblies, interfaces);
        _runtime = new SiloRuntime(interfaces, activation.Value, new RuntimeLog(loggers.CreateLogger("FinCore.Runtime.Catalog")));
        _storage = new GrainStorage(database, storage.Value, loggers.CreateLogger<GrainStorage>());
        _connections = new ConnectionManager(Settings);
        var table = new MembershipTable(database.DataSource, cluster.Value.ClusterId);
        _runtime.Membership = new SiloMembership(table, self, _membershipOptions, _connections.ProbeAsync, OnDeclaredDead,
            loggers.CreateLogger("FinCore.Runtime.Membership"));
        _runtime.Remote = new RemoteCaller(_runtime.Membership, _connections, messaging.Value, self.SiloId);
        _runtime.Catalog = new Catalog(_runtime, classes);
        _runtime.Activator = new GrainActivator(services, _storage);
        _runtime.Reminders = new ReminderService(new ReminderTable(database.DataSource, cluster.Value.ClusterId), _runtime,
            reminders.Value, loggers.CreateLogger<ReminderService>());
        _runtime.Membership.ViewChanged += OnViewChanged;
    }

    /// <summary>This silo's id: address, port and start generation.</summary>
    public string SiloId => _runtime.LocalSiloId;

    /// <summary>This silo's membership status.</summary>
    public SiloStatus Status => _runtime.Membership.Status;

    /// <summary>The membership as this silo last read it.</summary>
    public MembershipView View => _runtime.Membership.View;

    /// <summary>Activations on this silo now.</summary>
    public int ActivationCount => _runtime.Catalog.Count;

    /// <summary>True when this silo is Active and the ring places that grain here (for per-silo background work).</summary>
    public bool OwnsLocally<TGrainInterface>(string key) where TGrainInterface : IGrainWithStringKey =>
        _runtime.OwnsLocally(_runtime.Interfaces.IdOf<TGrainInterface>(key));

    /// <summary>Creates grain references; calls from inside the silo take the local path when it owns the grain.</summary>
    public IGrainFactory GrainFactory => _runtime.GrainFactory;

    internal TransportSettings Settings { get; }

    internal IRequestDispatcher Dispatcher => _runtime;

    /// <summary>Cancelled when the silo has left the cluster: incoming connections close then, so the web host
    /// need not wait for peers to hang up.</summary>
    internal CancellationToken ConnectionsClosing => _closeConnections.Token;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await _database.MigrateAsync(cancellationToken);
        await _runtime.Membership.JoinAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        // The silo port listens now (the web host started before this runs): take a share of the ring. Until every
        // other silo has handed that change over, the grains that come here with it wait to be activated.
        _runtime.StartSettled(_runtime.Membership.View);
        await _runtime.Membership.SetStatusAsync(SiloStatus.Active, cancellationToken);
        _runtime.Membership.StartLoop();
        _runtime.Catalog.StartCollector();
        _runtime.Reminders.Start();
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0 || _runtime.Membership.IsDeclaredDead)
        {
            return;
        }

        HostingLog.ShuttingDown(_logger, SiloId);
        try
        {
            // Leave the ring first: from here every call this silo receives is forwarded to the new owner.
            await _runtime.Membership.SetStatusAsync(SiloStatus.ShuttingDown, cancellationToken);
            await _runtime.Reminders.DisposeAsync();
            await _runtime.Catalog.DeactivateAllAsync(DeactivationReason.ShuttingDown);
            await Task.Delay(_membershipOptions.ShutdownGrace, cancellationToken);
            await _runtime.Catalog.DeactivateAllAsync(DeactivationReason.ShuttingDown);
            // Stop heartbeating first, so this silo does not take its own goodbye for a death sentence.
            await _runtime.Membership.DisposeAsync();
            await _runtime.Membership.SetStatusAsync(SiloStatus.Dead, cancellationToken);
            HostingLog.ShutdownComplete(_logger, SiloId);
        }
        catch (Exception e) when (e is OperationCanceledException or Npgsql.NpgsqlException)
        {
            HostingLog.ShutdownIncomplete(_logger, e, SiloId);
        }
        finally
        {
            await _closeConnections.CancelAsync();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void OnViewChanged(MembershipView view)
    {
        _connections.Prune(view);
        var leaving = _runtime.Catalog.OnOwnershipChanged(_runtime.OwnsLocally);
        if (_stopping == 0)
        {
            _runtime.Reminders.OnOwnershipChanged();
        }

        _ = HandOverAsync(leaving, view.Version);
    }

    /// <summary>Once the activations this view places elsewhere are gone, says so with the next heartbeat: their new
    /// owners activate them only then. Their deactivation was requested at once, so none starts another turn here; the
    /// turns still running get <see cref="HandoverTurnWait"/> to end, not longer: such a turn can be waiting on a call to
    /// a grain that moved too, whose new owner waits for this very hand-over (a charge calling its tenant while its silo
    /// drains), and waiting for it held that call up to the hand-over timeout.</summary>
    private async Task HandOverAsync(Task leaving, long version)
    {
        try
        {
            await leaving.WaitAsync(HandoverTurnWait);
        }
        catch (Exception)
        {
            // Still running after the wait, or a failed deactivation (which still ended the activation).
        }

        _runtime.Membership.MarkHandedOver(version);
    }

    private void OnDeclaredDead()
    {
        // Peers have taken over this silo's grains; stop at once, without a drain (ETags fence any late write).
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return;
        }

        _lifetime.StopApplication();
        _closeConnections.Cancel();
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            Environment.Exit(70);
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _runtime.Membership.DisposeAsync();
        await _runtime.Reminders.DisposeAsync();
        _runtime.Catalog.Dispose();
        await _connections.DisposeAsync();
        await _storage.DisposeAsync();
    }
}
