using FinCore.Gateway;
using Microsoft.Extensions.Options;

try
{
    var app = GatewayApp.Build(args);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("fincore-gateway: invalid configuration:\n  " + string.Join("\n  ", e.Failures));
    return 2;
}
catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or IOException)
{
    await Console.Error.WriteLineAsync($"fincore-gateway: {e.Message}");
    return 2;
}
