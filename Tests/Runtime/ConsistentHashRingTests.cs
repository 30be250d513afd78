using FinCore.Runtime;
using FinCore.Runtime.Membership;

namespace FinCore.Tests.Runtime;

public sealed class ConsistentHashRingTests
{
    private static SiloInfo Silo(string id, SiloStatus status = SiloStatus.Active) =>
        new(id, "127.0.0.1", 1, null, status, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, TimeSpan.Zero);

    private static readonly GrainId[] Grains = Enumerable.Range(0, 30_000).Select(i => new GrainId("Charge", $"ten_1/ch_{i}")).ToArray();

    [Fact]
    public void Every_node_with_the_same_view_computes_the_same_owner_whatever_the_row_order()
    {
        var a = new MembershipView(7, [Silo("s1"), Silo("s2"), Silo("s3")]);
        var b = new MembershipView(7, [Silo("s3"), Silo("s1"), Silo("s2")]);
        Assert.All(Grains, g => Assert.Equal(a.Ring.Owner(g)!.SiloId, b.Ring.Owner(g)!.SiloId));
    }

    [Fact]
    public void Three_silos_share_the_keys_roughly_evenly()
    {
        var view = new MembershipView(1, [Silo("127.0.0.1:11111@1"), Silo("127.0.0.1:11112@1"), Silo("127.0.0.1:11113@1")]);
        var counts = Grains.GroupBy(g => view.Ring.Owner(g)!.SiloId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, Grains.Length / 3 * 0.8, Grains.Length / 3 * 1.2));
    }

    [Fact]
    public void Only_active_silos_own_keys_and_removing_one_moves_only_its_keys()
    {
        var before = new MembershipView(1, [Silo("s1"), Silo("s2"), Silo("s3"), Silo("s4", SiloStatus.Joining)]);
        var after = new MembershipView(2, [Silo("s1"), Silo("s2"), Silo("s3", SiloStatus.Dead), Silo("s4", SiloStatus.Joining)]);
        foreach (var g in Grains)
        {
            var owner = before.Ring.Owner(g)!.SiloId;
            Assert.NotEqual("s4", owner);
            if (owner != "s3")
            {
                Assert.Equal(owner, after.Ring.Owner(g)!.SiloId);
            }
        }
    }

    [Fact]
    public void No_active_silo_means_no_owner() =>
        Assert.Null(new MembershipView(1, [Silo("s1", SiloStatus.ShuttingDown)]).Ring.Owner(Grains[0]));
}
