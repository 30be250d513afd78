using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace FinCore.Runtime.Internal;

/// <summary>xxHash32 (seed 0), written from the published algorithm. Stable across processes and machines,
/// unlike <see cref="string.GetHashCode()"/>: placement depends on every node computing the same value.</summary>
internal static class StableHash
{
    private const uint Prime1 = 2654435761U;
    private const uint Prime2 = 2246822519U;
    private const uint Prime3 = 3266489917U;
    private const uint Prime4 = 668265263U;
    private const uint Prime5 = 374761393U;

    public static uint Compute(string type, string key)
    {
        var length = Encoding.UTF8.GetMaxByteCount(type.Length + key.Length + 1);
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(type, buffer);
            buffer[written++] = (byte)'/';
            written += Encoding.UTF8.GetBytes(key, buffer[written..]);
            return Compute(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static uint Compute(string value)
    {
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            return Compute(buffer[..Encoding.UTF8.GetBytes(value, buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static uint Compute(ReadOnlySpan<byte> data, uint seed = 0)
    {
        var len = (uint)data.Length;
        uint h;
        var i = 0;
        if (data.Length >= 16)
        {
            var v1 = seed + Prime1 + Prime2;
            var v2 = seed + Prime2;
            var v3 = seed;
            var v4 = seed - Prime1;
            for (; i <= data.Length - 16; i += 16)
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt32LittleEndian(data[i..]));
                v2 = Round(v2, BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 8)..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 12)..]));
            }

            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7)
                + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
        }
        else
        {
            h = seed + Prime5;
        }

        h += len;
        for (; i <= data.Length - 4; i += 4)
        {
            h += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) * Prime3;
            h = BitOperations.RotateLeft(h, 17) * Prime4;
        }

        for (; i < data.Length; i++)
        {
            h += data[i] * Prime5;
            h = BitOperations.RotateLeft(h, 11) * Prime1;
        }

        h ^= h >> 15;
        h *= Prime2;
        h ^= h >> 13;
        h *= Prime3;
        h ^= h >> 16;
        return h;
    }

    private static uint Round(uint acc, uint input)
    {
        acc += input * Prime2;
        acc = BitOperations.RotateLeft(acc, 13);
        return acc * Prime1;
    }
}
