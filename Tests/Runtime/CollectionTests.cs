using FinCore.TestGrains;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Runtime;

[Collection(ClusterCollection.Name)]
public sealed class CollectionTests(PostgresServer postgres)
{
    [Fact]
    public async Task Idle_activations_are_collected_after_their_types_age_and_never_while_in_use()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 1, env: new Dictionary<string, string>
        {
            ["Activation__CollectionQuantum"] = "00:00:01",
            ["Activation__CollectionAgeByType__Configured"] = "00:00:02",
        });
        var brief = cluster.Client.GetGrain<IBriefGrain>("collect/1");
        var configured = cluster.Client.GetGrain<IConfiguredGrain>("collect/1");
        var lasting = cluster.Client.GetGrain<ILastingGrain>("collect/1");
        var (briefFirst, configuredFirst, lastingFirst) = (await brief.Instance(), await configured.Instance(), await lasting.Instance());

        // In use (a call every 300 ms for 5 s, longer than the 2 s age): the same activation answers throughout.
        for (var i = 0; i < 17; i++)
        {
            await Task.Delay(300);
            Assert.Equal(briefFirst, await brief.Instance());
            Assert.Equal(configuredFirst, await configured.Instance());
        }

        // Left alone for longer than 2 s (+ a collection quantum): both are collected, and a call starts a new activation.
        Assert.True(await CollectedAsync(brief.Instance, briefFirst), "the [CollectionAgeLimit(2)] grain was not collected");
        Assert.True(await CollectedAsync(configured.Instance, configuredFirst), "the grain type configured with 2 s was not collected");

        // The silo's own age (5 minutes) still holds for every other type.
        Assert.Equal(lastingFirst, await lasting.Instance());
    }

    /// <summary>Leaves the grain alone 4 s at a time (a call would keep it in use), up to five times, until another
    /// activation answers.</summary>
    private static async Task<bool> CollectedAsync(Func<Task<Guid>> instance, Guid first)
    {
        for (var round = 0; round < 5; round++)
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            if (await instance() != first)
            {
                return true;
            }
        }

        return false;
    }
}
