using System.IO.Pipelines;
using FinCore.Runtime.Transport;

namespace FinCore.Tests.Runtime;

public sealed class HandshakeTests
{
    private static (IDuplexPipe Client, IDuplexPipe Server) Connected()
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        return (new Duplex(toClient.Reader, toServer.Writer), new Duplex(toServer.Reader, toClient.Writer));
    }

    [Fact]
    public async Task Both_sides_holding_the_secret_complete_the_handshake()
    {
        var (client, server) = Connected();
        var secret = "a-cluster-secret-of-some-length"u8.ToArray();
        var serverSide = Handshake.ServerAsync(server, "c1", secret, "silo-1", CancellationToken.None);
        var serverId = await Handshake.ClientAsync(client, "c1", secret, "gateway", CancellationToken.None);
        Assert.Equal("silo-1", serverId);
        Assert.Equal("gateway", await serverSide);
    }

    [Fact]
    public async Task A_client_without_the_secret_is_refused()
    {
        var (client, server) = Connected();
        var serverSide = Handshake.ServerAsync(server, "c1", "the-real-secret-0123456789"u8.ToArray(), "silo-1", CancellationToken.None);
        // The impostor cannot verify the server's proof either, so it fails first; the server never accepts it.
        await Assert.ThrowsAsync<HandshakeException>(() =>
            Handshake.ClientAsync(client, "c1", "a-guessed-secret-0123456789"u8.ToArray(), "impostor", CancellationToken.None));
        await client.Output.CompleteAsync();
        await Assert.ThrowsAsync<HandshakeException>(() => serverSide);
    }

    [Fact]
    public async Task Another_cluster_is_refused()
    {
        var (client, server) = Connected();
        var secret = "a-cluster-secret-of-some-length"u8.ToArray();
        var serverSide = Handshake.ServerAsync(server, "c1", secret, "silo-1", CancellationToken.None);
        var clientSide = Handshake.ClientAsync(client, "c2", secret, "gateway", CancellationToken.None);
        await Assert.ThrowsAsync<HandshakeException>(() => serverSide);
        await server.Output.CompleteAsync();
        await Assert.ThrowsAsync<HandshakeException>(() => clientSide);
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
