using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace FinCore.Runtime.Transport;

/// <summary>Frames from many callers written by one loop: everything queued while a flush is in progress
/// goes out in the next write, so busy connections batch their syscalls by themselves.</summary>
internal sealed class OutboundQueue
{
    private const int FlushThreshold = 64 * 1024;
    private readonly Channel<PooledBufferWriter> _channel =
        Channel.CreateUnbounded<PooledBufferWriter>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues a finished frame; the queue disposes it once written. False when the connection is closing.</summary>
    public bool TryEnqueue(PooledBufferWriter frame)
    {
        if (_channel.Writer.TryWrite(frame))
        {
            return true;
        }

        frame.Dispose();
        return false;
    }

    public void Complete() => _channel.Writer.TryComplete();

    public async Task RunAsync(PipeWriter output, CancellationToken ct)
    {
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                while (reader.TryRead(out var frame))
                {
                    output.Write(frame.WrittenSpan);
                    frame.Dispose();
                    if (output.UnflushedBytes >= FlushThreshold)
                    {
                        var r = await output.FlushAsync(ct);
                        if (r.IsCompleted || r.IsCanceled)
                        {
                            return;
                        }
                    }
                }

                var result = await output.FlushAsync(ct);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        finally
        {
            _channel.Writer.TryComplete();
            while (reader.TryRead(out var left))
            {
                left.Dispose();
            }
        }
    }
}
