using FinCore.Grains;

namespace FinCore.Tests.Payments;

/// <summary>Charge ids are derived from (tenant, Idempotency-Key): if their encoding changed, a client's retry after
/// an upgrade would create a second charge. The values below are what every build so far has produced.</summary>
public sealed class IdsTests
{
    [Fact]
    public void A_charge_id_for_a_tenant_and_key_is_what_earlier_builds_derived()
    {
        Assert.Equal("ch_671V29oiUAMFoQ7nwbg9wF", Ids.ChargeIdFor("ten_A", "order-42"));
        Assert.Equal(Ids.ChargeIdFor("ten_A", "order-42"), Ids.ChargeIdFor("ten_A", "order-42"));
        Assert.NotEqual(Ids.ChargeIdFor("ten_A", "order-42"), Ids.ChargeIdFor("ten_B", "order-42"));
    }

    [Theory]
    [InlineData("00000000000000000000000000000000", "0000000000000000000000")]
    [InlineData("ffffffffffffffffffffffffffffffff", "7n42DGM5Tflk9n8mt7Fhc7")]
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1")]
    [InlineData("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", "0Eoh211G4c8wtVWM00my5rsNSFlKgaWqQ4mb8gdEqno")]
    [InlineData("01", "01")]
    [InlineData("00000007", "000007")]
    public void Base62_is_the_big_endian_number_padded_to_the_length_of_the_largest(string hex, string expected) =>
        Assert.Equal(expected, Ids.Base62(Convert.FromHexString(hex)));

    [Fact]
    public void New_ids_are_well_formed_and_distinct()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => Ids.New("evt_")).ToList();
        Assert.All(ids, id => Assert.True(Ids.IsWellFormed(id, "evt_") && id.Length == 4 + 22, id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
