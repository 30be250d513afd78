using System.Diagnostics;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Runtime;

public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData("FINCORE_POSTGRES", "")]
    [InlineData("FINCORE_CLUSTER_SECRET", "short")]
    [InlineData("FINCORE_SILO_PORT", "eleven")]
    public async Task A_silo_with_bad_configuration_exits_with_a_clear_message(string variable, string value)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Repo.Built("Silo", "FinCore.Silo.dll"));
        psi.Environment["FINCORE_POSTGRES"] = "Host=127.0.0.1;Port=1;Username=x;Database=x";
        psi.Environment["FINCORE_CLUSTER_SECRET"] = "a-secret-long-enough-for-the-check";
        psi.Environment["FINCORE_SILO_PORT"] = FreePort.Next().ToString();
        psi.Environment[variable] = value;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        Assert.Equal(2, p.ExitCode);
        Assert.Contains(variable, await stderr, StringComparison.Ordinal);
    }
}
