using FinCore.Runtime.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Hosting;

/// <summary>Kestrel's accept loop and pipes carry the silo port; this handler runs the cluster protocol on each connection.</summary>
internal sealed class SiloConnectionHandler(SiloHost host, ILogger<SiloConnectionHandler> logger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, host.ConnectionsClosing);
        await new ServerConnection(connection.Transport, host.Settings, host.Dispatcher, logger,
            connection.RemoteEndPoint?.ToString() ?? "unknown").RunAsync(closing.Token);
    }
}
