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
