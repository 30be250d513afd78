using System.Net;
using System.Net.Sockets;

namespace FinCore.Chaos;

/// <summary>Ports for the processes tests start, all outside the kernel's ephemeral range: a port picked inside it can
/// be taken by any outgoing connection (to PostgreSQL, between silos) before the process that was given it binds.</summary>
internal static class FreePort
{
    private static readonly (int Low, int High) s_ephemeral = EphemeralRange();
    private const int First = 10000;
    private static readonly int s_last = Math.Max(First + 1000, s_ephemeral.Low - 1);
    private static int s_next = First + Environment.ProcessId % (s_last - First);

    private static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32768, 60999); // Linux's default
        }
    }

    /// <summary>A run of <paramref name="count"/> consecutive free ports above the ephemeral range (for programs such
    /// as ops/up that derive their ports from a base).</summary>
    public static int Block(int count)
    {
        var first = s_ephemeral.High + 1;
        var blocks = (65535 - first) / 100;
        for (var attempt = 0; attempt < 200 && blocks > 0; attempt++)
        {
            var start = first + (Environment.ProcessId * 7 + attempt * 53) % blocks * 100;
            if (start + count <= 65536 && Enumerable.Range(start, count).All(IsFree))
            {
                return start;
            }
        }

        throw new InvalidOperationException($"No free block of {count} ports above {s_ephemeral.High}.");
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

    /// <summary>A loopback port nothing listens on now, below the ephemeral range. Starts at a per-process point so two
    /// processes rarely collide.</summary>
    public static int Next()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref s_next);
            if (port > s_last)
            {
                Interlocked.Exchange(ref s_next, First);
                continue;
            }

            if (IsFree(port))
            {
                return port;
            }
        }
    }
}
