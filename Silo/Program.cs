using FinCore.Grains;
using FinCore.Grains.Charges;
using FinCore.Runtime.Hosting;
using FinCore.Runtime.Telemetry;
using FinCore.Silo;
using Microsoft.Extensions.Options;

try
{
    var builder = WebApplication.CreateSlimBuilder(args);
    builder.Configuration.AddFinCoreConfiguration(args);
    builder.Logging.AddFinCoreConsole();
    builder.AddFinCoreSilo(typeof(ChargeGrain).Assembly);
    builder.Services.AddFinCorePayments(builder.Configuration);
    builder.Services.AddFinCoreTelemetry(builder.Configuration, "fincore-silo");
    var app = builder.Build();
    app.Services.GetRequiredService<FinCore.Runtime.Telemetry.PrometheusMetrics>(); // listen from the start
    app.MapSiloHealth();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("fincore-silo: invalid configuration:\n  " + string.Join("\n  ", e.Failures));
    return 2;
}
catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or System.Net.Sockets.SocketException or IOException)
{
    await Console.Error.WriteLineAsync($"fincore-silo: {e.Message}");
    return 2;
}
