using System.Collections.Immutable;
using System.Text;
using FinCore.Runtime;
using FinCore.Runtime.Internal;

namespace FinCore.Tests.Runtime;

public sealed class StableHashTests
{
    [Theory]
    [InlineData("", 0x02CC5D05u)]
    [InlineData("a", 0x550D7456u)]
    [InlineData("abc", 0x32D153FFu)]
    [InlineData("Nobody inspects the spammish repetition", 0xE2293B2Fu)]
    public void Matches_published_xxhash32_vectors(string input, uint expected) =>
        Assert.Equal(expected, StableHash.Compute(Encoding.UTF8.GetBytes(input)));

    [Fact]
    public void Grain_hash_is_the_hash_of_type_slash_key_and_handles_long_keys()
    {
        var key = new string('k', 2000) + "é";
        Assert.Equal(StableHash.Compute(Encoding.UTF8.GetBytes("Charge/" + key)), new GrainId("Charge", key).GetUniformHashCode());
    }
}

[GrainType("test-anchor")]
public interface IPlacementAnchorGrain : IGrainWithStringKey;

[GrainType("test-placed", PlaceWith = "test-anchor")]
public interface IPlacedWithAnchorGrain : IGrainWithStringKey;

public sealed class PlacementGroupTests
{
    [Fact]
    public void A_type_placed_with_another_lands_on_the_same_silo_for_every_key_and_other_types_do_not()
    {
        var registry = new FinCore.Runtime.Invocation.GrainInterfaceRegistry();
        registry.Register(typeof(IPlacementAnchorGrain));
        registry.Register(typeof(IPlacedWithAnchorGrain));
        var ring = new FinCore.Runtime.Membership.MembershipView(1, Enumerable.Range(0, 3).Select(i => new FinCore.Runtime.Membership.SiloInfo(
            $"127.0.0.1:{11111 + i}@1", "127.0.0.1", 11111 + i, null, FinCore.Runtime.Membership.SiloStatus.Active,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, TimeSpan.Zero)).ToImmutableArray()).Ring;

        var keys = Enumerable.Range(0, 1000).Select(i => $"ten_1/ch_{i}").ToArray();
        Assert.All(keys, k => Assert.Equal(
            ring.Owner(new GrainId("test-anchor", k))!.SiloId, ring.Owner(new GrainId("test-placed", k))!.SiloId));

        // Unrelated types spread independently: about a third of the keys land elsewhere with three silos.
        var apart = keys.Count(k => ring.Owner(new GrainId("test-anchor", k))!.SiloId != ring.Owner(new GrainId("test-unrelated", k))!.SiloId);
        Assert.InRange(apart, 500, 840);
    }
}
