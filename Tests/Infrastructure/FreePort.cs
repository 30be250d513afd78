using System.Net;
using System.Net.Sockets;

namespace FinCore.Tests.Infrastructure;

internal static class FreePort
{
    private static int s_next = 20000 + Environment.ProcessId % 20000;

    /// <summary>A run of <paramref name="count"/> consecutive free ports, above the range <see cref="Next"/> hands out
    /// (for programs such as ops/up that derive their ports from a base).</summary>
    public static int Block(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var start = 60100 + (Environment.ProcessId * 7 + attempt * 53) % 50 * 100;
            if (Enumerable.Range(start, count).All(IsFree))
            {
                return start;
            }
        }

        throw new InvalidOperationException("No free block of ports above 60100.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

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
