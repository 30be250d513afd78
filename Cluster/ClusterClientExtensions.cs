using Orleans.Configuration;

namespace FinCore.Cluster;

/// <summary>Configures an Orleans client (the gateway, tools, tests) for a FinCore cluster.</summary>
public static class ClusterClientExtensions
{
    /// <summary>ADO.NET gateway list, the cluster certificate, and a response timeout short enough that a call whose
    /// silo died fails in seconds (Orleans' default is 30 s) so the caller can retry it.</summary>
    public static IClientBuilder UseFinCoreCluster(this IClientBuilder client, ClusterSettings settings, TimeSpan? responseTimeout = null)
    {
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.ClusterId;
            o.ServiceId = ClusterSettings.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = ClusterSettings.Invariant;
            o.ConnectionString = settings.OrleansPostgres;
        });
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = responseTimeout ?? TimeSpan.FromSeconds(5));
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(10));
        client.UseTls(settings.Certificate, settings.ConfigureTls);
        client.AddActivityPropagation(); // grain calls carry the caller's W3C trace context

        return client;
    }
}
