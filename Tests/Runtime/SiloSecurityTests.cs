using System.Net.Sockets;
using System.Text;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Transport;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Runtime;

[Collection(ClusterCollection.Name)]
public sealed class SiloSecurityTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_connection_without_the_cluster_secret_is_refused_and_garbage_is_dropped()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 1);
        var silo = (await cluster.ViewAsync()).Silos.Single(s => s.Status == SiloStatus.Active);

        var wrong = new TransportSettings(cluster.ClusterId, Encoding.UTF8.GetBytes("not-the-secret-but-long-enough"), "intruder", 10, TimeSpan.FromSeconds(2));
        var refused = await Assert.ThrowsAsync<TransportException>(() => ClientConnection.ConnectAsync(silo, wrong, CancellationToken.None));
        Assert.False(refused.MaybeDelivered);

        var right = wrong with { Secret = Encoding.UTF8.GetBytes(cluster.Secret), LocalId = "member" };
        await using (var ok = await ClientConnection.ConnectAsync(silo, right, CancellationToken.None))
        {
            Assert.Equal(silo.SiloId, await ok.PingAsync(TimeSpan.FromSeconds(2)));
        }

        // Bytes that are not the protocol: the silo closes the connection.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(silo.Address, silo.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read;
        try
        {
            read = await stream.ReadAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
            read = 0;
        }

        Assert.Equal(0, read);
        Assert.Contains("Refused connection", cluster.Logs(), StringComparison.Ordinal);
    }
}
