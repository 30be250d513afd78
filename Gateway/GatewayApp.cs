using System.Net;
using FinCore.Gateway.Apis;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Dashboard;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Push;
using FinCore.Gateway.Telemetry;
using FinCore.Cluster;
using FinCore.Persistence;
using FinCore.Privacy;
using FinCore.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FinCore.Gateway;

/// <summary>The gateway: stateless, an Orleans client of the cluster (never a silo); each API call becomes grain calls.</summary>
internal static class GatewayApp
{
    /// <summary>The gateway's own command-line flags, besides the cluster's (<see cref="FinCoreHosting"/>).</summary>
    private static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--psp-secret"] = "FINCORE_PSP_SECRET",
    };

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Configuration.AddFinCoreConfiguration(args, Switches);
        builder.Logging.AddFinCoreConsole();
        var config = builder.Configuration;
        var options = new GatewayOptions
        {
            AdminToken = config["FINCORE_ADMIN_TOKEN"] ?? "",
            HttpPort = int.TryParse(config["FINCORE_HTTP_PORT"] ?? "8080", out var port) ? port : -1,
            ListenAddress = config["FINCORE_LISTEN_ADDRESS"] ?? "127.0.0.1",
            PspSecret = config["FINCORE_PSP_SECRET"] ?? "",
        };
        builder.Services.AddOptions<GatewayOptions>().Configure(o =>
        {
            o.AdminToken = options.AdminToken;
            o.HttpPort = options.HttpPort;
            o.ListenAddress = options.ListenAddress;
            o.PspSecret = options.PspSecret;
        }).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<GatewayOptions>>().Value);

        // A call whose silo died fails after 5 s instead of Orleans' 30 s, and the idempotent ones are retried
        // (GrainCallRetry): a silo kill costs an API client latency, not an error.
        var cluster = ClusterSettings.From(config);
        builder.Services.AddSingleton(cluster);
        builder.UseOrleansClient(client => client.UseFinCoreCluster(cluster));
        builder.Services.AddSingleton(sp => new Database(cluster.Postgres, [], sp.GetRequiredService<ILogger<Database>>()));
        builder.Services.AddSingleton<RequestStats>();
        builder.Services.AddFinCoreTelemetry(config, "fincore-gateway");
        // /metrics: FinCore's meters and .NET's, through OpenTelemetry's Prometheus exporter.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("FinCore.*", "System.Runtime")
                .AddView(GatewayTelemetry.DurationInstrument, new ExplicitBucketHistogramConfiguration { Boundaries = RequestStats.Bounds[..^1] })
                .AddPrometheusExporter())
            .ConfigureResource(r => r.AddService("fincore-gateway"));
        builder.Services.AddPersonalData(config);
        builder.Services.AddSingleton<ApiKeys>();
        builder.Services.AddSingleton<SessionTokens>();
        builder.Services.AddSingleton<PushHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PushHub>());
        builder.Services.AddSingleton<ReadModel>();
        builder.Services.AddSingleton<LedgerReadModel>();
        builder.Services.AddSingleton<PersonalDataRecords>();
        builder.Services.AddSingleton<TenantRateLimiter>();
        builder.Services.AddHttpClient("silo-health", c => c.Timeout = TimeSpan.FromMilliseconds(800));
        builder.Services.AddSingleton<ClusterSnapshots>();
        builder.Services.AddSingleton<DashboardSampler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DashboardSampler>());
        builder.Services.AddExceptionHandler<ExceptionMapping>();
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = Validation.JsonBody.DrainBytes;
            k.Listen(IPAddress.Parse(options.ListenAddress), options.HttpPort is > 0 and < 65536 ? options.HttpPort : 8080);
        });

        var app = builder.Build();
        app.UseHttpTelemetry();
        app.UseRequestIds();
        app.UseExceptionHandler();
        app.UseStatusCodePages(async ctx =>
        {
            // Unknown routes and methods get problem responses too.
            var http = ctx.HttpContext;
            var status = http.Response.StatusCode;
            var code = status switch { 404 => "not_found", 405 => "method_not_allowed", 413 => "payload_too_large", 415 => "unsupported_media_type", _ => "invalid_request" };
            await ProblemResults.WriteAsync(http, status, code, status switch
            {
                404 => "No such route.",
                405 => $"{http.Request.Method} is not allowed here.",
                _ => "The request was rejected.",
            });
        });
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthApi();
        app.MapChargesApi();
        app.MapReportsApi();
        app.MapCustomersApi();
        app.MapPersonalDataApi();
        app.MapAccountsApi();
        app.MapTransfersApi();
        app.MapRefundsApi();
        app.MapNotificationsApi();
        app.MapPushApi();
        app.MapTenantApi();
        app.MapAdminApi();
        app.MapDeadLettersApi();
        app.MapPspApi();
        app.MapDashboardApi();
        return app;
    }
}
