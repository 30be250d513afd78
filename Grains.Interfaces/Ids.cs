using System.Security.Cryptography;
using System.Text;

namespace FinCore.Grains;

/// <summary>Opaque prefixed ids (<c>ch_…</c>, <c>ten_…</c>, <c>evt_…</c>, <c>key_…</c>) in base62.</summary>
public static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string New(string prefix, int bytes = 16)
    {
        Span<byte> random = bytes <= 128 ? stackalloc byte[bytes] : new byte[bytes];
        RandomNumberGenerator.Fill(random);
        return prefix + Base62(random);
    }

    /// <summary>The charge id for an Idempotency-Key: the same (tenant, key) always gives the same charge.</summary>
    public static string ChargeIdFor(string tenantId, string idempotencyKey) =>
        "ch_" + Base62(SHA256.HashData(Encoding.UTF8.GetBytes(tenantId + "\n" + idempotencyKey)).AsSpan(0, 16));

    /// <summary>The grain key of a tenant's charge.</summary>
    public static string ChargeKey(string tenantId, string chargeId) => tenantId + "/" + chargeId;

    /// <summary>The bytes as one big-endian unsigned number in base62, left-padded with <c>0</c> to the length the
    /// largest number of that many bytes needs (16 bytes: 22 characters). Charge ids are derived with it, so its output
    /// must never change.</summary>
    public static string Base62(ReadOnlySpan<byte> bytes)
    {
        var length = (int)Math.Ceiling(bytes.Length * 8 / Math.Log2(62));
        Span<byte> number = bytes.Length <= 128 ? stackalloc byte[bytes.Length] : new byte[bytes.Length];
        Span<char> chars = length <= 256 ? stackalloc char[length] : new char[length];
        bytes.CopyTo(number);

        // Long division of the base-256 number by 62, one digit per pass, least significant digit first.
        for (var i = length - 1; i >= 0; i--)
        {
            var remainder = 0;
            for (var j = 0; j < number.Length; j++)
            {
                var acc = (remainder << 8) | number[j];
                number[j] = (byte)(acc / 62);
                remainder = acc % 62;
            }

            chars[i] = Alphabet[remainder];
        }

        return new string(chars);
    }

    public static bool IsWellFormed(string? id, string prefix) =>
        id is not null && id.Length > prefix.Length && id.Length <= 64 && id.StartsWith(prefix, StringComparison.Ordinal) &&
        id.AsSpan(prefix.Length).IndexOfAnyExcept(Alphabet) < 0;
}
