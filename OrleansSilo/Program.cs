using FinCore.Cluster;
using FinCore.Runtime.Hosting;
using FinCore.Runtime.Persistence;
using FinCore.Silo;
using FinCore.Silo.Schema;

if (args is ["--make-cluster-cert", var certPath])
{
    ClusterCertificates.Create(certPath);
    return 0;
}

try
{
    var builder = WebApplication.CreateSlimBuilder(args);
    builder.Configuration.AddEnvironmentVariables();
    builder.Configuration.AddCommandLine(args, SiloConfiguration.SwitchMappings.ToDictionary(k => k.Key, k => k.Value));
    builder.Logging.AddFinCoreConsole();
    var cluster = ClusterSettings.From(builder.Configuration);
    builder.AddFinCoreSilo(cluster);
    builder.Services.AddSingleton<IMigrationSource, OrleansSchema>();
    builder.Services.AddSingleton<IMigrationSource, FinCore.Silo.Storage.StateMigrations>();
    builder.Services.AddSingleton(sp => new Database(cluster.Postgres, sp.GetServices<IMigrationSource>(), sp.GetRequiredService<ILogger<Database>>()));
    var app = builder.Build();

    // The schema and the providers' statements are in place before Orleans starts: its providers read them at start.
    var database = app.Services.GetRequiredService<Database>();
    await database.MigrateAsync(CancellationToken.None);
    await OrleansQueries.StoreAsync(database.DataSource, CancellationToken.None);

    app.MapSiloHealth();
    app.MapOperatorEndpoints(builder.Configuration["FINCORE_ADMIN_TOKEN"]);
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or System.Net.Sockets.SocketException or IOException or Npgsql.NpgsqlException)
{
    await Console.Error.WriteLineAsync($"fincore-silo: {e.Message}");
    return 2;
}
