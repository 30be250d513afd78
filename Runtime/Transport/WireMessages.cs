using System.Buffers;

namespace FinCore.Runtime.Transport;

/// <summary>A grain call as it arrives at a silo. The body is kept whole so it can be forwarded unchanged.</summary>
internal sealed class WireRequest
{
    public required long Id { get; init; }
    public required long Version { get; init; }
    public required byte Hops { get; init; }
    public required int TimeoutMs { get; init; }
    public required GrainId Grain { get; init; }
    public required int MethodId { get; init; }
    public required string TraceParent { get; init; }
    public required byte[] Body { get; init; }
    public required int ArgsOffset { get; init; }
    public required int ArgsLength { get; init; }

    public ReadOnlySpan<byte> Args => Body.AsSpan(ArgsOffset, ArgsLength);

    public static void Write(PooledBufferWriter w, long id, long version, byte hops, int timeoutMs, GrainId grain,
        int methodId, string? traceParent, ReadOnlySpan<byte> args)
    {
        Frame.Begin(w, FrameType.Request, id);
        Frame.WriteInt64(w, version);
        Frame.WriteByte(w, hops);
        Frame.WriteInt32(w, timeoutMs);
        Frame.WriteString(w, grain.Type);
        Frame.WriteString(w, grain.Key);
        Frame.WriteInt32(w, methodId);
        Frame.WriteString(w, traceParent);
        w.Write(args);
        Frame.End(w);
    }

    public static WireRequest Parse(long id, byte[] body)
    {
        var r = new FrameReader(body);
        var version = r.ReadInt64();
        var hops = r.ReadByte();
        var timeout = r.ReadInt32();
        var type = r.ReadString();
        var key = r.ReadString();
        var method = r.ReadInt32();
        var trace = r.ReadString();
        return new WireRequest
        {
            Id = id, Version = version, Hops = hops, TimeoutMs = timeout, Grain = new GrainId(type, key),
            MethodId = method, TraceParent = trace, Body = body, ArgsOffset = r.Position, ArgsLength = body.Length - r.Position,
        };
    }
}

/// <summary>A call's outcome as it travels back.</summary>
internal readonly record struct WireResponse(ResponseStatus Status, long Version, byte[] Payload)
{
    public static void Write(PooledBufferWriter w, long id, ResponseStatus status, long version, ReadOnlySpan<byte> payload)
    {
        Frame.Begin(w, FrameType.Response, id);
        Frame.WriteByte(w, (byte)status);
        Frame.WriteInt64(w, version);
        w.Write(payload);
        Frame.End(w);
    }

    public static WireResponse Parse(ReadOnlySequence<byte> body)
    {
        Span<byte> head = stackalloc byte[9];
        body.Slice(0, 9).CopyTo(head);
        var r = new FrameReader(head);
        var status = (ResponseStatus)r.ReadByte();
        var version = r.ReadInt64();
        return new WireResponse(status, version, body.Slice(9).ToArray());
    }
}
