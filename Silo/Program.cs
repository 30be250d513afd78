using FinCore.Cluster;
using FinCore.Grains;
using FinCore.Persistence;
using FinCore.Silo;
using FinCore.Silo.Schema;
using FinCore.Telemetry;
using Microsoft.Extensions.Options;

if (args is ["--make-cluster-cert", var certPath])
{
    ClusterCertificates.Create(certPath);
    return 0;
}

try
{
    var builder = WebApplication.CreateSlimBuilder(args);
    builder.Configuration.AddFinCoreConfiguration(args, SiloConfiguration.SwitchMappings);
    builder.Logging.AddFinCoreConsole();
    var cluster = ClusterSettings.From(builder.Configuration);
    builder.AddFinCoreSilo(cluster);
    builder.Services.AddFinCorePayments(builder.Configuration);
    builder.Services.AddFinCoreTelemetry(builder.Configuration, "fincore-silo");
    builder.Services.AddSingleton<IMigrationSource, OrleansSchema>();
    builder.Services.AddSingleton<IMigrationSource, FinCore.Silo.Storage.StateMigrations>();
    builder.Services.AddSingleton(sp => new Database(cluster.Postgres, sp.GetServices<IMigrationSource>(), sp.GetRequiredService<ILogger<Database>>()));
    var app = builder.Build();

    // The schema and the providers' statements are in place before Orleans starts: its providers read them at start.
    var database = app.Services.GetRequiredService<Database>();
    await database.MigrateAsync(CancellationToken.None);
    await OrleansQueries.StoreAsync(database.DataSource, CancellationToken.None);

    // Operators' views (the gateway's /admin/v1/cluster, its dashboard) reach each silo's HTTP port through this.
    if (SiloConfiguration.HttpUrl(builder.Configuration) is { } httpUrl)
    {
        app.Lifetime.ApplicationStarted.Register(() => _ = ClusterViewSnapshot.RecordHttpUrlAsync(database.DataSource, cluster.ClusterId,
            app.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString(), httpUrl, CancellationToken.None));
    }

    app.MapSiloHealth();
    app.MapOperatorEndpoints(builder.Configuration["FINCORE_ADMIN_TOKEN"]);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("fincore-silo: invalid configuration:\n  " + string.Join("\n  ", e.Failures));
    return 2;
}
catch (Exception e) when (e is OrleansConfigurationException or InvalidOperationException or FormatException or ArgumentException or System.Net.Sockets.SocketException or IOException or Npgsql.NpgsqlException)
{
    await Console.Error.WriteLineAsync($"fincore-silo: {e.Message}");
    return 2;
}
