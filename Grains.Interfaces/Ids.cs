using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FinCore.Grains;

/// <summary>Opaque prefixed ids (<c>ch_…</c>, <c>ten_…</c>, <c>evt_…</c>, <c>key_…</c>) in base62.</summary>
public static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>62^10, the largest power of 62 below 2^63: a 16-byte number splits into three parts of at most ten
    /// base62 digits each, so all but two divisions are of 64-bit numbers.</summary>
    private const ulong Base62Pow10 = 839_299_365_868_340_224;

    private const int RandomBufferSize = 512;

    // Random bytes are drawn from the operating system's generator a buffer at a time: each draw is a call into
    // OpenSSL (which checks for a fork with getpid), and a silo draws three ids per charge. They are the same
    // cryptographically secure bytes, fetched in bulk; each is handed out once. API keys do not come from here.
    [ThreadStatic] private static byte[]? t_random;
    [ThreadStatic] private static int t_randomUsed;

    public static string New(string prefix, int bytes = 16)
    {
        Span<byte> random = bytes <= 128 ? stackalloc byte[bytes] : new byte[bytes];
        FillRandom(random);
        return prefix + Base62(random);
    }

    private static void FillRandom(Span<byte> destination)
    {
        if (destination.Length > RandomBufferSize / 4)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }

        var buffer = t_random;
        if (buffer is null || t_randomUsed + destination.Length > buffer.Length)
        {
            buffer = t_random ??= new byte[RandomBufferSize];
            RandomNumberGenerator.Fill(buffer);
            t_randomUsed = 0;
        }

        buffer.AsSpan(t_randomUsed, destination.Length).CopyTo(destination);
        t_randomUsed += destination.Length;
    }

    /// <summary>The charge id for an Idempotency-Key: the same (tenant, key) always gives the same charge.</summary>
    public static string ChargeIdFor(string tenantId, string idempotencyKey) =>
        "ch_" + Base62(SHA256.HashData(Encoding.UTF8.GetBytes(tenantId + "\n" + idempotencyKey)).AsSpan(0, 16));

    /// <summary>The id an Idempotency-Key gives an object of a kind (<paramref name="prefix"/>: <c>cus_</c>, <c>acct_</c>,
    /// <c>tr_</c>): the same (tenant, key) always gives the same id, and different kinds never share one.</summary>
    public static string IdFor(string prefix, string tenantId, string idempotencyKey) =>
        prefix + Base62(SHA256.HashData(Encoding.UTF8.GetBytes(prefix + "\n" + tenantId + "\n" + idempotencyKey)).AsSpan(0, 16));

    /// <summary>The grain key of a tenant's object (customer, account): <c>{tenant}/{id}</c>.</summary>
    public static string Key(string tenantId, string id) => tenantId + "/" + id;

    /// <summary>The grain key of a tenant's charge.</summary>
    public static string ChargeKey(string tenantId, string chargeId) => tenantId + "/" + chargeId;

    /// <summary>The bytes as one big-endian unsigned number in base62, left-padded with <c>0</c> to the length the
    /// largest number of that many bytes needs (16 bytes: 22 characters). Charge ids are derived with it, so its output
    /// must never change.</summary>
    public static string Base62(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 16)
        {
            return Base62Of128(BinaryPrimitives.ReadUInt128BigEndian(bytes));
        }

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

    /// <summary><see cref="Base62"/> of 16 bytes (every id and charge id): the same 22 digits, by two 128-bit
    /// divisions and 64-bit arithmetic instead of 22 passes of long division over the bytes.</summary>
    private static string Base62Of128(UInt128 number)
    {
        const int Length = 22;
        Span<char> chars = stackalloc char[Length];
        var (high, low) = UInt128.DivRem(number, Base62Pow10);
        var (top, middle) = UInt128.DivRem(high, Base62Pow10);
        WriteDigits(chars[12..], (ulong)low, 10);
        WriteDigits(chars[2..12], (ulong)middle, 10);
        WriteDigits(chars[..2], (ulong)top, 2); // 2^128 < 62^22: what is left is below 62^2
        return new string(chars);
    }

    private static void WriteDigits(Span<char> chars, ulong value, int count)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            (value, var digit) = Math.DivRem(value, 62UL);
            chars[i] = Alphabet[(int)digit];
        }
    }

    public static bool IsWellFormed(string? id, string prefix) =>
        id is not null && id.Length > prefix.Length && id.Length <= 64 && id.StartsWith(prefix, StringComparison.Ordinal) &&
        id.AsSpan(prefix.Length).IndexOfAnyExcept(Alphabet) < 0;
}
