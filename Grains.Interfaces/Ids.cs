using System.Security.Cryptography;
using System.Text;

namespace FinCore.Grains;

/// <summary>Opaque prefixed ids (<c>ch_…</c>, <c>ten_…</c>, <c>evt_…</c>, <c>key_…</c>) in base62.</summary>
public static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string New(string prefix, int bytes = 16) => prefix + Base62(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>The charge id for an Idempotency-Key: the same (tenant, key) always gives the same charge.</summary>
    public static string ChargeIdFor(string tenantId, string idempotencyKey) =>
        "ch_" + Base62(SHA256.HashData(Encoding.UTF8.GetBytes(tenantId + "\n" + idempotencyKey)).AsSpan(0, 16));

    /// <summary>The grain key of a tenant's charge.</summary>
    public static string ChargeKey(string tenantId, string chargeId) => tenantId + "/" + chargeId;

    public static string Base62(ReadOnlySpan<byte> bytes)
    {
        var value = new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var sb = new StringBuilder();
        while (value > 0)
        {
            value = System.Numerics.BigInteger.DivRem(value, 62, out var rem);
            sb.Insert(0, Alphabet[(int)rem]);
        }

        var length = (int)Math.Ceiling(bytes.Length * 8 / Math.Log2(62));
        return sb.ToString().PadLeft(length, '0');
    }

    public static bool IsWellFormed(string? id, string prefix) =>
        id is not null && id.Length > prefix.Length && id.Length <= 64 && id.StartsWith(prefix, StringComparison.Ordinal) &&
        id.AsSpan(prefix.Length).IndexOfAnyExcept(Alphabet) < 0;
}
