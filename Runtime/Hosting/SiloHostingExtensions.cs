using Microsoft.AspNetCore.Connections;
using System.Net;
using System.Reflection;
using FinCore.Runtime.Activation;
using FinCore.Runtime.Invocation;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Persistence;
using FinCore.Runtime.Reminders;
using FinCore.Runtime.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Runtime.Hosting;

/// <summary>Wires a silo or a cluster client into an ASP.NET host, configured by FinCore's environment names.</summary>
public static class SiloHostingExtensions
{
    /// <summary>Command-line flags and the configuration keys they set (environment names).</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--postgres"] = "FINCORE_POSTGRES",
        ["--cluster-id"] = "FINCORE_CLUSTER_ID",
        ["--cluster-secret"] = "FINCORE_CLUSTER_SECRET",
        ["--silo-port"] = "FINCORE_SILO_PORT",
        ["--silo-address"] = "FINCORE_SILO_ADDRESS",
        ["--http-port"] = "FINCORE_HTTP_PORT",
        ["--admin-token"] = "FINCORE_ADMIN_TOKEN",
        ["--psp-url"] = "FINCORE_PSP_URL",
        ["--psp-secret"] = "FINCORE_PSP_SECRET",
        ["--grain-assemblies"] = "FINCORE_GRAIN_ASSEMBLIES",
    };

    /// <summary>Adds environment variables and the flags of <see cref="SwitchMappings"/> (flags win).</summary>
    public static void AddFinCoreConfiguration(this IConfigurationBuilder configuration, string[] args)
    {
        // Quiet defaults, lowest precedence: per-request framework logs cost more CPU than the requests themselves.
        configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
            },
        });
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args, SwitchMappings.ToDictionary(k => k.Key, k => k.Value));
    }

    /// <summary>One-line console logs with UTC timestamps, the same in every FinCore process.</summary>
    public static ILoggingBuilder AddFinCoreConsole(this ILoggingBuilder logging)
    {
        // FINCORE_LOG_FORMAT=json: one JSON object per line (for log shippers); otherwise one readable line.
        if (string.Equals(Environment.GetEnvironmentVariable("FINCORE_LOG_FORMAT"), "json", StringComparison.OrdinalIgnoreCase))
        {
            return logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
                o.IncludeScopes = true;
            });
        }

        return logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
    }

    /// <summary>Makes this web application a silo hosting the grains of <paramref name="grainAssemblies"/>.</summary>
    public static WebApplicationBuilder AddFinCoreSilo(this WebApplicationBuilder builder, params Assembly[] grainAssemblies)
    {
        var config = builder.Configuration;
        var services = builder.Services;
        AddClusterOptions(services, config);
        services.AddOptions<SiloOptions>().Configure(o =>
        {
            o.AdvertisedAddress = config["FINCORE_SILO_ADDRESS"] ?? o.AdvertisedAddress;
            o.ListenAddress = config["FINCORE_SILO_LISTEN_ADDRESS"] ?? o.ListenAddress;
            o.Port = ParseInt(config["FINCORE_SILO_PORT"], o.Port, "FINCORE_SILO_PORT");
            o.HttpPort = ParseInt(config["FINCORE_HTTP_PORT"], o.HttpPort, "FINCORE_HTTP_PORT");
            var extra = config["FINCORE_GRAIN_ASSEMBLIES"];
            if (!string.IsNullOrWhiteSpace(extra))
            {
                o.GrainAssemblies.AddRange(extra.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }).ValidateDataAnnotations().ValidateOnStart();
        AddSubsystemOptions(services, config);
        services.AddOptions<ActivationOptions>().Bind(config.GetSection("Activation")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>().Bind(config.GetSection("Storage")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ReminderOptions>().Bind(config.GetSection("Reminders"));
        foreach (var assembly in grainAssemblies)
        {
            services.AddSingleton(new GrainAssembly(assembly));
        }

        services.AddSingleton<Telemetry.PrometheusMetrics>();
        services.AddSingleton<SiloHost>();
        services.AddHostedService(sp => sp.GetRequiredService<SiloHost>());
        services.AddSingleton(sp => sp.GetRequiredService<SiloHost>().GrainFactory);
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));

        // Read the port here (options are not built yet): the silo port carries the cluster protocol.
        var siloPort = ParseInt(config["FINCORE_SILO_PORT"], 11111, "FINCORE_SILO_PORT");
        var httpPort = ParseInt(config["FINCORE_HTTP_PORT"], 0, "FINCORE_HTTP_PORT");
        var listen = config["FINCORE_SILO_LISTEN_ADDRESS"] ?? config["FINCORE_SILO_ADDRESS"] ?? "127.0.0.1";
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse(listen), siloPort, l => l.UseConnectionHandler<SiloConnectionHandler>());
            if (httpPort > 0)
            {
                k.Listen(IPAddress.Parse(listen), httpPort);
            }
        });
        return builder;
    }

    /// <summary>Registers <paramref name="storage"/> under <paramref name="name"/>: grains whose
    /// <see cref="PersistentStateAttribute"/> names it keep that state in its table's rows.</summary>
    public static IServiceCollection AddRowStateStorage<TState>(this IServiceCollection services, string name, RowStateStorage<TState> storage)
        where TState : new() => services.AddKeyedSingleton<RowStateStorage>(name, storage);

    /// <summary>Adds a cluster client (for gateways): <see cref="IClusterClient"/> and <see cref="IGrainFactory"/>.</summary>
    public static IServiceCollection AddFinCoreClusterClient(this IServiceCollection services, IConfiguration config)
    {
        AddClusterOptions(services, config);
        AddSubsystemOptions(services, config);
        services.AddSingleton<Telemetry.PrometheusMetrics>();
        services.AddSingleton<ClusterClient>();
        services.AddSingleton<IClusterClient>(sp => sp.GetRequiredService<ClusterClient>());
        services.AddSingleton<IGrainFactory>(sp => sp.GetRequiredService<ClusterClient>());
        services.AddHostedService(sp => sp.GetRequiredService<ClusterClient>());
        return services;
    }

    private static void AddClusterOptions(IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<ClusterOptions>().Configure(o =>
        {
            o.ClusterId = config["FINCORE_CLUSTER_ID"] ?? o.ClusterId;
            o.ClusterSecret = config["FINCORE_CLUSTER_SECRET"] ?? o.ClusterSecret;
            o.Postgres = config["FINCORE_POSTGRES"] ?? o.Postgres;
        }).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddDatabase();
        services.TryAddSingleton<GrainInterfaceRegistry>();
    }

    private static void AddSubsystemOptions(IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<MembershipOptions>().Bind(config.GetSection("Membership"));
        services.AddOptions<MessagingOptions>().Bind(config.GetSection("Messaging")).ValidateDataAnnotations().ValidateOnStart();
    }

    private static void TryAddDatabase(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(Database)))
        {
            return;
        }

        services.AddSingleton<IMigrationSource, RuntimeMigrations>();
        services.AddSingleton(sp => new Database(
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.Postgres,
            sp.GetServices<IMigrationSource>(),
            sp.GetRequiredService<ILogger<Database>>()));
    }

    private static void TryAddSingleton<T>(this IServiceCollection services) where T : class
    {
        if (!services.Any(d => d.ServiceType == typeof(T)))
        {
            services.AddSingleton<T>();
        }
    }

    private static int ParseInt(string? value, int fallback, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return int.TryParse(value, out var n) ? n : throw new OptionsValidationException(name, typeof(int), [$"{name} must be a number, not '{value}'."]);
    }
}
