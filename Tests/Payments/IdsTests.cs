using System.Numerics;
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
    [InlineData("0000000000000000000000000000003d", "000000000000000000000z")]
    [InlineData("0000000000000000000000000000003e", "0000000000000000000010")]
    [InlineData("00000000000000000ba5ca5392cb0400", "0000000000010000000000")] // 62^10
    [InlineData("00000000000000000ba5ca5392cb03ff", "000000000000zzzzzzzzzz")]
    [InlineData("0087aac19e40aafc0e20c98f58100000", "0100000000000000000000")] // 62^20
    [InlineData("0087aac19e40aafc0e20c98f580fffff", "00zzzzzzzzzzzzzzzzzzzz")]
    [InlineData("0000000000000000000000000000000001", "00000000000000000000001")] // 17 bytes: the general path
    public void Base62_is_the_big_endian_number_padded_to_the_length_of_the_largest(string hex, string expected) =>
        Assert.Equal(expected, Ids.Base62(Convert.FromHexString(hex)));

    /// <summary>Sixteen bytes (every id) take a shortcut through 128-bit arithmetic; it must agree with the number's
    /// plain base62 digits everywhere, charge ids depend on it.</summary>
    [Fact]
    public void Base62_of_sixteen_bytes_is_the_numbers_base62_digits()
    {
        var random = new Random(62);
        var bytes = new byte[16];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(bytes);
            bytes[0] &= (byte)(0xff >> random.Next(0, 8)); // small numbers too, not only 128-bit ones
            Assert.Equal(Reference(bytes), Ids.Base62(bytes));
        }

        static string Reference(byte[] bytes)
        {
            const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
            var n = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
            var digits = new char[22];
            for (var i = digits.Length - 1; i >= 0; i--)
            {
                digits[i] = Alphabet[(int)(n % 62)];
                n /= 62;
            }

            return new string(digits);
        }
    }

    [Fact]
    public void New_ids_are_well_formed_and_distinct()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => Ids.New("evt_")).ToList();
        Assert.All(ids, id => Assert.True(Ids.IsWellFormed(id, "evt_") && id.Length == 4 + 22, id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
