using FinCore.Chaos;
using FinCore.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FinCore.Tests.Chaos;

/// <summary>One local cluster (3 silos, gateway, PostgreSQL, PSP sandbox) for the short chaos scenarios.</summary>
public sealed class ChaosCluster : IAsyncLifetime
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("fincore-chaos-").FullName;

    internal LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // PostgreSQL runs as its own user when the tests run as root: it must be able to reach its data directory.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Dir, (UnixFileMode)0x1ED);
        }

        Cluster = await LocalCluster.StartAsync(Path.Combine(Dir, "cluster"), silos: 3, _ => { });
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();

        // The cluster's PostgreSQL data and logs take ~800 MB a run; FINCORE_KEEP_TEST_DIRS=1 keeps them for a look.
        TestDirs.Remove(Dir);
    }
}

[CollectionDefinition(Name)]
public sealed class ChaosCollection : ICollectionFixture<ChaosCluster>
{
    public const string Name = "chaos";
}

/// <summary>
/// The short version of every ops/chaos scenario at 300 charges/s: after the faults, every invariant holds — nothing
/// acknowledged lost or stuck (terminal within 60 s of the last fault), nothing captured twice, no status backwards,
/// no idempotency violation, no cross-tenant read, audit chains verify, money conserved through the transfers and refunds
/// made under the faults (no half-applied transfer, no refund pending or unlike the PSP's, every ledger transaction
/// balanced), no 5xx but 503.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ChaosTests(ChaosCluster chaos, ITestOutputHelper output)
{
    [Theory]
    [InlineData("kill-silo")]
    [InlineData("db-outage")]
    [InlineData("psp-outage")]
    [InlineData("psp-slow")]
    [InlineData("gateway-restart")]
    [InlineData("all")]
    public async Task Every_invariant_holds_after_the_scenario(string scenario)
    {
        var result = await ChaosRunner.RunAsync(chaos.Cluster, Scenarios.Get(scenario, longRun: false), 300, Path.Combine(chaos.Dir, scenario), output.WriteLine, CancellationToken.None);
        output.WriteLine(ChaosRunner.Table([result]));
        Assert.True(result.Acknowledged > 1000, $"the scenario ran under load ({result.Acknowledged} acknowledged)");
        Assert.True(result.Transfers > 100, $"transfers ran under the faults ({result.Transfers} succeeded)");
        Assert.True(result.Refunds > 50, $"refunds ran under the faults ({result.Refunds} succeeded)");
        Assert.True(result.Passed, ChaosRunner.Summary(result) + "\n" + string.Join("\n", result.Notes.Take(20)));
    }

    /// <summary>LoadGen sends transfers only, a fifth of them to one hot merchant, at 500/s, and a silo is killed with
    /// SIGKILL among them: afterwards money is conserved, no transfer is half-applied (every one pending at the kill was
    /// finished by its caller's retry or the sweeper), and every transfer LoadGen got a 201 for is in the ledger.</summary>
    [Fact]
    public async Task Transfers_at_500_per_second_through_a_kill_9_of_a_silo_conserve_money_and_keep_every_acknowledged_one()
    {
        var result = await ChaosRunner.RunAsync(chaos.Cluster, Scenarios.Get("kill-silo-transfers", longRun: false), 500,
            Path.Combine(chaos.Dir, "kill-silo-transfers"), output.WriteLine, CancellationToken.None);
        output.WriteLine(ChaosRunner.Table([result]));
        Assert.True(result.Transfers > 5000, $"transfers ran at rate through the kill ({result.Transfers} succeeded)");
        Assert.True(result.Passed, ChaosRunner.Summary(result) + "\n" + string.Join("\n", result.Notes.Take(20)));
    }
}
