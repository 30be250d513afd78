using System.Buffers.Binary;
using System.Threading.Channels;

namespace FinCore.LoadGen.Engine;

/// <summary>Test-only (<c>agent --dump-latencies</c>): every measured latency as a little-endian int64 of µs, written by
/// one background writer, so a test can compute exact percentiles to hold the histograms to.</summary>
internal sealed class LatencyDump : IDisposable
{
    private readonly Channel<long> queue = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task writer;

    public LatencyDump(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true);
        writer = Task.Run(async () =>
        {
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[8];
                await foreach (var v in queue.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    BinaryPrimitives.WriteInt64LittleEndian(buffer, v);
                    await stream.WriteAsync(buffer).ConfigureAwait(false);
                }
            }
        });
    }

    public void Add(long micros) => queue.Writer.TryWrite(micros);

    public void Dispose()
    {
        queue.Writer.TryComplete();
        writer.GetAwaiter().GetResult();
    }
}
