using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;

namespace FinCore.Runtime.Transport;

/// <summary>Mutual challenge-response on the cluster secret: each side proves it holds the secret with an
/// HMAC over both nonces, so the secret never crosses the wire and a replayed exchange is useless.</summary>
internal static class Handshake
{
    private const string Magic = "fincore-cluster/1";
    private const int NonceSize = 16;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>Client side. Returns the server's silo id.</summary>
    public static async Task<string> ClientAsync(IDuplexPipe pipe, string clusterId, byte[] secret, string clientId, CancellationToken ct)
    {
        var clientNonce = RandomNumberGenerator.GetBytes(NonceSize);
        using (var w = new PooledBufferWriter())
        {
            Frame.Begin(w, FrameType.Hello, 0);
            Frame.WriteString(w, Magic);
            Frame.WriteString(w, clusterId);
            Frame.WriteString(w, clientId);
            w.Write(clientNonce);
            Frame.End(w);
            await pipe.Output.WriteAsync(w.WrittenMemory, ct);
        }

        var (type, body) = await ReadFrameAsync(pipe.Input, ct);
        if (type != FrameType.Challenge)
        {
            throw new HandshakeException("The server did not answer the handshake.");
        }

        var (serverId, serverNonce, serverProof) = ParseChallenge(body);
        if (!CryptographicOperations.FixedTimeEquals(serverProof, Prove(secret, "server", clientNonce, serverNonce, clusterId)))
        {
            throw new HandshakeException("The server does not hold the cluster secret.");
        }

        using (var w = new PooledBufferWriter())
        {
            Frame.Begin(w, FrameType.Proof, 0);
            w.Write(Prove(secret, "client", serverNonce, clientNonce, clusterId));
            Frame.End(w);
            await pipe.Output.WriteAsync(w.WrittenMemory, ct);
        }

        (type, _) = await ReadFrameAsync(pipe.Input, ct);
        if (type != FrameType.Accept)
        {
            throw new HandshakeException("The server refused the handshake.");
        }

        return serverId;
    }

    /// <summary>Server side. Returns the client's id, or throws <see cref="HandshakeException"/>.</summary>
    public static async Task<string> ServerAsync(IDuplexPipe pipe, string clusterId, byte[] secret, string serverId, CancellationToken ct)
    {
        var (type, body) = await ReadFrameAsync(pipe.Input, ct);
        if (type != FrameType.Hello)
        {
            throw new HandshakeException("The first frame was not a hello.");
        }

        string magic, peerCluster, clientId;
        byte[] clientNonce;
        try
        {
            var r = new FrameReader(body);
            magic = r.ReadString();
            peerCluster = r.ReadString();
            clientId = r.ReadString();
            clientNonce = r.ReadBytes(NonceSize).ToArray();
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new HandshakeException("Malformed hello.");
        }

        if (magic != Magic || peerCluster != clusterId)
        {
            throw new HandshakeException($"Hello for another protocol or cluster ('{peerCluster}').");
        }

        var serverNonce = RandomNumberGenerator.GetBytes(NonceSize);
        using (var w = new PooledBufferWriter())
        {
            Frame.Begin(w, FrameType.Challenge, 0);
            Frame.WriteString(w, serverId);
            w.Write(serverNonce);
            w.Write(Prove(secret, "server", clientNonce, serverNonce, clusterId));
            Frame.End(w);
            await pipe.Output.WriteAsync(w.WrittenMemory, ct);
        }

        (type, body) = await ReadFrameAsync(pipe.Input, ct);
        if (type != FrameType.Proof || body.Length != 32 ||
            !CryptographicOperations.FixedTimeEquals(body, Prove(secret, "client", serverNonce, clientNonce, clusterId)))
        {
            throw new HandshakeException($"Client '{clientId}' did not prove the cluster secret.");
        }

        using (var w = new PooledBufferWriter())
        {
            Frame.Begin(w, FrameType.Accept, 0);
            Frame.End(w);
            await pipe.Output.WriteAsync(w.WrittenMemory, ct);
        }

        return clientId;
    }

    private static (string ServerId, byte[] Nonce, byte[] Proof) ParseChallenge(byte[] body)
    {
        try
        {
            var r = new FrameReader(body);
            return (r.ReadString(), r.ReadBytes(NonceSize).ToArray(), r.ReadBytes(32).ToArray());
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new HandshakeException("Malformed challenge.");
        }
    }

    private static byte[] Prove(byte[] secret, string role, byte[] nonceA, byte[] nonceB, string clusterId)
    {
        var data = new byte[role.Length + nonceA.Length + nonceB.Length + Encoding.UTF8.GetByteCount(clusterId)];
        var n = Encoding.UTF8.GetBytes(role, data);
        nonceA.CopyTo(data, n);
        nonceB.CopyTo(data, n + nonceA.Length);
        Encoding.UTF8.GetBytes(clusterId, data.AsSpan(n + nonceA.Length + nonceB.Length));
        return HMACSHA256.HashData(secret, data);
    }

    private static async Task<(FrameType Type, byte[] Body)> ReadFrameAsync(PipeReader reader, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            bool complete;
            FrameType type;
            ReadOnlySequence<byte> body;
            try
            {
                complete = Frame.TryRead(ref buffer, out type, out _, out body);
            }
            catch (InvalidDataException e)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw new HandshakeException(e.Message);
            }

            if (complete)
            {
                var copy = body.Length <= 4096 ? body.ToArray() : null;
                reader.AdvanceTo(buffer.Start);
                return copy is null ? throw new HandshakeException("Oversized handshake frame.") : (type, copy);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);

            if (result.IsCompleted)
            {
                throw new HandshakeException("The connection closed during the handshake.");
            }
        }
    }
}

/// <summary>The peer failed the cluster handshake.</summary>
internal sealed class HandshakeException(string message) : Exception(message);
