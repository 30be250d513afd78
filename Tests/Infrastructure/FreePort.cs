using System.Net;
using System.Net.Sockets;

namespace FinCore.Tests.Infrastructure;

internal static class FreePort
{
    private static int s_next = 20000 + Environment.ProcessId % 20000;

    /// <summary>A loopback port nothing listens on now. Walks a per-process range so two processes rarely collide.</summary>
    public static int Next()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref s_next);
            if (port > 60000)
            {
                Interlocked.Exchange(ref s_next, 20000);
                continue;
            }

            try
            {
                using var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken
            }
        }
    }
}
