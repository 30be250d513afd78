using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace FinCore.Runtime.Transport;

/// <summary>The wire format: <c>[int32 body length][byte type][int64 id][body]</c>, little-endian.
/// Strings are <c>[uint16 length][UTF-8]</c>.</summary>
internal static class Frame
{
    public const int HeaderSize = 4 + 1 + 8;
    public const int MaxBodySize = 16 * 1024 * 1024;

    /// <summary>Starts a frame; finish it with <see cref="End"/>.</summary>
    public static void Begin(PooledBufferWriter writer, FrameType type, long id)
    {
        var span = writer.GetSpan(HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(span, 0);
        span[4] = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], id);
        writer.Advance(HeaderSize);
    }

    /// <summary>Writes the body length into a frame begun at offset 0.</summary>
    public static void End(PooledBufferWriter writer) =>
        BinaryPrimitives.WriteInt32LittleEndian(writer.RawBuffer, writer.WrittenCount - HeaderSize);

    public static void WriteByte(PooledBufferWriter w, byte value)
    {
        w.GetSpan(1)[0] = value;
        w.Advance(1);
    }

    public static void WriteInt32(PooledBufferWriter w, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), value);
        w.Advance(4);
    }

    public static void WriteInt64(PooledBufferWriter w, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), value);
        w.Advance(8);
    }

    public static void WriteString(PooledBufferWriter w, string? value)
    {
        value ??= string.Empty;
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        var span = w.GetSpan(2 + max);
        var n = Encoding.UTF8.GetBytes(value, span[2..]);
        if (n > ushort.MaxValue)
        {
            throw new ArgumentException("String too long for the wire format.", nameof(value));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)n);
        w.Advance(2 + n);
    }

    /// <summary>Slices one whole frame off <paramref name="buffer"/>, if one is there.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out FrameType type, out long id, out ReadOnlySequence<byte> body)
    {
        type = default;
        id = 0;
        body = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 0 || length > MaxBodySize)
        {
            throw new InvalidDataException($"Frame body of {length} bytes is out of range.");
        }

        if (buffer.Length < HeaderSize + length)
        {
            return false;
        }

        type = (FrameType)header[4];
        id = BinaryPrimitives.ReadInt64LittleEndian(header[5..]);
        body = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(HeaderSize + length);
        return true;
    }
}

/// <summary>Reads the primitive fields of a frame body in order.</summary>
internal ref struct FrameReader(ReadOnlySpan<byte> span)
{
    private readonly ReadOnlySpan<byte> _span = span;
    private int _pos;

    public readonly ReadOnlySpan<byte> Remaining => _span[_pos..];

    public readonly int Position => _pos;

    public byte ReadByte() => _span[_pos++];

    public int ReadInt32()
    {
        var v = BinaryPrimitives.ReadInt32LittleEndian(_span[_pos..]);
        _pos += 4;
        return v;
    }

    public long ReadInt64()
    {
        var v = BinaryPrimitives.ReadInt64LittleEndian(_span[_pos..]);
        _pos += 8;
        return v;
    }

    public string ReadString()
    {
        int n = BinaryPrimitives.ReadUInt16LittleEndian(_span[_pos..]);
        _pos += 2;
        var s = Encoding.UTF8.GetString(_span.Slice(_pos, n));
        _pos += n;
        return s;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        var s = _span.Slice(_pos, count);
        _pos += count;
        return s;
    }
}
