using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace FinCore.LoadGen.Metrics;

/// <summary>
/// The non-empty buckets of a histogram in HdrHistogram's compressed V2 encoding, read straight from the bytes: each as
/// (a value in the bucket, its count). A coordinator adds a few hundred of these per agent-second into its own
/// histograms, where decoding through HdrHistogram would build a full-range histogram (~23,500 buckets, ~190 KiB on the
/// large-object heap) per second, agent and figure, and then walk every one of its buckets to add it.
/// </summary>
/// <remarks>
/// The format (HdrHistogram's "V2" encoding, the same in every port): the compressed form is a cookie and a length
/// (big-endian ints), then a zlib stream holding the plain form. The plain form is a 40-byte header (cookie, payload
/// length, normalizing index offset, significant digits as ints; lowest discernible and highest trackable value as
/// longs; a double) and a payload of ZigZag LEB128 longs (at most 9 bytes, the ninth carrying 8 bits) over the counts
/// array in index order: a positive value is the next index's count, a negative one −n skips n empty indices.
/// </remarks>
internal readonly struct HdrCounts(long[] values, long[] counts, int length)
{
    private const int CompressedCookie = 0x1c849304;
    private const int PlainCookie = 0x1c849303;
    private const int PlainHeaderBytes = 40;

    public int Length => length;

    public long ValueAt(int i) => values[i];

    public long CountAt(int i) => counts[i];

    /// <summary>Reads <paramref name="base64"/>, HdrHistogram's compressed encoding in base64.</summary>
    /// <exception cref="FormatException">It is not that encoding, or it is cut short.</exception>
    public static HdrCounts Read(string base64)
    {
        var compressed = Convert.FromBase64String(base64);
        if (compressed.Length < 8 || (BinaryPrimitives.ReadInt32BigEndian(compressed) & ~0xF0) != (CompressedCookie & ~0xF0))
        {
            throw new FormatException("not an HdrHistogram compressed V2 encoding");
        }

        var zlibLength = BinaryPrimitives.ReadInt32BigEndian(compressed.AsSpan(4));
        if (zlibLength < 0 || zlibLength > compressed.Length - 8)
        {
            throw new FormatException("the compressed length runs past the data");
        }

        var plain = new ArrayBufferWriter<byte>(4096);
        using (var zlib = new ZLibStream(new MemoryStream(compressed, 8, zlibLength), CompressionMode.Decompress))
        {
            int read;
            while ((read = zlib.Read(plain.GetSpan(4096))) > 0)
            {
                plain.Advance(read);
            }
        }

        return ReadPlain(plain.WrittenSpan);
    }

    private static HdrCounts ReadPlain(ReadOnlySpan<byte> plain)
    {
        if (plain.Length < PlainHeaderBytes || (BinaryPrimitives.ReadInt32BigEndian(plain) & ~0xF0) != (PlainCookie & ~0xF0))
        {
            throw new FormatException("not an HdrHistogram V2 encoding");
        }

        var payloadLength = BinaryPrimitives.ReadInt32BigEndian(plain[4..]);
        var digits = BinaryPrimitives.ReadInt32BigEndian(plain[12..]);
        var lowest = BinaryPrimitives.ReadInt64BigEndian(plain[16..]);
        if (payloadLength < 0 || payloadLength > plain.Length - PlainHeaderBytes || digits is < 0 or > 5 || lowest < 1)
        {
            throw new FormatException("an HdrHistogram header out of range");
        }

        // Bucket layout, as HdrHistogram derives it: values below 2·10^digits have unit resolution; every further
        // power of two halves it, with half as many sub-buckets per bucket as the first one has.
        var unitMagnitude = 63 - (int)long.LeadingZeroCount(lowest);
        var subBucketCountMagnitude = (int)Math.Ceiling(Math.Log2(2 * Math.Pow(10, digits)));
        var halfMagnitude = Math.Max(subBucketCountMagnitude, 1) - 1;
        var halfCount = 1 << halfMagnitude;

        var payload = plain.Slice(PlainHeaderBytes, payloadLength);
        var values = new List<long>();
        var counts = new List<long>();
        var index = 0;
        var at = 0;
        while (at < payload.Length)
        {
            var word = ReadZigZag(payload, ref at);
            if (word < 0)
            {
                index += (int)Math.Min(-word, int.MaxValue - index);
                continue;
            }

            if (word > 0)
            {
                var bucket = (index >> halfMagnitude) - 1;
                var sub = (index & (halfCount - 1)) + halfCount;
                if (bucket < 0)
                {
                    sub -= halfCount;
                    bucket = 0;
                }

                values.Add((long)sub << (bucket + unitMagnitude));
                counts.Add(word);
            }

            index++;
        }

        return new HdrCounts([.. values], [.. counts], values.Count);
    }

    private static long ReadZigZag(ReadOnlySpan<byte> data, ref int at)
    {
        ulong raw = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (at >= data.Length)
            {
                throw new FormatException("an HdrHistogram payload cut short");
            }

            ulong b = data[at++];
            if (shift == 56)
            {
                raw |= b << 56;
                break;
            }

            raw |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }
}
