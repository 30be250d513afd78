using System.Diagnostics.Metrics;
using System.Net;
using System.Reflection;
using FinCore.Cluster;
using FinCore.Grains.Charges;
using FinCore.Persistence;
using FinCore.Silo.Storage;
using Orleans.Runtime.Hosting;
using Orleans.Configuration;
using Orleans.Dashboard;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Serialization;

namespace FinCore.Silo;

/// <summary>All of a FinCore silo's Orleans configuration, from FinCore's environment names.</summary>
internal static class SiloConfiguration
{
    /// <summary>The silo's own command-line flags, besides the cluster's (<c>FinCoreHosting</c>).</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--silo-address"] = "FINCORE_SILO_ADDRESS",
        ["--silo-listen-address"] = "FINCORE_SILO_LISTEN_ADDRESS",
        ["--silo-port"] = "FINCORE_SILO_PORT",
        ["--gateway-port"] = "FINCORE_GATEWAY_PORT",
        ["--silo-name"] = "FINCORE_SILO_NAME",
        ["--grain-assemblies"] = "FINCORE_GRAIN_ASSEMBLIES",
        ["--psp-url"] = "FINCORE_PSP_URL",
    };

    /// <summary>Makes this web application an Orleans silo of the cluster the configuration names.</summary>
    public static WebApplicationBuilder AddFinCoreSilo(this WebApplicationBuilder builder, ClusterSettings cluster)
    {
        var config = builder.Configuration;
        // The address other members dial; the one to listen on may be wider (a container: 0.0.0.0).
        var address = IPAddress.Parse(config["FINCORE_SILO_ADDRESS"] ?? "127.0.0.1");
        var listen = IPAddress.Parse(config["FINCORE_SILO_LISTEN_ADDRESS"] ?? address.ToString());
        var siloPort = Port(config, "FINCORE_SILO_PORT", 11111);
        var gatewayPort = Port(config, "FINCORE_GATEWAY_PORT", 30000);
        var httpPort = Port(config, "FINCORE_HTTP_PORT", 0);
        var siloName = config["FINCORE_SILO_NAME"] ?? $"silo-{siloPort}";
        // The payment grains, and any more named (the tests' probe grains).
        var grainAssemblies = LoadGrainAssemblies(config["FINCORE_GRAIN_ASSEMBLIES"]).Prepend(typeof(ChargeGrain).Assembly).ToList();
        var storage = config.GetSection("Storage").Get<GroupCommitOptions>() ?? new GroupCommitOptions();

        builder.WebHost.ConfigureKestrel(k =>
        {
            if (httpPort > 0)
            {
                k.Listen(listen, httpPort);
            }
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
        builder.Services.AddSingleton(cluster);
        // Orleans' own meters (activations, messaging, membership, storage, reminders…), FinCore's and .NET's on /metrics.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("Microsoft.Orleans", "FinCore.*", "System.Runtime")
                .AddView(i => IsPerOperation(i) ? MetricStreamConfiguration.Drop : null)
                .AddPrometheusExporter())
            .ConfigureResource(r => r.AddService("fincore-silo", serviceInstanceId: siloName));

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = ClusterSettings.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = siloName);
            silo.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: listen.Equals(IPAddress.Any));
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = ClusterSettings.Invariant;
                o.ConnectionString = cluster.OrleansPostgres;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = ClusterSettings.Invariant;
                o.ConnectionString = cluster.OrleansPostgres;
            });
            silo.AddAdoNetGrainStorageAsDefault(o =>
            {
                o.Invariant = ClusterSettings.Invariant;
                o.ConnectionString = cluster.OrleansPostgres;
            });
            silo.UseSystemTextJsonGrainStorageSerializer();
            // FinCore's own storage, for grains whose writes are hot or carry statements (GroupCommitGrainStorage).
            silo.Services.AddGrainStorage(GroupCommitGrainStorage.ProviderName, (sp, name) => new GroupCommitGrainStorage(name,
                sp.GetRequiredService<Database>().DataSource, storage, sp.GetRequiredService<ILogger<GroupCommitGrainStorage>>()));
            // States kept in application rows: every RowStateMapping of the grain assemblies is a provider of its name.
            foreach (var rows in FindRowMappings(grainAssemblies).GroupBy(m => m.ProviderName))
            {
                silo.Services.AddGrainStorage(rows.Key, (sp, name) => new GroupCommitGrainStorage(name,
                    sp.GetRequiredService<Database>().DataSource, storage, sp.GetRequiredService<ILogger<GroupCommitGrainStorage>>(), rows));
            }
            silo.Configure<ClusterMembershipOptions>(ConfigureFailureDetection);
            // The directory cache holds where other silos' grains live. Orleans keeps up to 1,000,000 entries, and the
            // Orleans dashboard counts them every second by walking the cache: after two minutes at 800 charges/s that
            // walk was 3% of a silo's CPU, growing with the run (ops/bench/profile). A charge is called within seconds
            // of its creation, so the last minute of charges at 800/s (50,000) is plenty to keep.
            silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = 50_000);
            // Idle activations are looked for every 15 s (default 1 min): a type's age limit must exceed it, and the
            // charge's is one minute.
            silo.Configure<GrainCollectionOptions>(o => o.CollectionQuantum = TimeSpan.FromSeconds(15));
            // PSP retries and webhook back-off schedule reminders seconds apart (Orleans' minimum is 1 min).
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.UseTls(cluster.Certificate, cluster.ConfigureTls);
            silo.AddDashboard();
            silo.AddIncomingGrainCallFilter<GrainCallMetrics>();
            // W3C trace context from the caller through every grain call (spans when tracing is on: AddFinCoreTelemetry).
            silo.AddActivityPropagation();
            foreach (var assembly in grainAssemblies)
            {
                silo.Services.AddSerializer(s => s.AddAssembly(assembly));
            }
        });
        return builder;
    }

    /// <summary>Failure detection, tuned so a silo that dies (kill -9, a lost machine) is declared dead and its grains
    /// answer from the others within 3 s (the test's bound; ORLEANS-NOTES measured 1.4–1.8 s) instead of ~11 s at Orleans' defaults.
    /// <list type="bullet">
    /// <item><c>ProbeTimeout</c> 1 s (default 5 s): each silo probes its peers every second and declares a peer
    /// suspect after <c>NumMissedProbesLimit</c> (2; default 3) missed probes in a row: with 3, a killed silo's grains
    /// answered again after 3.07 and 4.11 s in two runs of the suite (the bound is 3 s); 2 is one probe period sooner. Orleans adapts the timeout per peer
    /// (½–4× of it) from the round trips it sees, and a suspicion needs <c>NumVotesForDeathDeclaration</c> votes
    /// (2, default; one when only two silos are alive) and, with indirect probes (on, default), a second silo's
    /// failed probe. The trade: a silo that cannot answer a probe for ~2 s in a row (a stop-the-world pause, a
    /// starved core) is evicted and restarts; <c>ops/chaos --long</c> runs the cluster at full load on two cores
    /// to show it does not happen there.</item>
    /// <item><c>IAmAliveTablePublishTimeout</c> 10 s (default 30 s): the heartbeat column operators see in
    /// <c>/admin/v1/cluster</c> is at most 10 s old; one small update per silo per period.</item>
    /// <item><c>TableRefreshTimeout</c> 10 s (default 60 s): a silo that missed a change notification reads the
    /// membership table at least this often.</item>
    /// </list></summary>
    private static void ConfigureFailureDetection(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        o.TableRefreshTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>
    /// Orleans instruments recorded on every message, request, activation or directory operation (sizes, dispatcher
    /// and gateway counts, request latency; directory lookups, registrations and unregistrations; activations created
    /// and destroyed, with their latency): not exported. Recording the first group cost ~2% of a silo's CPU at 800
    /// charges/s, the second ~2% more (a charge is an activation, a directory registration and its removal, and
    /// lookups; <c>ops/bench/profile</c>). What an operator reads from them is on <c>/metrics</c> already:
    /// <c>fincore_grain_calls_total</c> and <c>fincore_grain_call_duration_milliseconds</c> per grain type, and the
    /// gauges <c>orleans_catalog_activations</c>, <c>orleans_grains</c> and <c>orleans_directory_*_size</c>.
    /// Messaging failures (dropped, rejected, expired, rerouted) and activation failures stay.
    /// </summary>
    private static readonly HashSet<string> PerOperation =
    [
        "orleans-app-requests-latency", "orleans-gateway-received", "orleans-gateway-sent",
        "orleans-messaging-received-header-size", "orleans-messaging-received-messages-size",
        "orleans-messaging-sent-header-size", "orleans-messaging-sent-messages-size", "orleans-messaging-sent-local",
        "orleans-messaging-processing-dispatcher-forwarded", "orleans-messaging-processing-dispatcher-processed",
        "orleans-messaging-processing-dispatcher-received", "orleans-messaging-processing-ima-enqueued",
        "orleans-messaging-processing-ima-received",
        "orleans-directory-lookups-cache-issued", "orleans-directory-lookups-cache-successes",
        "orleans-directory-lookups-full-issued", "orleans-directory-lookups-local-directory-issued",
        "orleans-directory-lookups-local-directory-successes", "orleans-directory-lookups-local-issued",
        "orleans-directory-lookups-local-successes", "orleans-directory-lookups-remote-received",
        "orleans-directory-lookups-remote-sent", "orleans-directory-registration-duration",
        "orleans-directory-registrations", "orleans-directory-registrations-single-act-issued",
        "orleans-directory-registrations-single-act-local", "orleans-directory-registrations-single-act-remote-received",
        "orleans-directory-registrations-single-act-remote-sent", "orleans-directory-unregistrations-issued",
        "orleans-directory-unregistrations-local", "orleans-directory-unregistrations-many-issued",
        "orleans-directory-unregistrations-many-remote-received", "orleans-directory-unregistrations-many-remote-sent",
        "orleans-directory-unregistrations-remote-received", "orleans-directory-unregistrations-remote-sent",
        "orleans-directory-validations-cache-received",
        "orleans-catalog-activation-created", "orleans-catalog-activation-destroyed", "orleans-catalog-activation-latency",
        "orleans-catalog-deactivation-latency",
    ];

    private static bool IsPerOperation(Instrument instrument) =>
        instrument.Meter.Name == "Microsoft.Orleans" && PerOperation.Contains(instrument.Name);

    /// <summary>Where this silo serves HTTP, when it does (<c>FINCORE_HTTP_PORT</c>).</summary>
    public static string? HttpUrl(IConfiguration config)
    {
        var port = Port(config, "FINCORE_HTTP_PORT", 0);
        return port > 0 ? $"http://{config["FINCORE_SILO_ADDRESS"] ?? "127.0.0.1"}:{port}" : null;
    }

    private static IEnumerable<RowStateMapping> FindRowMappings(IEnumerable<Assembly> assemblies) =>
        assemblies.SelectMany(a => a.GetTypes())
            .Where(t => t is { IsAbstract: false, IsClass: true } && typeof(RowStateMapping).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (RowStateMapping)Activator.CreateInstance(t)!);

    private static List<Assembly> LoadGrainAssemblies(string? paths)
    {
        var assemblies = new List<Assembly>();
        foreach (var path in (paths ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"FINCORE_GRAIN_ASSEMBLIES: no assembly at '{path}'.");
            }

            assemblies.Add(Assembly.LoadFrom(path));
        }

        return assemblies;
    }

    private static int Port(IConfiguration config, string name, int fallback)
    {
        var value = config[name];
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return int.TryParse(value, out var port) && port is >= 0 and <= 65535
            ? port
            : throw new InvalidOperationException($"{name} must be a TCP port (0-65535), not '{value}'.");
    }
}
