using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Logging;

namespace FinCore.Cluster;

/// <summary>Configuration and logging, the same in every FinCore process.</summary>
public static class FinCoreHosting
{
    /// <summary>The command-line flags every cluster process takes, and the configuration keys they set.</summary>
    private static readonly IReadOnlyDictionary<string, string> ClusterSwitches = new Dictionary<string, string>
    {
        ["--postgres"] = "FINCORE_POSTGRES",
        ["--cluster-id"] = "FINCORE_CLUSTER_ID",
        ["--cluster-cert"] = "FINCORE_CLUSTER_CERT",
        ["--http-port"] = "FINCORE_HTTP_PORT",
        ["--admin-token"] = "FINCORE_ADMIN_TOKEN",
    };

    /// <summary>Adds environment variables and the command-line flags (flags win: the cluster's own, then the process's
    /// <paramref name="switches"/>), over quiet logging defaults.</summary>
    public static void AddFinCoreConfiguration(this IConfigurationBuilder configuration, string[] args, IReadOnlyDictionary<string, string> switches)
    {
        // Quiet defaults, lowest precedence: per-request framework logs cost more CPU than the requests themselves.
        configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
                // Orleans logs every activation placement, gateway refresh and statistics round at Information.
                ["Logging:LogLevel:Orleans"] = "Warning",
                // Orleans' placement retries log every attempt through Polly.
                ["Logging:LogLevel:Polly"] = "Warning",
            },
        });
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args, ClusterSwitches.Concat(switches).ToDictionary(k => k.Key, k => k.Value));
    }

    /// <summary>One-line console logs with UTC timestamps (<c>FINCORE_LOG_FORMAT=json</c>: one JSON object per line, for
    /// log shippers).</summary>
    public static ILoggingBuilder AddFinCoreConsole(this ILoggingBuilder logging)
    {
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
}
